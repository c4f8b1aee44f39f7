import CX11
import Foundation

/// The agent's pointer and keys as XTest events on one display connection. Not thread-safe: its owner
/// (`X11Screen`) calls it under its lock. Every event is flushed at once.
///
/// Buttons are RFB-style bits: 0 left, 1 middle, 2 right, 3 back, 4 forward (X buttons 1, 2, 3, 8, 9);
/// wheel steps are X buttons 4/5 (up/down) and 6/7 (left/right), pressed and released per step.
///
/// Keys: a keysym is looked up in the server's core keyboard map. On level 1 of its keycode (`A`, `!`)
/// it is typed with Shift unless the agent holds Shift; on level 0 while the agent holds Shift, and
/// Shift would give another character, Shift is let go around it. A keysym the map does not have (an
/// accented letter, any Unicode character) is bound for the moment to a spare keycode (one with no
/// keysym) with `XChangeKeyboardMapping`, as x11vnc and xdotool do; spares are reused round-robin and
/// unbound when the session ends.
final class X11Input {
    private let display: OpaquePointer
    private var buttons: UInt16 = 0
    /// Keys the agent holds: keysym -> the keycode pressed for it.
    private var held: [UInt32: KeyCode] = [:]
    private var minKeycode: Int32 = 8
    private var maxKeycode: Int32 = 255
    private var perKeycode = 0
    /// The core map: `perKeycode` keysyms for each keycode from `minKeycode`.
    private var map: [KeySym] = []
    private var spares: [KeyCode] = []
    private var nextSpare = 0
    /// Spare keycodes bound by us (to restore to NoSymbol).
    private var borrowed: Set<KeyCode> = []
    private let shiftKeysyms: Set<UInt32> = [UInt32(XK_Shift_L), UInt32(XK_Shift_R)]

    private static let buttonNumbers: [UInt32] = [1, 2, 3, 8, 9]

    init(display: OpaquePointer) {
        self.display = display
        XDisplayKeycodes(display, &minKeycode, &maxKeycode)
        loadMap()
        for code in minKeycode...maxKeycode where (0..<perKeycode).allSatisfy({ symbol(KeyCode(code), $0) == 0 }) {
            spares.append(KeyCode(code))
        }
    }

    private func loadMap() {
        var per: Int32 = 0
        guard let keysyms = XGetKeyboardMapping(display, KeyCode(minKeycode), maxKeycode - minKeycode + 1, &per) else { return }
        perKeycode = Int(per)
        map = Array(UnsafeBufferPointer(start: keysyms, count: Int(maxKeycode - minKeycode + 1) * perKeycode))
        XFree(keysyms)
    }

    private func symbol(_ code: KeyCode, _ index: Int) -> KeySym {
        let i = (Int(code) - Int(minKeycode)) * perKeycode + index
        return index < perKeycode && map.indices.contains(i) ? map[i] : 0
    }

    // MARK: Pointer

    func pointer(x: Int, y: Int, buttons newButtons: UInt16) {
        XTestFakeMotionEvent(display, -1, Int32(x), Int32(y), 0)
        for (bit, number) in Self.buttonNumbers.enumerated() {
            let mask = UInt16(1) << bit
            guard (buttons ^ newButtons) & mask != 0 else { continue }
            XTestFakeButtonEvent(display, number, newButtons & mask != 0 ? 1 : 0, 0)
        }
        buttons = newButtons
        XFlush(display)
    }

    func wheel(dx: Int, dy: Int) {
        for (steps, negative, positive) in [(dy, UInt32(4), UInt32(5)), (dx, UInt32(6), UInt32(7))] where steps != 0 {
            for _ in 0..<min(abs(steps), 30) {
                XTestFakeButtonEvent(display, steps < 0 ? negative : positive, 1, 0)
                XTestFakeButtonEvent(display, steps < 0 ? negative : positive, 0, 0)
            }
        }
        XFlush(display)
    }

    // MARK: Keys

    func key(keysym: UInt32, down: Bool) {
        guard down else {
            let code = held.removeValue(forKey: keysym) ?? lookup(KeySym(keysym))?.code
            if let code { XTestFakeKeyEvent(display, UInt32(code), 0, 0) }
            XFlush(display)
            return
        }
        if let code = held[keysym] {  // auto-repeat
            XTestFakeKeyEvent(display, UInt32(code), 1, 0)
            XFlush(display)
            return
        }
        guard let (code, level) = lookup(KeySym(keysym)) ?? bindSpare(KeySym(keysym)).map({ ($0, 0) }) else { return }
        held[keysym] = code
        let agentShift = held.keys.contains { shiftKeysyms.contains($0) }
        let shiftCode = UInt32(XKeysymToKeycode(display, KeySym(XK_Shift_L)))
        let isModifier = (0xFFE1...0xFFEE).contains(keysym)
        if level == 1 && !agentShift && shiftCode != 0 {
            XTestFakeKeyEvent(display, shiftCode, 1, 0)
            XTestFakeKeyEvent(display, UInt32(code), 1, 0)
            XTestFakeKeyEvent(display, shiftCode, 0, 0)
        } else if level == 0 && agentShift && !isModifier && (0x20...0xFF).contains(keysym)
                    && symbol(code, 1) != 0 && symbol(code, 1) != KeySym(keysym) {
            let heldShifts = held.compactMap { shiftKeysyms.contains($0.key) ? UInt32($0.value) : nil }
            for s in heldShifts { XTestFakeKeyEvent(display, s, 0, 0) }
            XTestFakeKeyEvent(display, UInt32(code), 1, 0)
            for s in heldShifts { XTestFakeKeyEvent(display, s, 1, 0) }
        } else {
            XTestFakeKeyEvent(display, UInt32(code), 1, 0)
        }
        XFlush(display)
    }

    /// The keycode and level (0 plain, 1 shifted) of `keysym` in group 1 of the core map.
    private func lookup(_ keysym: KeySym) -> (code: KeyCode, level: Int)? {
        guard keysym != 0 else { return nil }
        for level in 0..<min(2, perKeycode) {
            for code in minKeycode...maxKeycode where symbol(KeyCode(code), level) == keysym {
                return (KeyCode(code), level)
            }
        }
        // A letter listed only as lowercase: its uppercase is the shifted level (core protocol rule).
        var lower: KeySym = 0, upper: KeySym = 0
        XConvertCase(keysym, &lower, &upper)
        if upper == keysym && lower != keysym {
            for code in minKeycode...maxKeycode where symbol(KeyCode(code), 0) == lower && symbol(KeyCode(code), 1) == 0 {
                return (KeyCode(code), 1)
            }
        }
        return nil
    }

    /// Binds `keysym` (on both levels) to the next spare keycode not held; nil when there is none.
    private func bindSpare(_ keysym: KeySym) -> KeyCode? {
        let heldCodes = Set(held.values)
        for _ in 0..<spares.count {
            let code = spares[nextSpare % spares.count]
            nextSpare += 1
            guard !heldCodes.contains(code) else { continue }
            setMapping(code, keysym)
            borrowed.insert(code)
            return code
        }
        return nil
    }

    private func setMapping(_ code: KeyCode, _ keysym: KeySym) {
        var keysyms = [KeySym](repeating: keysym, count: max(2, perKeycode))
        if keysym == 0 { keysyms = [KeySym](repeating: 0, count: max(2, perKeycode)) }
        XChangeKeyboardMapping(display, Int32(code), Int32(keysyms.count), &keysyms, 1)
        for i in 0..<perKeycode {
            let index = (Int(code) - Int(minKeycode)) * perKeycode + i
            if map.indices.contains(index) { map[index] = keysym }
        }
        // The mapping (and the MappingNotify that tells clients) goes before the key event.
        XSync(display, 0)
    }

    // MARK: Session end

    /// Releases what the agent holds (keys, then buttons) and restores the borrowed keycodes.
    func releaseAll() {
        for code in Set(held.values) { XTestFakeKeyEvent(display, UInt32(code), 0, 0) }
        held = [:]
        for (bit, number) in Self.buttonNumbers.enumerated() where buttons & (UInt16(1) << bit) != 0 {
            XTestFakeButtonEvent(display, number, 0, 0)
        }
        buttons = 0
        for code in borrowed { setMapping(code, 0) }
        borrowed = []
        XFlush(display)
    }
}
