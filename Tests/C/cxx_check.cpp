// cxx_check.cpp - remotesupport.h from C++: it must compile cleanly with
//   g++ -std=c++17 -Wall -Wextra -Werror -pedantic -IInclude
// and the handles fit std::unique_ptr with the library's free functions as deleters.
#include "remotesupport.h"

#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace rs {

struct EncoderFree {
    void operator()(rs_encoder *e) const noexcept { rs_encoder_free(e); }
};
struct DecoderFree {
    void operator()(rs_decoder *d) const noexcept { rs_decoder_free(d); }
};
using Encoder = std::unique_ptr<rs_encoder, EncoderFree>;
using Decoder = std::unique_ptr<rs_decoder, DecoderFree>;

[[noreturn]] void fail(int status, const char *message) {
    throw std::runtime_error(std::string(rs_status_name(status)) + ": " + message);
}

Encoder make_encoder(uint32_t w, uint32_t h, const rs_pixel_format &source, const rs_pixel_format &client) {
    rs_encoder_options options = RS_ENCODER_OPTIONS_INIT;
    options.threads = 2;
    rs_encoder *e = nullptr;
    if (int s = rs_encoder_new(w, h, &source, &client, &options, &e)) fail(s, rs_last_error());
    return Encoder(e);
}

Decoder make_decoder(uint32_t w, uint32_t h, const rs_pixel_format &format) {
    rs_decoder *d = nullptr;
    if (int s = rs_decoder_new(w, h, &format, nullptr, &d)) fail(s, rs_last_error());
    return Decoder(d);
}

} // namespace rs

static_assert(sizeof(rs_pixel_format) == 16, "RFB PIXEL_FORMAT");

int main() {
    try {
        rs_pixel_format format{};
        rs_pixel_format_preset(RS_FORMAT_BGRX8888, &format);
        const uint32_t w = 96, h = 64;
        auto encoder = rs::make_encoder(w, h, format, format);
        auto decoder = rs::make_decoder(w, h, format);
        const int32_t encodings[] = {RS_ENCODING_ZRLE, RS_ENCODING_COPYRECT};
        rs_encoder_set_encodings(encoder.get(), encodings, 2);

        std::vector<uint8_t> frame(size_t{w} * h * 4);
        for (size_t i = 0; i < frame.size(); i++) frame[i] = (i % 4 == 3) ? 0 : static_cast<uint8_t>(i * 7 / 5);
        const uint8_t *message = nullptr;
        size_t length = 0;
        if (int s = rs_encoder_encode(encoder.get(), frame.data(), frame.size(), size_t{w} * 4, 0, nullptr, &message, &length))
            rs::fail(s, rs_encoder_errmsg(encoder.get()));
        if (int s = rs_decoder_apply(decoder.get(), message, length, nullptr)) rs::fail(s, rs_decoder_errmsg(decoder.get()));
        std::vector<uint8_t> out(frame.size());
        if (int s = rs_decoder_copy_pixels(decoder.get(), out.data(), out.size(), size_t{w} * 4))
            rs::fail(s, rs_decoder_errmsg(decoder.get()));
        const bool same = out == frame;
        std::printf("%d passed, %d failed\n", same ? 1 : 0, same ? 0 : 1);
        return same ? 0 : 1;
    } catch (const std::exception &e) {
        std::printf("error: %s\n0 passed, 1 failed\n", e.what());
        return 1;
    }
}
