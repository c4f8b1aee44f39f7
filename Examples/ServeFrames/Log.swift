import Glibc

/// Writes one line to standard error, unbuffered, so scripts waiting for a line see it at once.
func log(_ message: String) {
    let line = "rs-serve-frames: " + message + "\n"
    var bytes = Array(line.utf8)[...]
    while !bytes.isEmpty {
        let n = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { return }
        bytes = bytes.dropFirst(n)
    }
}
