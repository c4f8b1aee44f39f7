// Big-endian byte reading and writing with the protocol's string rules (PROTOCOL.md §3), and the error
// type every layer throws: a close reason (§15) plus a message for people.

/** Close reasons (PROTOCOL.md §15). An open set: unknown codes are kept and shown by number. */
export const CloseReason = Object.freeze({
  normal: 0, endedByEndUser: 1, endedByAgent: 2, protocolError: 3, unsupportedVersion: 4, tooLarge: 5,
  timeout: 6, cryptoFailure: 7, authenticationFailed: 8, joinRefused: 9, consentDeclined: 10, expired: 11,
  resumeRefused: 12, rateLimited: 13, shuttingDown: 14, peerLost: 15, notAllowed: 16, overloaded: 17,
  internalError: 18,
});

const reasonNames = ['normal', 'ended-by-end-user', 'ended-by-agent', 'protocol-error', 'unsupported-version',
  'too-large', 'timeout', 'crypto-failure', 'authentication-failed', 'join-refused', 'consent-declined', 'expired',
  'resume-refused', 'rate-limited', 'shutting-down', 'peer-lost', 'not-allowed', 'overloaded', 'internal-error'];

/** The wire name of a close reason, or `reason <n>` for one this code does not know. */
export function closeReasonName(code) {
  return reasonNames[code] ?? `reason ${code}`;
}

/** A failure with the close reason to send (or that was received) and a human-readable message. */
export class ProtocolError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'ProtocolError';
    this.code = code;
  }
  static malformed(message) { return new ProtocolError(CloseReason.protocolError, message); }
}

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 of `text` without NUL characters, cut to at most `cap` bytes at a character boundary (§3). */
export function cappedUTF8(text, cap) {
  const bytes = encoder.encode(String(text).replaceAll('\0', ''));
  if (bytes.length <= cap) return bytes;
  let end = cap;
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;   // never inside a sequence
  return bytes.subarray(0, end);
}

/** Appends big-endian values to a growing buffer. */
export class ByteWriter {
  constructor(capacity = 64) {
    this.bytes = new Uint8Array(capacity);
    this.length = 0;
  }
  #reserve(n) {
    if (this.length + n <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + n));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }
  u8(v) { this.#reserve(1); this.bytes[this.length++] = v; return this; }
  u16(v) { this.#reserve(2); this.bytes[this.length++] = v >>> 8; this.bytes[this.length++] = v; return this; }
  u32(v) { this.#reserve(4); new DataView(this.bytes.buffer).setUint32(this.length, v >>> 0); this.length += 4; return this; }
  i16(v) { return this.u16(v & 0xffff); }
  u64(v) { this.#reserve(8); new DataView(this.bytes.buffer).setBigUint64(this.length, BigInt.asUintN(64, BigInt(v))); this.length += 8; return this; }
  bool(v) { return this.u8(v ? 1 : 0); }
  append(bytes) { this.#reserve(bytes.length); this.bytes.set(bytes, this.length); this.length += bytes.length; return this; }
  string(text, cap) { const b = cappedUTF8(text, cap); return this.u16(b.length).append(b); }
  longString(text, cap) { const b = cappedUTF8(text, cap); return this.u32(b.length).append(b); }
  finish() { return this.bytes.slice(0, this.length); }
}

/**
 * Reads fields from a message. A field missing because the payload ends early is `protocol-error`
 * ("truncated"); bytes after the last field read are ignored by the caller (§6).
 */
export class ByteReader {
  constructor(bytes, offset = 0, what = 'a message') {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.offset = offset;
    this.what = what;
  }
  get remaining() { return this.bytes.length - this.offset; }
  need(n, field) {
    if (this.remaining < n) throw ProtocolError.malformed(`${this.what} is truncated: ${field} is missing`);
  }
  u8(field) { this.need(1, field); return this.bytes[this.offset++]; }
  u16(field) { this.need(2, field); const v = this.view.getUint16(this.offset); this.offset += 2; return v; }
  i16(field) { this.need(2, field); const v = this.view.getInt16(this.offset); this.offset += 2; return v; }
  u32(field) { this.need(4, field); const v = this.view.getUint32(this.offset); this.offset += 4; return v; }
  /** A u64 as a BigInt (ping data and session features; other u64 fields fit in a Number). */
  u64(field) { this.need(8, field); const v = this.view.getBigUint64(this.offset); this.offset += 8; return v; }
  i64(field) { this.need(8, field); const v = this.view.getBigInt64(this.offset); this.offset += 8; return v; }
  bool(field) {
    const v = this.u8(field);
    if (v > 1) throw ProtocolError.malformed(`${this.what}: ${field} is ${v}, not a bool`);
    return v === 1;
  }
  fixed(n, field) { this.need(n, field); const b = this.bytes.slice(this.offset, this.offset + n); this.offset += n; return b; }
  rest() { const b = this.bytes.subarray(this.offset); this.offset = this.bytes.length; return b; }
  string(field, cap) { return this.#text(this.u16(field), field, cap); }
  longString(field, cap) { return this.#text(this.u32(field), field, cap); }
  #text(count, field, cap) {
    // The cap is checked before the bytes are looked at: a count over it is `too-large` (§3).
    if (count > cap) throw new ProtocolError(CloseReason.tooLarge, `${this.what}: ${field} is ${count} bytes, over the cap of ${cap}`);
    this.need(count, field);
    const bytes = this.bytes.subarray(this.offset, this.offset + count);
    this.offset += count;
    let text;
    try { text = strictDecoder.decode(bytes); } catch {
      throw ProtocolError.malformed(`${this.what}: ${field} is not valid UTF-8`);
    }
    if (text.includes('\0')) throw ProtocolError.malformed(`${this.what}: ${field} contains a NUL character`);
    return text;
  }
}

/** Lower-case hex of bytes (session IDs in logs and tests). */
export function toHex(bytes) {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/** Bytes of a hex string (whitespace ignored). */
export function fromHex(hex) {
  const clean = hex.replace(/\s+/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-f]/i.test(clean)) throw new Error(`not hex: ${hex.slice(0, 20)}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.substr(i * 2, 2), 16);
  return out;
}

/** A session ID's 16 bytes from its canonical UUID text (§3: RFC 4122 byte order). */
export function sessionIdBytes(uuid) {
  const hex = String(uuid).replaceAll('-', '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new Error(`not a session ID: ${uuid}`);
  return fromHex(hex);
}

/** The canonical lower-case UUID text of 16 session ID bytes. */
export function sessionIdText(bytes) {
  const h = toHex(bytes);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
