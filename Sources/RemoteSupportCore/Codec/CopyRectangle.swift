#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A CopyRect rectangle (RFC 6143 §7.7.2): the client copies the pixels at (sourceX, sourceY) of its own
/// framebuffer to `destination`.
public struct CopyRectangle: Hashable, Sendable {
    public var destination: Rect
    public var sourceX: Int
    public var sourceY: Int

    public init(destination: Rect, sourceX: Int, sourceY: Int) {
        self.destination = destination
        self.sourceX = sourceX
        self.sourceY = sourceY
    }

    public var source: Rect { Rect(x: sourceX, y: sourceY, width: destination.width, height: destination.height) }

    /// Copies within `pixels` (rows `stride` bytes apart) as if through a temporary buffer, so source and
    /// destination may overlap: the order of rows and the memmove within each row make it so. This is
    /// what libvncclient and every viewer do.
    func apply(to pixels: UnsafeMutableRawPointer, stride: Int, bytesPerPixel bpp: Int) {
        let d = destination
        let rowBytes = d.width * bpp
        let rows: StrideThrough<Int> = sourceY < d.y ? Swift.stride(from: d.height - 1, through: 0, by: -1)
            : Swift.stride(from: 0, through: d.height - 1, by: 1)
        for r in rows {
            let dst = pixels + (d.y + r) * stride + d.x * bpp
            let src = pixels + (sourceY + r) * stride + sourceX * bpp
            memmove(dst, src, rowBytes)
        }
    }
}
