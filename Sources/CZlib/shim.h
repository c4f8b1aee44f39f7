#ifndef RS_CZLIB_SHIM_H
#define RS_CZLIB_SHIM_H
#include <zlib.h>

/* deflateInit2 / inflateInit2 are macros, which Swift cannot call. */
static inline int rs_deflate_init2(z_streamp strm, int level, int windowBits, int memLevel, int strategy) {
    return deflateInit2(strm, level, Z_DEFLATED, windowBits, memLevel, strategy);
}
static inline int rs_inflate_init2(z_streamp strm, int windowBits) {
    return inflateInit2(strm, windowBits);
}
#endif
