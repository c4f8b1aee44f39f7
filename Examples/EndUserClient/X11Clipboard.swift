import CX11
import Foundation

/// The X clipboard, both ways, on its own display connection and thread (with its own event loop).
///
/// Text from the agent (`set`) becomes the CLIPBOARD and PRIMARY selections, owned by a hidden window
/// and served as UTF8_STRING, STRING (Latin-1) or TEXT, and TARGETS. While `watching`, the CLIPBOARD
/// is read every 500 ms (`XConvertSelection` into a property of the hidden window) unless we own it;
/// text that differs from what was last seen or set goes to `changed`. The first read after `watch(true)`
/// is only a baseline: what was on the clipboard before the session is not sent.
final class X11Clipboard: @unchecked Sendable {
    private let display: OpaquePointer
    private let window: Window
    private let atoms: Atoms
    private let changed: @Sendable (String) -> Void
    private let lock = NSLock()
    // Under `lock` (set by other threads, taken by the loop):
    private var pendingText: String?
    private var pendingWatch: Bool?
    // The loop's own:
    private var owned: String?
    private var lastSeen: String?
    private var watching = false
    private var baselinePending = false
    private var waitingForReply = false
    private var nextPoll = DispatchTime.now()

    /// Predefined atoms (Xatom.h's casts do not come through to Swift).
    private let xaString: Atom = 31, xaAtom: Atom = 4

    /// Largest text served or read (larger would need the INCR protocol).
    static let maximumBytes = 256 * 1024

    private struct Atoms {
        let clipboard, primary, utf8, text, targets, property: Atom
        init(_ display: OpaquePointer) {
            func atom(_ name: String) -> Atom { XInternAtom(display, name, 0) }
            clipboard = atom("CLIPBOARD"); primary = atom("PRIMARY"); utf8 = atom("UTF8_STRING")
            text = atom("TEXT"); targets = atom("TARGETS"); property = atom("RS_CLIPBOARD")
        }
    }

    init(displayName: String, changed: @escaping @Sendable (String) -> Void) throws(X11Error) {
        X11.initialize()
        guard let display = XOpenDisplay(displayName) else { throw X11Error("cannot open the X display \(displayName) for the clipboard") }
        self.display = display
        self.changed = changed
        atoms = Atoms(display)
        window = XCreateSimpleWindow(display, XDefaultRootWindow(display), -10, -10, 1, 1, 0, 0, 0)
        XSelectInput(display, window, PropertyChangeMask)
        XFlush(display)
        let thread = Thread { [self] in loop() }
        thread.name = "rs-client clipboard"
        thread.start()
    }

    /// Puts text from the agent on the clipboard (CLIPBOARD and PRIMARY).
    func set(_ text: String) {
        lock.withLock { pendingText = String(decoding: text.utf8.prefix(Self.maximumBytes), as: UTF8.self) }
    }

    /// Starts (with a baseline read) or stops sending local clipboard changes.
    func watch(_ on: Bool) {
        lock.withLock { pendingWatch = on }
    }

    // MARK: The loop

    private func loop() {
        var pollFD = pollfd(fd: XConnectionNumber(display), events: Int16(POLLIN), revents: 0)
        while true {
            let (text, watch) = lock.withLock { () -> (String?, Bool?) in
                defer { pendingText = nil; pendingWatch = nil }
                return (pendingText, pendingWatch)
            }
            if let watch, watch != watching {
                watching = watch
                baselinePending = watch
                nextPoll = .now()
            }
            if let text { own(text) }
            while XPending(display) > 0 {
                var event = XEvent()
                XNextEvent(display, &event)
                handle(&event)
            }
            if watching, owned == nil, !waitingForReply, DispatchTime.now() >= nextPoll {
                XConvertSelection(display, atoms.clipboard, atoms.utf8, atoms.property, window, 0)
                XFlush(display)
                waitingForReply = true
                nextPoll = .now() + .milliseconds(500)
            } else if waitingForReply, DispatchTime.now() > nextPoll + .seconds(2) {
                waitingForReply = false  // an owner that never answered
            }
            _ = poll(&pollFD, 1, 100)
        }
    }

    private func own(_ text: String) {
        owned = text
        lastSeen = text
        XSetSelectionOwner(display, atoms.clipboard, window, 0)
        XSetSelectionOwner(display, atoms.primary, window, 0)
        XFlush(display)
    }

    private func handle(_ event: inout XEvent) {
        switch event.type {
        case SelectionRequest:
            answer(event.xselectionrequest)
        case SelectionClear:
            // Someone else copied: read theirs at the next poll.
            if event.xselectionclear.selection == atoms.clipboard { owned = nil; nextPoll = .now() }
        case SelectionNotify:
            guard event.xselection.selection == atoms.clipboard else { return }
            waitingForReply = false
            let text = event.xselection.property == 0 ? nil : readProperty()
            if baselinePending {
                baselinePending = false
                lastSeen = text
            } else if let text, !text.isEmpty, text != lastSeen {
                lastSeen = text
                if watching { changed(text) }
            }
        default:
            break
        }
    }

    /// The text in our property (then deleted), nil when it is not text or too large.
    private func readProperty() -> String? {
        var type: Atom = 0, format: Int32 = 0, count: UInt = 0, after: UInt = 0
        var data: UnsafeMutablePointer<UInt8>?
        defer {
            if let data { XFree(data) }
            XDeleteProperty(display, window, atoms.property)
        }
        guard XGetWindowProperty(display, window, atoms.property, 0, Self.maximumBytes / 4, 0, 0 /* AnyPropertyType */,
                                 &type, &format, &count, &after, &data) == Success,
              let data, format == 8, type == atoms.utf8 || type == xaString, after == 0 else { return nil }
        let bytes = UnsafeBufferPointer(start: data, count: Int(count))
        return type == xaString ? String(bytes.map { Character(Unicode.Scalar($0)) }) : String(decoding: bytes, as: UTF8.self)
    }

    /// Serves our text to a requestor (or says no), as ICCCM describes.
    private func answer(_ request: XSelectionRequestEvent) {
        var reply = XSelectionEvent(type: SelectionNotify, serial: 0, send_event: 1, display: display, requestor: request.requestor,
                                    selection: request.selection, target: request.target, property: 0, time: request.time)
        let property = request.property == 0 ? request.target : request.property
        if let owned, request.owner == window {
            if request.target == atoms.targets {
                var targets: [Atom] = [atoms.targets, atoms.utf8, xaString, atoms.text]
                let count = Int32(targets.count)
                targets.withUnsafeMutableBytes {
                    _ = XChangeProperty(display, request.requestor, property, xaAtom, 32, PropModeReplace,
                                        $0.baseAddress!.assumingMemoryBound(to: UInt8.self), count)
                }
                reply.property = property
            } else if request.target == atoms.utf8 || request.target == atoms.text || request.target == xaString {
                let latin1 = request.target == xaString
                var bytes = latin1 ? owned.unicodeScalars.map { $0.value < 256 ? UInt8($0.value) : UInt8(ascii: "?") } : Array(owned.utf8)
                XChangeProperty(display, request.requestor, property, latin1 ? xaString : atoms.utf8, 8, PropModeReplace,
                                &bytes, Int32(bytes.count))
                reply.property = property
            }
        }
        var event = XEvent()
        event.xselection = reply
        XSendEvent(display, request.requestor, 0, 0, &event)
        XFlush(display)
    }
}
