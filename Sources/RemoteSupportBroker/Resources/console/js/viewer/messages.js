// Session messages (PROTOCOL.md §10): what travels end to end inside records. Encoders for what an
// agent sends, a decoder for every type (the channel rejects the ones an agent must not receive).

import { ByteReader, ByteWriter, CloseReason, ProtocolError } from './bytes.js';
import { Cap, OPTIONAL_FLAG } from './wire.js';

export const SessionType = Object.freeze({
  start: 0x01, screenInfo: 0x02, screenUpdate: 0x03, updateAck: 0x04, refresh: 0x05, cursorShape: 0x06,
  cursorPosition: 0x07, pointer: 0x08, key: 0x09, clipboard: 0x0a, chat: 0x0b, ack: 0x0c, access: 0x0d,
  pause: 0x0e, end: 0x0f,
});

const typeNames = new Map(Object.entries(SessionType).map(([name, value]) => [value, name]));

/** Session features (§10.1): the viewer decodes all four. */
export const SessionFeature = Object.freeze({ clipboard: 1n, chat: 2n, cursorShape: 4n, copyRect: 8n });
export const ALL_FEATURES = 0x0fn;

export const SESSION_VERSION = 1;
export const MAXIMUM_CLIPBOARD = 1_048_576;
export const MAXIMUM_CHAT = 4096;
export const MAXIMUM_CURSOR_SIDE = 256;

/** Access modes (§3): only `control` allows input. */
export const AccessMode = Object.freeze({ declined: 0, view: 1, control: 2 });

/** Types that carry a `seq` (§11). */
export const RELIABLE = new Set([SessionType.pointer, SessionType.key, SessionType.clipboard, SessionType.chat,
  SessionType.access, SessionType.pause]);

function header(type, size = 16) { return new ByteWriter(size).u8(type).u8(0); }

export const encodeSession = {
  start(features, senderKey, receiverKey) {
    return header(SessionType.start, 76).u16(SESSION_VERSION).u64(features).append(senderKey).append(receiverKey).finish();
  },
  updateAck(sequence) { return header(SessionType.updateAck).u32(sequence).finish(); },
  refresh() { return header(SessionType.refresh).finish(); },
  pointer(seq, { x, y, buttons, wheelX = 0, wheelY = 0 }) {
    return header(SessionType.pointer).u32(seq).u16(x).u16(y).u16(buttons).i16(wheelX).i16(wheelY).finish();
  },
  key(seq, { keysym, down }) { return header(SessionType.key).u32(seq).u32(keysym).bool(down).finish(); },
  clipboard(seq, { text }) { return header(SessionType.clipboard).u32(seq).longString(text, MAXIMUM_CLIPBOARD).finish(); },
  chat(seq, { text }) { return header(SessionType.chat).u32(seq).string(text, MAXIMUM_CHAT).finish(); },
  ack(seq) { return header(SessionType.ack).u32(seq).finish(); },
  end(reason, message = '') { return header(SessionType.end).u16(reason).string(message, Cap.closeMessage).finish(); },
};

/** Checks a 16-byte RFB pixel format (§10.2) and returns it as an object. */
export function parsePixelFormat(b) {
  const f = {
    bitsPerPixel: b[0], depth: b[1], bigEndian: b[2] !== 0, trueColour: b[3] !== 0,
    redMax: b[4] << 8 | b[5], greenMax: b[6] << 8 | b[7], blueMax: b[8] << 8 | b[9],
    redShift: b[10], greenShift: b[11], blueShift: b[12],
  };
  if (!f.trueColour) throw ProtocolError.malformed('pixel format: colour maps are not supported');
  if (![8, 16, 32].includes(f.bitsPerPixel)) throw ProtocolError.malformed(`pixel format: ${f.bitsPerPixel} bits per pixel`);
  if (f.depth < 1 || f.depth > f.bitsPerPixel) throw ProtocolError.malformed(`pixel format: depth ${f.depth}`);
  for (const [name, max, shift] of [['red', f.redMax, f.redShift], ['green', f.greenMax, f.greenShift], ['blue', f.blueMax, f.blueShift]]) {
    if (max === 0 || (max & (max + 1)) !== 0) throw ProtocolError.malformed(`pixel format: ${name} max ${max} is not 2^n - 1`);
    if (shift + Math.log2(max + 1) > f.bitsPerPixel) throw ProtocolError.malformed(`pixel format: the ${name} channel does not fit`);
  }
  return f;
}

/**
 * Parses one whole session message into `{kind, ...}`. Returns null for an unknown optional type;
 * throws for an unknown required type or a malformed known one. Trailing bytes are ignored (§6).
 */
export function decodeSession(bytes) {
  if (bytes.length < 2) throw ProtocolError.malformed(`a session message of ${bytes.length} bytes has no type and flags`);
  const type = bytes[0];
  const name = typeNames.get(type);
  if (!name) {
    if (bytes[1] & OPTIONAL_FLAG) return null;
    throw ProtocolError.malformed(`unknown session message type 0x${type.toString(16)} not marked optional`);
  }
  const r = new ByteReader(bytes, 2, `a ${name} message`);
  switch (type) {
    case SessionType.start:
      return { kind: 'start', type, version: r.u16('version'), features: r.u64('features'),
        senderKey: r.fixed(32, 'sender key'), receiverKey: r.fixed(32, 'receiver key') };
    case SessionType.screenInfo: {
      const generation = r.u32('generation'), width = r.u16('width'), height = r.u16('height');
      if (width === 0 || height === 0) throw ProtocolError.malformed(`screen size ${width}x${height} is empty`);
      return { kind: 'screenInfo', type, generation, width, height, pixelFormat: parsePixelFormat(r.fixed(16, 'pixel format')) };
    }
    case SessionType.screenUpdate:
      return { kind: 'screenUpdate', type, generation: r.u32('generation'), sequence: r.u32('sequence'), update: r.rest() };
    case SessionType.updateAck: return { kind: 'updateAck', type, sequence: r.u32('sequence') };
    case SessionType.refresh: return { kind: 'refresh', type };
    case SessionType.cursorShape: {
      const hotX = r.u16('hot x'), hotY = r.u16('hot y'), width = r.u16('width'), height = r.u16('height');
      if (width > MAXIMUM_CURSOR_SIDE || height > MAXIMUM_CURSOR_SIDE) {
        throw new ProtocolError(CloseReason.tooLarge, `cursor ${width}x${height} is over ${MAXIMUM_CURSOR_SIDE}x${MAXIMUM_CURSOR_SIDE}`);
      }
      if (hotX >= Math.max(width, 1) || hotY >= Math.max(height, 1)) throw ProtocolError.malformed(`cursor hot spot (${hotX}, ${hotY}) is outside it`);
      return { kind: 'cursorShape', type, hotX, hotY, width, height, rgba: r.fixed(width * height * 4, 'pixels') };
    }
    case SessionType.cursorPosition: return { kind: 'cursorPosition', type, x: r.u16('x'), y: r.u16('y') };
    case SessionType.pointer:
      return { kind: 'pointer', type, seq: r.u32('seq'), x: r.u16('x'), y: r.u16('y'), buttons: r.u16('buttons'),
        wheelX: r.i16('wheel x'), wheelY: r.i16('wheel y') };
    case SessionType.key: return { kind: 'key', type, seq: r.u32('seq'), keysym: r.u32('keysym'), down: r.bool('down') };
    case SessionType.clipboard: return { kind: 'clipboard', type, seq: r.u32('seq'), text: r.longString('text', MAXIMUM_CLIPBOARD) };
    case SessionType.chat: return { kind: 'chat', type, seq: r.u32('seq'), text: r.string('text', MAXIMUM_CHAT) };
    case SessionType.ack: return { kind: 'ack', type, seq: r.u32('seq') };
    case SessionType.access: return { kind: 'access', type, seq: r.u32('seq'), mode: r.u8('mode') };
    case SessionType.pause: return { kind: 'pause', type, seq: r.u32('seq'), paused: r.bool('paused') };
    case SessionType.end: return { kind: 'end', type, reason: r.u16('reason'), message: r.string('message', Cap.closeMessage) };
  }
  throw ProtocolError.malformed(`session message type 0x${type.toString(16)} has no decoder`);
}
