import CX11
import Foundation

/// "Being supported by <agent>" on the X screen while a session runs: a small override-redirect window
/// (no window manager decoration, always raised again when something covers it) at the top centre,
/// white text on red, on its own display connection and thread. It is on the screen, so it is also in
/// the shared frames: the agent sees what the end user sees.
final class SupportIndicator: @unchecked Sendable {
    private let display: OpaquePointer
    private let window: Window
    private let gc: GC
    private let font: UnsafeMutablePointer<XFontStruct>?
    private let screenWidth: Int32
    private let lock = NSLock()
    /// What to show (under `lock`): nil hides the window.
    private var wanted: String?
    private var changed = false
    private var shown: String?

    static let height: Int32 = 28

    init(displayName: String) throws(X11Error) {
        X11.initialize()
        guard let display = XOpenDisplay(displayName) else { throw X11Error("cannot open the X display \(displayName) for the indicator") }
        self.display = display
        let screen = XDefaultScreen(display)
        screenWidth = XDisplayWidth(display, screen)
        var red = XColor(), exact = XColor()
        let background = XAllocNamedColor(display, XDefaultColormap(display, screen), "#C62828", &red, &exact) != 0
            ? red.pixel : XBlackPixel(display, screen)
        var attributes = XSetWindowAttributes()
        attributes.override_redirect = 1
        attributes.background_pixel = background
        attributes.event_mask = ExposureMask | VisibilityChangeMask
        window = XCreateWindow(display, XDefaultRootWindow(display), (screenWidth - 420) / 2, 0, 420, UInt32(Self.height), 0,
                               0 /* CopyFromParent */, UInt32(InputOutput), nil, UInt(CWOverrideRedirect | CWBackPixel | CWEventMask), &attributes)
        XStoreName(display, window, "rs-client: being supported")
        font = XLoadQueryFont(display, "-misc-fixed-bold-r-normal--13-*-*-*-*-*-iso8859-1") ?? XLoadQueryFont(display, "fixed")
        gc = XCreateGC(display, window, 0, nil)
        XSetForeground(display, gc, XWhitePixel(display, screen))
        if let font { XSetFont(display, gc, font.pointee.fid) }
        XFlush(display)
        let thread = Thread { [self] in loop() }
        thread.name = "rs-client indicator"
        thread.start()
    }

    /// Shows `text` (or changes it).
    func show(_ text: String) { lock.withLock { wanted = text; changed = true } }

    func hide() { lock.withLock { wanted = nil; changed = true } }

    private func loop() {
        var pollFD = pollfd(fd: XConnectionNumber(display), events: Int16(POLLIN), revents: 0)
        while true {
            let update: String?? = lock.withLock {
                guard changed else { return nil }
                changed = false
                return .some(wanted)
            }
            if let update { apply(update) }
            while XPending(display) > 0 {
                var event = XEvent()
                XNextEvent(display, &event)
                if event.type == Expose && event.xexpose.count == 0 { draw() }
                if event.type == VisibilityNotify && event.xvisibility.state != VisibilityUnobscured && shown != nil {
                    XRaiseWindow(display, window)
                }
            }
            XFlush(display)
            _ = poll(&pollFD, 1, 50)
        }
    }

    private func apply(_ text: String?) {
        shown = text
        guard let text else {
            XUnmapWindow(display, window)
            XFlush(display)
            return
        }
        let width = min(screenWidth, max(420, textWidth(text) + 24))
        XMoveResizeWindow(display, window, (screenWidth - width) / 2, 0, UInt32(width), UInt32(Self.height))
        XMapRaised(display, window)
        XClearWindow(display, window)
        draw()
    }

    private func draw() {
        guard let text = shown else { return }
        var attributes = XWindowAttributes()
        XGetWindowAttributes(display, window, &attributes)
        let ascent = font.map { Int32($0.pointee.ascent) } ?? 10, descent = font.map { Int32($0.pointee.descent) } ?? 3
        let x = (attributes.width - textWidth(text)) / 2, y = (Self.height - ascent - descent) / 2 + ascent
        let bytes = Array(text.unicodeScalars.map { $0.value < 256 ? CChar(bitPattern: UInt8($0.value)) : CChar(UInt8(ascii: "?")) })
        XClearWindow(display, window)
        XDrawString(display, window, gc, max(4, x), y, bytes, Int32(bytes.count))
        XFlush(display)
    }

    private func textWidth(_ text: String) -> Int32 {
        let bytes = Array(text.unicodeScalars.map { $0.value < 256 ? CChar(bitPattern: UInt8($0.value)) : CChar(UInt8(ascii: "?")) })
        guard let font else { return Int32(bytes.count * 6) }
        return XTextWidth(font, bytes, Int32(bytes.count))
    }
}
