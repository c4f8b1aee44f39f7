// KeyboardEvent -> X11 keysym (PROTOCOL.md §10.9 sends keysyms). Named keys by `event.key` (modifiers
// by `event.code`, to tell left from right); printable characters by the Unicode keysym rules of
// X11's keysymdef.h: Latin-1 is its code point, anything else 0x01000000 + code point.

/** Keys whose keysym depends on the side of the keyboard: by `event.code`. */
const byCode = {
  ShiftLeft: 0xffe1, ShiftRight: 0xffe2, ControlLeft: 0xffe3, ControlRight: 0xffe4,
  AltLeft: 0xffe9, AltRight: 0xffea, MetaLeft: 0xffeb, MetaRight: 0xffec, OSLeft: 0xffeb, OSRight: 0xffec,
  // Numpad keys with NumLock off arrive with `key` names like "Home"; these stay keypad keys.
  NumpadEnter: 0xff8d,
};

/** Named keys by `event.key`. */
const byKey = {
  Enter: 0xff0d, Backspace: 0xff08, Tab: 0xff09, Escape: 0xff1b, Delete: 0xffff, Insert: 0xff63,
  Home: 0xff50, End: 0xff57, PageUp: 0xff55, PageDown: 0xff56,
  ArrowLeft: 0xff51, ArrowUp: 0xff52, ArrowRight: 0xff53, ArrowDown: 0xff54,
  Shift: 0xffe1, Control: 0xffe3, Alt: 0xffe9, AltGraph: 0xfe03, Meta: 0xffeb, Super: 0xffeb, OS: 0xffeb, Hyper: 0xffed,
  CapsLock: 0xffe5, NumLock: 0xff7f, ScrollLock: 0xff14, Pause: 0xff13, PrintScreen: 0xff61, ContextMenu: 0xff67,
  Help: 0xff6a, Clear: 0xff0b, Cancel: 0xff69, Select: 0xff60, Execute: 0xff62, Undo: 0xff65, Redo: 0xff66,
  Find: 0xff68, ModeChange: 0xff7e, Compose: 0xff20, KanaMode: 0xff2d, HiraganaKatakana: 0xff27,
  Hiragana: 0xff25, Katakana: 0xff26, Zenkaku: 0xff28, Hankaku: 0xff29, ZenkakuHankaku: 0xff2a, Romaji: 0xff24,
  KanjiMode: 0xff21, Convert: 0xff23, NonConvert: 0xff22, HangulMode: 0xff31, HanjaMode: 0xff34,
};
for (let i = 1; i <= 24; i++) byKey[`F${i}`] = 0xffbd + i;   // F1 = 0xffbe ... F24

/** Keypad keys by `event.code` when they produce a character (so the end user sees keypad keysyms). */
const keypad = {
  Numpad0: 0xffb0, Numpad1: 0xffb1, Numpad2: 0xffb2, Numpad3: 0xffb3, Numpad4: 0xffb4, Numpad5: 0xffb5,
  Numpad6: 0xffb6, Numpad7: 0xffb7, Numpad8: 0xffb8, Numpad9: 0xffb9, NumpadDecimal: 0xffae,
  NumpadAdd: 0xffab, NumpadSubtract: 0xffad, NumpadMultiply: 0xffaa, NumpadDivide: 0xffaf, NumpadEqual: 0xffbd,
};

/** The keysym of one Unicode code point (keysymdef.h: Latin-1 direct, the rest 0x01000000 + U). */
export function keysymForCodePoint(cp) {
  if ((cp >= 0x20 && cp <= 0x7e) || (cp >= 0xa0 && cp <= 0xff)) return cp;
  if (cp === 0x08 || cp === 0x09 || cp === 0x0a || cp === 0x0d || cp === 0x1b) return 0xff00 | cp;
  if (cp === 0x7f) return 0xffff;
  if (cp < 0x20 || (cp >= 0x80 && cp < 0xa0)) return null;   // other control characters have no keysym
  return 0x01000000 + cp;
}

/**
 * The keysym for a KeyboardEvent-like object `{key, code, location}`, or null when there is none
 * (an "Unidentified" key, a bare dead key, a composition in progress).
 */
export function keysymForEvent(event) {
  const { key, code } = event;
  if (code && byCode[code] !== undefined) return byCode[code];
  if (key === undefined || key === 'Unidentified' || key === 'Process') return null;
  // A single character (one code point, which may be two UTF-16 units): its Unicode keysym.
  const cp = key.codePointAt(0);
  if (key.length === (cp > 0xffff ? 2 : 1)) {
    if (code && keypad[code] !== undefined) return keypad[code];
    return keysymForCodePoint(cp);
  }
  return byKey[key] ?? null;
}
