import CSDL2
import Foundation
import RemoteSupportCore

/// The agent's window (SDL2), on the main thread: opens at the session's first screen, keeps a
/// streaming texture in the framebuffer's pixel format (or XRGB8888 with a conversion, for formats SDL
/// has no name for), uploads the rectangles each update changed, and draws it scaled to fit the window
/// with its aspect ratio kept. Mouse and keyboard go to the end user while they let it (the viewer
/// checks); closing the window ends the session.
///
/// The network runs on PeerSession's tasks: what changed arrives through `AgentViewer.feed`, which the
/// loop looks at between events (`SDL_WaitEventTimeout`, 10 ms); pixels are read from the decoder under
/// the session's lock.
@MainActor
final class ViewerWindow {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private let viewer: AgentViewer
    private let log: EventLog
    private var window: OpaquePointer?
    private var renderer: OpaquePointer?
    private var texture: OpaquePointer?
    private var screenWidth = 0
    private var screenHeight = 0
    /// The framebuffer's format when SDL can take its bytes as they are; nil: converted to XRGB8888.
    private var directFormat: PixelFormat?
    private var converted: [UInt32] = []
    private var title = "rs-viewer"
    private var buttons: UInt16 = 0
    /// The keysym each held key was pressed with (its release sends the same one).
    private var heldKeys: [Int32: UInt32] = [:]
    private var framesDrawn = 0

    /// Starts SDL's video; throws when there is no display to open a window on.
    static func initialize() throws(Failure) {
        SDL_SetHint(SDL_HINT_RENDER_SCALE_QUALITY, "linear")
        guard SDL_Init(SDL_INIT_VIDEO) == 0 else {
            throw Failure(description: "cannot open a window (\(String(cString: SDL_GetError()))): set DISPLAY, or use --headless")
        }
    }

    init(viewer: AgentViewer, log: EventLog) {
        self.viewer = viewer
        self.log = log
    }

    /// Runs until the viewer is done or the window is closed (which ends the session).
    func run() {
        defer {
            if let texture { SDL_DestroyTexture(texture) }
            if let renderer { SDL_DestroyRenderer(renderer) }
            if let window { SDL_DestroyWindow(window) }
            SDL_Quit()
        }
        var event = SDL_Event()
        var needsDrawing = false
        while true {
            let changes = viewer.feed.take()
            if let t = changes.title {
                title = t
                if let window { SDL_SetWindowTitle(window, t) }
            }
            if changes.newScreen {
                do { try makeScreen() } catch {
                    log.say(error.description)
                    viewer.endSession()
                    return
                }
                needsDrawing = true
            } else if !changes.changed.isEmpty {
                upload(changes.changed)
                needsDrawing = true
            }
            if changes.finished { return }
            if needsDrawing {
                draw()
                needsDrawing = false
            }
            guard SDL_WaitEventTimeout(&event, 10) != 0 else { continue }
            repeat {
                switch handle(event) {
                case .close:
                    viewer.endSession()
                    return
                case .redraw: needsDrawing = true
                case .none: break
                }
            } while SDL_PollEvent(&event) != 0
        }
    }

    // MARK: The screen

    /// A new screen (size or format): the window (opened now, the first time), a texture, all of it uploaded.
    private func makeScreen() throws(Failure) {
        guard let (width, height, format) = viewer.withScreen({ s in s.map { ($0.width, $0.height, $0.format) } }) else { return }
        if window == nil { try openWindow(width: width, height: height) }
        if let texture { SDL_DestroyTexture(texture) }
        directFormat = Self.sdlFormat(format) == nil ? nil : format
        texture = SDL_CreateTexture(renderer, Self.sdlFormat(format) ?? SDL_PIXELFORMAT_XRGB8888.rawValue,
                                    Int32(SDL_TEXTUREACCESS_STREAMING.rawValue), Int32(width), Int32(height))
        guard texture != nil else { throw Failure(description: "cannot make a \(width)x\(height) texture: \(String(cString: SDL_GetError()))") }
        screenWidth = width
        screenHeight = height
        upload([Rect(x: 0, y: 0, width: width, height: height)])
    }

    private func openWindow(width: Int, height: Int) throws(Failure) {
        // At most 90 % of the display, the screen's aspect ratio kept.
        var usable = SDL_Rect()
        var scale = 1.0
        if SDL_GetDisplayUsableBounds(0, &usable) == 0, usable.w > 0, usable.h > 0 {
            scale = min(1, 0.9 * Double(usable.w) / Double(width), 0.9 * Double(usable.h) / Double(height))
        }
        let centered = Int32(bitPattern: 0x2FFF_0000)  // SDL_WINDOWPOS_CENTERED (a macro Swift does not import)
        window = SDL_CreateWindow(title, centered, centered, Int32(max(1, Double(width) * scale)), Int32(max(1, Double(height) * scale)),
                                  SDL_WINDOW_RESIZABLE.rawValue | SDL_WINDOW_SHOWN.rawValue)
        guard let window else { throw Failure(description: "cannot open a window: \(String(cString: SDL_GetError()))") }
        renderer = SDL_CreateRenderer(window, -1, 0) ?? SDL_CreateRenderer(window, -1, SDL_RENDERER_SOFTWARE.rawValue)
        guard renderer != nil else { throw Failure(description: "cannot draw in the window: \(String(cString: SDL_GetError()))") }
        var w: Int32 = 0, h: Int32 = 0
        SDL_GetWindowSize(window, &w, &h)
        log.event("window", ["title": title, "width": Int(w), "height": Int(h)])
    }

    /// Copies the changed rectangles from the decoder to the texture.
    private func upload(_ rects: [Rect]) {
        guard let texture else { return }
        viewer.withScreen { screen in
            // A newer screen may have replaced the one the texture is for: its own newScreen follows.
            guard let screen, screen.width == screenWidth, screen.height == screenHeight else { return }
            for r in rects {
                let clip = r.intersection(screen.bounds)
                guard !clip.isEmpty else { continue }
                var area = SDL_Rect(x: Int32(clip.x), y: Int32(clip.y), w: Int32(clip.width), h: Int32(clip.height))
                let start = screen.pixels + clip.y * screen.stride + clip.x * screen.format.bytesPerPixel
                if directFormat != nil {
                    SDL_UpdateTexture(texture, &area, start, Int32(screen.stride))
                } else {
                    convert(screen, clip)
                    SDL_UpdateTexture(texture, &area, converted, Int32(clip.width * 4))
                }
            }
        }
    }

    /// `clip` of the screen as XRGB8888 in `converted`.
    private func convert(_ screen: UpdateDecoder, _ clip: Rect) {
        let f = screen.format, bpp = f.bytesPerPixel
        let red = FrameFile.scaleTable(f.redMax), green = FrameFile.scaleTable(f.greenMax), blue = FrameFile.scaleTable(f.blueMax)
        converted.removeAll(keepingCapacity: true)
        for y in clip.y..<clip.maxY {
            let row = screen.pixels + y * screen.stride
            for x in clip.x..<clip.maxX {
                let p = FrameFile.pixelValue(row + x * bpp, f)
                converted.append(UInt32(red[Int((p >> f.redShift) & UInt32(f.redMax))]) << 16
                                 | UInt32(green[Int((p >> f.greenShift) & UInt32(f.greenMax))]) << 8
                                 | UInt32(blue[Int((p >> f.blueShift) & UInt32(f.blueMax))]))
            }
        }
    }

    private func draw() {
        guard let renderer, let texture else { return }
        SDL_SetRenderDrawColor(renderer, 0x20, 0x20, 0x20, 0xFF)
        SDL_RenderClear(renderer)
        var target = fitted()
        SDL_RenderCopy(renderer, texture, nil, &target)
        SDL_RenderPresent(renderer)
        framesDrawn += 1
        log.event("drawn", ["frames": framesDrawn])
    }

    /// Where the screen lies in the window: as large as fits, aspect ratio kept, centred.
    private func fitted() -> SDL_Rect {
        var w: Int32 = 0, h: Int32 = 0
        if let renderer { SDL_GetRendererOutputSize(renderer, &w, &h) }
        guard screenWidth > 0, screenHeight > 0, w > 0, h > 0 else { return SDL_Rect(x: 0, y: 0, w: w, h: h) }
        let scale = min(Double(w) / Double(screenWidth), Double(h) / Double(screenHeight))
        let fw = Int32((Double(screenWidth) * scale).rounded()), fh = Int32((Double(screenHeight) * scale).rounded())
        return SDL_Rect(x: (w - fw) / 2, y: (h - fh) / 2, w: fw, h: fh)
    }

    /// A point of the window -> a pixel of the end user's screen (clamped to it).
    private func screenPoint(_ x: Int32, _ y: Int32) -> (x: Int, y: Int) {
        guard let window else { return (0, 0) }
        // Mouse events are in window coordinates; the fitted rectangle is in renderer pixels.
        var ww: Int32 = 0, wh: Int32 = 0, rw: Int32 = 0, rh: Int32 = 0
        SDL_GetWindowSize(window, &ww, &wh)
        if let renderer { SDL_GetRendererOutputSize(renderer, &rw, &rh) }
        let sx = ww > 0 ? Double(rw) / Double(ww) : 1, sy = wh > 0 ? Double(rh) / Double(wh) : 1
        let area = fitted()
        guard area.w > 0, area.h > 0 else { return (0, 0) }
        let px = (Double(x) * sx - Double(area.x)) * Double(screenWidth) / Double(area.w)
        let py = (Double(y) * sy - Double(area.y)) * Double(screenHeight) / Double(area.h)
        return (min(max(0, Int(px)), screenWidth - 1), min(max(0, Int(py)), screenHeight - 1))
    }

    // MARK: Events

    private enum Outcome { case none, redraw, close }

    private func handle(_ event: SDL_Event) -> Outcome {
        switch SDL_EventType(rawValue: event.type) {
        case SDL_QUIT:
            return .close
        case SDL_WINDOWEVENT:
            switch SDL_WindowEventID(rawValue: UInt32(event.window.event)) {
            case SDL_WINDOWEVENT_CLOSE: return .close
            case SDL_WINDOWEVENT_EXPOSED, SDL_WINDOWEVENT_SIZE_CHANGED, SDL_WINDOWEVENT_RESIZED: return .redraw
            default: return .none
            }
        case SDL_MOUSEMOTION:
            let p = screenPoint(event.motion.x, event.motion.y)
            viewer.pointer(x: p.x, y: p.y, buttons: buttons)
        case SDL_MOUSEBUTTONDOWN, SDL_MOUSEBUTTONUP:
            // SDL's buttons 1-5 (left, middle, right, back, forward) are the protocol's bits 0-4.
            guard (1...5).contains(event.button.button) else { return .none }
            let bit = UInt16(1) << (event.button.button - 1)
            if event.type == SDL_MOUSEBUTTONDOWN.rawValue { buttons |= bit } else { buttons &= ~bit }
            let p = screenPoint(event.button.x, event.button.y)
            viewer.pointer(x: p.x, y: p.y, buttons: buttons)
        case SDL_MOUSEWHEEL:
            // SDL: y > 0 is away from the user (up); the protocol: wheel y > 0 is down.
            let flip: Int32 = event.wheel.direction == SDL_MOUSEWHEEL_FLIPPED.rawValue ? -1 : 1
            var mx: Int32 = 0, my: Int32 = 0
            SDL_GetMouseState(&mx, &my)
            let p = screenPoint(mx, my)
            viewer.pointer(x: p.x, y: p.y, buttons: buttons, wheelX: Int(event.wheel.x * flip), wheelY: Int(-event.wheel.y * flip))
        case SDL_KEYDOWN:
            let scancode = Int32(event.key.keysym.scancode.rawValue)
            guard let keysym = heldKeys[scancode] ?? SDLKeys.keysym(event.key.keysym.sym, modifiers: event.key.keysym.mod) else { return .none }
            heldKeys[scancode] = keysym
            viewer.key(keysym, down: true)
        case SDL_KEYUP:
            if let keysym = heldKeys.removeValue(forKey: Int32(event.key.keysym.scancode.rawValue)) { viewer.key(keysym, down: false) }
        default:
            break
        }
        return .none
    }

    /// The SDL pixel format of `format` when SDL can read its bytes as they are (native byte order,
    /// masks it knows); nil otherwise.
    static func sdlFormat(_ format: PixelFormat) -> UInt32? {
        guard format.trueColour, format.bitsPerPixel == 8 || format.bigEndian == (1.bigEndian == 1) else { return nil }
        let known = SDL_MasksToPixelFormatEnum(Int32(format.bitsPerPixel), UInt32(format.redMax) << format.redShift,
                                               UInt32(format.greenMax) << format.greenShift, UInt32(format.blueMax) << format.blueShift, 0)
        return known == SDL_PIXELFORMAT_UNKNOWN.rawValue ? nil : known
    }
}
