import CSDL2

/// SDL keycodes -> X11 keysyms. Named keys by table; keys that type a character (SDL's keycode is then
/// the character, unshifted) by the character's keysym, letters in upper case while Shift or Caps Lock
/// is on. Shift itself is sent too, so the end user's side sees Shift+2 and types what its layout says.
enum SDLKeys {
    static func keysym(_ keycode: SDL_Keycode, modifiers: UInt16) -> UInt32? {
        if let named = named[keycode] { return named }
        // Keycodes with the scancode bit have no character; the rest are Unicode code points.
        guard keycode & Int32(SDLK_SCANCODE_MASK) == 0, keycode >= 0x20, let scalar = Unicode.Scalar(UInt32(keycode)) else { return nil }
        let shift = modifiers & UInt16(KMOD_SHIFT.rawValue) != 0, caps = modifiers & UInt16(KMOD_CAPS.rawValue) != 0
        if shift != caps, scalar.properties.isLowercase, let upper = String(scalar).uppercased().unicodeScalars.first,
           String(scalar).uppercased().unicodeScalars.count == 1 {
            return Keysym.forCharacter(upper)
        }
        return Keysym.forCharacter(scalar)
    }

    private static func k(_ code: SDL_KeyCode) -> SDL_Keycode { SDL_Keycode(truncatingIfNeeded: code.rawValue) }

    private static let named: [SDL_Keycode: UInt32] = {
        var table: [SDL_Keycode: UInt32] = [
            k(SDLK_BACKSPACE): 0xFF08, k(SDLK_TAB): 0xFF09, k(SDLK_RETURN): 0xFF0D, k(SDLK_ESCAPE): 0xFF1B,
            k(SDLK_DELETE): 0xFFFF, k(SDLK_INSERT): 0xFF63, k(SDLK_HOME): 0xFF50, k(SDLK_END): 0xFF57,
            k(SDLK_PAGEUP): 0xFF55, k(SDLK_PAGEDOWN): 0xFF56,
            k(SDLK_LEFT): 0xFF51, k(SDLK_UP): 0xFF52, k(SDLK_RIGHT): 0xFF53, k(SDLK_DOWN): 0xFF54,
            k(SDLK_LSHIFT): 0xFFE1, k(SDLK_RSHIFT): 0xFFE2, k(SDLK_LCTRL): 0xFFE3, k(SDLK_RCTRL): 0xFFE4,
            k(SDLK_CAPSLOCK): 0xFFE5, k(SDLK_LALT): 0xFFE9, k(SDLK_RALT): 0xFFEA, k(SDLK_LGUI): 0xFFEB, k(SDLK_RGUI): 0xFFEC,
            k(SDLK_MODE): 0xFF7E, k(SDLK_APPLICATION): 0xFF67, k(SDLK_MENU): 0xFF67, k(SDLK_PRINTSCREEN): 0xFF61,
            k(SDLK_SCROLLLOCK): 0xFF14, k(SDLK_PAUSE): 0xFF13, k(SDLK_NUMLOCKCLEAR): 0xFF7F,
            k(SDLK_KP_ENTER): 0xFF8D, k(SDLK_KP_DIVIDE): 0xFFAF, k(SDLK_KP_MULTIPLY): 0xFFAA, k(SDLK_KP_MINUS): 0xFFAD,
            k(SDLK_KP_PLUS): 0xFFAB, k(SDLK_KP_PERIOD): 0xFFAE, k(SDLK_KP_EQUALS): 0xFFBD,
        ]
        let keypad = [SDLK_KP_0, SDLK_KP_1, SDLK_KP_2, SDLK_KP_3, SDLK_KP_4, SDLK_KP_5, SDLK_KP_6, SDLK_KP_7, SDLK_KP_8, SDLK_KP_9]
        for (i, key) in keypad.enumerated() { table[k(key)] = 0xFFB0 + UInt32(i) }
        let functionKeys = [SDLK_F1, SDLK_F2, SDLK_F3, SDLK_F4, SDLK_F5, SDLK_F6, SDLK_F7, SDLK_F8, SDLK_F9, SDLK_F10, SDLK_F11, SDLK_F12,
                            SDLK_F13, SDLK_F14, SDLK_F15, SDLK_F16, SDLK_F17, SDLK_F18, SDLK_F19, SDLK_F20, SDLK_F21, SDLK_F22, SDLK_F23, SDLK_F24]
        for (i, key) in functionKeys.enumerated() { table[k(key)] = 0xFFBE + UInt32(i) }
        return table
    }()
}
