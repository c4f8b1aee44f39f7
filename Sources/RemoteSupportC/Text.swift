import CRemoteSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Text from and to the caller

/// The most bytes read from a caller's string (the header's cap): longer text is an error, and no byte
/// past `maximumTextBytes + 1` is read even if the caller forgot the NUL within reach.
let maximumTextBytes = 65536

/// A caller's NUL-terminated UTF-8 string. NULL is `RS_ERR_NULL_POINTER`; text that is too long or not
/// UTF-8 is `status` (what the function answers for any other bad value of that parameter).
func readText(_ pointer: UnsafePointer<CChar>?, _ name: String, invalid status: Int32,
              maxBytes: Int = maximumTextBytes) throws(CallError) -> String {
    guard let pointer else { throw .null(name) }
    let length = strnlen(pointer, maxBytes + 1)
    guard length <= maxBytes else {
        throw CallError(status, "\(name) is longer than \(maxBytes) bytes")
    }
    let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self), count: length)
    guard let text = String(validating: bytes, as: UTF8.self) else {
        throw CallError(status, "\(name) is not valid UTF-8")
    }
    return text
}

/// A `malloc`ed copy of `text` (freed with `free`, i.e. `rs_string_free` or the owning handle's deinit).
/// The texts copied here come from the core's validated values, which hold no NUL.
func duplicate(_ text: String) -> UnsafeMutablePointer<CChar> {
    guard let copy = strdup(text) else { fatalError("out of memory") }  // the header: running out of memory aborts
    return copy
}

