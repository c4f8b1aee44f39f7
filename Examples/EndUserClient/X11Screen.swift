import CX11
import Foundation
import RemoteSupportCore
import Synchronization

/// The X11 root window as the shared screen, and the agent's input through XTest.
///
/// Capture reads the root window into one image reused every frame: an XShm segment
/// (`XShmGetImage`, no copy through the socket) when the server has MIT-SHM and can attach it (it
/// cannot over a remote display), else `XGetImage` / `XGetSubImage`. The pixels are shared in the
/// image's own format (32 bpp little-endian BGRX on typical servers). `version` goes up when a capture
/// differs from the previous one (a `memcmp` against a copy), so `--frame-out` writes only changes.
///
/// Xlib is called on one thread at a time: capture and input take `lock`. The clipboard and the
/// indicator have their own connections and threads.
final class X11Screen: ScreenSource, @unchecked Sendable {
    let width: Int
    let height: Int
    let format: PixelFormat
    /// "XShm" or "XGetImage": how frames are read.
    let method: String
    private let display: OpaquePointer
    private let root: Window
    private let lock = NSLock()
    private let image: UnsafeMutablePointer<XImage>
    private var shm = XShmSegmentInfo()
    private let usesShm: Bool
    private let frame: FrameView
    private let byteCount: Int
    private let previous: UnsafeMutableRawPointer
    private var version = 0
    private let input: X11Input

    /// Opens `displayName` (":0", "host:1"...) and prepares capture and input.
    init(displayName: String) throws(X11Error) {
        X11.initialize()
        guard let display = XOpenDisplay(displayName) else { throw X11Error("cannot open the X display \(displayName)") }
        self.display = display
        let screen = XDefaultScreen(display)
        root = XRootWindow(display, screen)
        width = Int(XDisplayWidth(display, screen))
        height = Int(XDisplayHeight(display, screen))
        let visual = XDefaultVisual(display, screen)
        let depth = UInt32(XDefaultDepth(display, screen))

        var shmImage: UnsafeMutablePointer<XImage>?
        if XShmQueryExtension(display) != 0 {
            shmImage = Self.attachShm(display, visual, depth, width, height, &shm)
        }
        if let shmImage {
            image = shmImage
            usesShm = true
            method = "XShm"
        } else {
            guard let plain = XGetImage(display, root, 0, 0, UInt32(width), UInt32(height), UInt.max, ZPixmap) else {
                XCloseDisplay(display)
                throw X11Error("cannot read the root window of \(displayName)")
            }
            image = plain
            usesShm = false
            method = "XGetImage"
        }

        let i = image.pointee
        do {
            format = try Self.pixelFormat(i)
            frame = try FrameView(base: UnsafeRawPointer(i.data), width: width, height: height, stride: Int(i.bytes_per_line), format: format)
        } catch {
            throw X11Error("the screen's pixel format is not supported (\(i.bits_per_pixel) bpp, depth \(i.depth)): \(error)")
        }
        byteCount = Int(i.bytes_per_line) * height
        previous = .allocate(byteCount: byteCount, alignment: 16)
        previous.initializeMemory(as: UInt8.self, repeating: 0, count: byteCount)
        input = X11Input(display: display)
    }

    /// An XShm image on a fresh segment, attached to the server; nil (nothing left behind) when any step fails.
    private static func attachShm(_ display: OpaquePointer, _ visual: UnsafeMutablePointer<Visual>?, _ depth: UInt32,
                                  _ width: Int, _ height: Int, _ shm: inout XShmSegmentInfo) -> UnsafeMutablePointer<XImage>? {
        guard let image = XShmCreateImage(display, visual, depth, ZPixmap, nil, &shm, UInt32(width), UInt32(height)) else { return nil }
        let size = Int(image.pointee.bytes_per_line) * Int(image.pointee.height)
        shm.shmid = shmget(IPC_PRIVATE, size, IPC_CREAT | 0o600)
        guard shm.shmid >= 0 else { destroy(image); return nil }
        let address = shmat(shm.shmid, nil, 0)
        guard let address, address != UnsafeMutableRawPointer(bitPattern: -1) else {
            shmctl(shm.shmid, IPC_RMID, nil)
            destroy(image)
            return nil
        }
        shm.shmaddr = address.assumingMemoryBound(to: CChar.self)
        shm.readOnly = 0
        image.pointee.data = shm.shmaddr
        // Attaching fails asynchronously (BadAccess over a remote display): sync and look at the error.
        let attached = X11.catchingErrors(display) { XShmAttach(display, &shm) != 0 }
        // Marked for removal now: it goes when both sides detach (or the process ends).
        shmctl(shm.shmid, IPC_RMID, nil)
        guard attached == (true, 0) else {
            shmdt(address)
            image.pointee.data = nil
            destroy(image)
            return nil
        }
        return image
    }

    private static func destroy(_ image: UnsafeMutablePointer<XImage>) {
        _ = image.pointee.f.destroy_image(image)
    }

    /// The RFB pixel format of an X image: channels from its masks, byte order from the image.
    static func pixelFormat(_ image: XImage) throws(CodecError) -> PixelFormat {
        func channel(_ mask: UInt) throws(CodecError) -> (max: UInt16, shift: UInt8) {
            guard mask != 0 else { throw CodecError(.unsupportedPixelFormat, "a colour mask is 0 (not a true-colour visual)") }
            let shift = mask.trailingZeroBitCount
            let max = mask >> shift
            guard max <= UInt(UInt16.max) else { throw CodecError(.unsupportedPixelFormat, "a channel wider than 16 bits") }
            return (UInt16(max), UInt8(shift))
        }
        let r = try channel(image.red_mask), g = try channel(image.green_mask), b = try channel(image.blue_mask)
        let format = PixelFormat(bitsPerPixel: UInt8(clamping: image.bits_per_pixel), depth: UInt8(clamping: image.depth),
                                 bigEndian: image.byte_order == MSBFirst,
                                 redMax: r.max, greenMax: g.max, blueMax: b.max, redShift: r.shift, greenShift: g.shift, blueShift: b.shift)
        try format.validate()
        return format
    }

    deinit {
        lock.withLock {
            input.releaseAll()
            if usesShm {
                XShmDetach(display, &shm)
                XSync(display, 0)
                shmdt(shm.shmaddr)
                image.pointee.data = nil
            }
            Self.destroy(image)
            XCloseDisplay(display)
        }
        previous.deallocate()
    }

    // MARK: ScreenSource

    /// Captures the root window and calls `body` with it; the frame stays valid only inside `body`.
    func withFrame<R>(_ body: (FrameView, Int) throws -> R) rethrows -> R {
        try lock.withLock {
            capture()
            return try body(frame, version)
        }
    }

    func pointer(x: Int, y: Int, buttons: UInt16, wheelX: Int, wheelY: Int) {
        lock.withLock {
            input.pointer(x: min(max(0, x), width - 1), y: min(max(0, y), height - 1), buttons: buttons)
            if wheelX != 0 || wheelY != 0 { input.wheel(dx: wheelX, dy: wheelY) }
        }
    }

    func key(keysym: UInt32, down: Bool) {
        lock.withLock { input.key(keysym: keysym, down: down) }
    }

    /// Lets go of every key and button the agent holds and unbinds the keycodes borrowed for typing.
    func releaseInput() {
        lock.withLock { input.releaseAll() }
    }

    private func capture() {
        let ok: Bool
        if usesShm {
            ok = XShmGetImage(display, root, image, 0, 0, UInt.max) != 0
        } else {
            ok = XGetSubImage(display, root, 0, 0, UInt32(width), UInt32(height), UInt.max, ZPixmap, image, 0, 0) != nil
        }
        guard ok else { return }
        if memcmp(previous, image.pointee.data, byteCount) != 0 {
            memcpy(previous, image.pointee.data, byteCount)
            version += 1
        }
    }
}

/// An X11 failure: what could not be done.
struct X11Error: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Process-wide Xlib set-up: threads, and an error handler that records errors instead of exiting.
enum X11 {
    private static let started = Mutex(false)
    /// The last X error's code (0: none since it was reset), whatever the connection.
    private static let lastError = Mutex<UInt8>(0)

    /// `XInitThreads` (before any other Xlib call) and the error handler; once per process.
    static func initialize() {
        started.withLock { started in
            guard !started else { return }
            started = true
            XInitThreads()
            XSetErrorHandler { _, event in
                let code = event?.pointee.error_code ?? 0
                X11.lastError.withLock { $0 = code }
                return 0
            }
        }
    }

    /// Runs `body`, syncs with the server and returns its result with the X error it caused (0: none).
    static func catchingErrors<T>(_ display: OpaquePointer, _ body: () -> T) -> (T, UInt8) {
        XSync(display, 0)
        lastError.withLock { $0 = 0 }
        let result = body()
        XSync(display, 0)
        return (result, lastError.withLock { $0 })
    }
}
