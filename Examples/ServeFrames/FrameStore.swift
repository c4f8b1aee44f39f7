import Glibc
import RemoteSupportCore

/// The frames being served, decoded once at start-up and shared read-only by every connection.
final class FrameStore: Sendable {
    /// The format frames are kept in and announced in ServerInit: 32-bit little-endian 0x00RRGGBB,
    /// the layout X11 desktops use.
    static let format = PixelFormat.bgrx8888

    let frames: [Framebuffer]
    let names: [String]
    var width: Int { frames[0].width }
    var height: Int { frames[0].height }
    var count: Int { frames.count }

    /// Reads and decodes every file (binary PPM, gzipped or not); all must have the same size.
    init(paths: [String]) throws(LoadError) {
        precondition(!paths.isEmpty)
        var frames: [Framebuffer] = []
        for path in paths {
            let data = try Self.read(path)
            let frame: Framebuffer
            do {
                frame = try PPMImage.decode(data, format: Self.format)
            } catch {
                throw LoadError("\(path): \(error)")
            }
            if let first = frames.first, first.width != frame.width || first.height != frame.height {
                throw LoadError("\(path) is \(frame.width)x\(frame.height), but \(paths[0]) is \(first.width)x\(first.height): all frames must have the same size")
            }
            frames.append(frame)
        }
        self.frames = frames
        self.names = paths
    }

    private static func read(_ path: String) throws(LoadError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw LoadError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw LoadError("cannot stat \(path): \(String(cString: strerror(errno)))") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw LoadError("\(path) is not a regular file") }
        // A 16384x16384 PPM is 768 MiB; anything much larger cannot be a frame we accept.
        guard st.st_size <= 1 << 30 else { throw LoadError("\(path) is \(st.st_size) bytes, too large for a frame") }
        var data = [UInt8](repeating: 0, count: Int(st.st_size))
        var filled = 0
        while filled < data.count {
            let n = data.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw LoadError("cannot read \(path): \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            filled += n
        }
        return Array(data[..<filled])
    }
}

/// A file that cannot be served, with a message for the user.
struct LoadError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
