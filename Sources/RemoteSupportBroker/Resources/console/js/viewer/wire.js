// Frames (PROTOCOL.md §4) and control messages (§5, §7): encoding what an agent sends, decoding every
// control message type, and a streaming frame reader with the length rules.

import { ByteReader, ByteWriter, CloseReason, ProtocolError } from './bytes.js';

export const FrameType = Object.freeze({
  hello: 0x01, ping: 0x02, pong: 0x03, close: 0x04,
  join: 0x10, joined: 0x11, connectRequest: 0x12, consent: 0x13,
  authenticate: 0x20, authenticated: 0x21, lobbySession: 0x22, lobbySessionGone: 0x23,
  connect: 0x24, connected: 0x25, connectRefused: 0x26,
  record: 0x30, resume: 0x31, resumed: 0x32, peerAway: 0x33, peerResumed: 0x34, sessionEnded: 0x35,
});

const typeNames = new Map(Object.entries(FrameType).map(([name, value]) => [value, name]));

/** The floor every implementation accepts, and the most a record frame may be (§4). */
export const MINIMUM_MAXIMUM_LENGTH = 65600;
/** What this viewer announces (the Swift default, 4 × the floor). */
export const OWN_MAXIMUM_LENGTH = 262400;
export const OPTIONAL_FLAG = 0x01;

export const Role = Object.freeze({ endUser: 1, agent: 2, broker: 3 });
export const HopFeature = Object.freeze({ resume: 1n });

/** Field caps in bytes (§7). */
export const Cap = Object.freeze({
  software: 64, closeMessage: 256, credential: 2048, name: 400, machine: 1020, token: 512, identifier: 64,
  ticket: 256, method: 32,
});

/** A whole frame as bytes: the 4-byte length, type, flags 0, payload. */
export function encodeFrame(type, payload = new Uint8Array(0)) {
  const out = new Uint8Array(6 + payload.length);
  new DataView(out.buffer).setUint32(0, 2 + payload.length);
  out[4] = type;
  out[5] = 0;
  out.set(payload, 6);
  return out;
}

/**
 * Splits a byte stream into frames. Invariant: `buffer[0..<filled]` holds the bytes of frames not yet
 * returned. A partial frame stays buffered (`next` returns null, nothing consumed); a length over the
 * maximum is refused as soon as its 4 bytes are in, before any payload is buffered.
 */
export class FrameReader {
  constructor(maximumLength = MINIMUM_MAXIMUM_LENGTH) {
    this.maximumLength = maximumLength;
    this.buffer = new Uint8Array(1024);
    this.filled = 0;
    this.start = 0;
    this.failed = null;
  }

  /** Bytes of a frame started and not complete. */
  get bufferedCount() { return this.filled - this.start; }

  push(bytes) {
    if (this.failed) throw this.failed;
    if (this.start > 0 && this.start === this.filled) { this.start = 0; this.filled = 0; }
    if (this.filled + bytes.length > this.buffer.length) {
      const live = this.filled - this.start;
      const needed = live + bytes.length;
      const next = needed > this.buffer.length ? new Uint8Array(Math.max(needed, this.buffer.length * 2)) : this.buffer;
      next.set(this.buffer.subarray(this.start, this.filled), 0);
      this.buffer = next;
      this.filled = live;
      this.start = 0;
    }
    this.buffer.set(bytes, this.filled);
    this.filled += bytes.length;
    this.#checkLength();
  }

  #checkLength() {
    if (this.filled - this.start < 4) return;
    const length = new DataView(this.buffer.buffer, this.start, 4).getUint32(0);
    if (length > this.maximumLength) {
      this.failed = new ProtocolError(CloseReason.tooLarge, `a frame of ${length} bytes, over the limit of ${this.maximumLength}`);
      throw this.failed;
    }
    if (length < 2) {
      this.failed = ProtocolError.malformed(`a frame length of ${length} (at least 2: type and flags)`);
      throw this.failed;
    }
  }

  /** The next whole frame `{type, flags, payload}` (payload copied), or null when none is complete. */
  next() {
    if (this.failed) throw this.failed;
    if (this.filled - this.start < 4) return null;
    this.#checkLength();
    const length = new DataView(this.buffer.buffer, this.start, 4).getUint32(0);
    if (this.filled - this.start < 4 + length) return null;
    const type = this.buffer[this.start + 4];
    const flags = this.buffer[this.start + 5];
    const payload = this.buffer.slice(this.start + 6, this.start + 4 + length);
    this.start += 4 + length;
    // The next frame's length is checked as soon as its 4 bytes are here.
    this.#checkLength();
    return { type, flags, payload };
  }
}

/**
 * One WebSocket message as one frame (§2): the length field must equal the message size minus 4.
 * Checks the length rules of §4 with `maximumLength`.
 */
export function frameFromMessage(bytes, maximumLength) {
  if (bytes.length < 4) throw ProtocolError.malformed(`a WebSocket message of ${bytes.length} bytes has no frame length`);
  const length = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0);
  if (length > maximumLength) throw new ProtocolError(CloseReason.tooLarge, `a frame of ${length} bytes, over the limit of ${maximumLength}`);
  if (length < 2) throw ProtocolError.malformed(`a frame length of ${length} (at least 2: type and flags)`);
  if (length !== bytes.length - 4) {
    throw ProtocolError.malformed(`a WebSocket message of ${bytes.length} bytes holds a frame of length ${length}: one frame per message`);
  }
  return { type: bytes[4], flags: bytes[5], payload: bytes.subarray(6) };
}

// MARK: - Encoding (everything, so tests can build any frame; an agent sends hello, ping, pong, close,
// authenticate, connect, session-ended and resume)

export const encode = {
  hello({ lowest = 1, highest = 1, role = Role.agent, maximumLength = OWN_MAXIMUM_LENGTH, features = HopFeature.resume, software = 'remotesupport-console' } = {}) {
    const w = new ByteWriter().append([0x52, 0x53, 0x55, 0x50]).u16(lowest).u16(highest).u8(role)
      .u32(maximumLength).u64(features).string(software, Cap.software);
    return encodeFrame(FrameType.hello, w.finish());
  },
  ping(data) { return encodeFrame(FrameType.ping, new ByteWriter().u64(data).finish()); },
  pong(data) { return encodeFrame(FrameType.pong, new ByteWriter().u64(data).finish()); },
  close(reason, message = '') {
    return encodeFrame(FrameType.close, new ByteWriter().u16(reason).string(message, Cap.closeMessage).finish());
  },
  join({ method, credential, name, machine, os }) {
    return encodeFrame(FrameType.join, new ByteWriter().u8(method).string(credential, Cap.credential)
      .string(name, Cap.name).string(machine, Cap.machine).string(os, Cap.machine).finish());
  },
  joined({ sessionId, resumeToken, grace, wait }) {
    return encodeFrame(FrameType.joined, new ByteWriter().append(sessionId).append(resumeToken).u32(grace).u32(wait).finish());
  },
  connectRequest({ name, jobTitle, organisation, mode, agentKey }) {
    return encodeFrame(FrameType.connectRequest, new ByteWriter().string(name, Cap.name).string(jobTitle, Cap.name)
      .string(organisation, Cap.name).u8(mode).append(agentKey).finish());
  },
  consent({ mode, endUserKey }) {
    const w = new ByteWriter().u8(mode);
    if (mode !== 0) w.append(endUserKey);
    return encodeFrame(FrameType.consent, w.finish());
  },
  authenticate(token) { return encodeFrame(FrameType.authenticate, new ByteWriter().string(token, Cap.token).finish()); },
  connect(sessionId, mode, agentKey) {
    return encodeFrame(FrameType.connect, new ByteWriter().append(sessionId).u8(mode).append(agentKey).finish());
  },
  record(epoch, counter, sealed) {
    return encodeFrame(FrameType.record, new ByteWriter(12 + sealed.length).u32(epoch).u64(counter).append(sealed).finish());
  },
  resume(token) { return encodeFrame(FrameType.resume, token); },
  sessionEnded(reason, message = '') {
    return encodeFrame(FrameType.sessionEnded, new ByteWriter().u16(reason).string(message, Cap.closeMessage).finish());
  },
};

// MARK: - Decoding

/**
 * Decodes a frame into `{kind, ...fields}`. Returns null for an unknown type marked optional (to be
 * skipped); throws `protocol-error` for an unknown required type or a malformed known one.
 */
export function decodeControl(frame) {
  const name = typeNames.get(frame.type);
  if (!name) {
    if (frame.flags & OPTIONAL_FLAG) return null;
    throw ProtocolError.malformed(`unknown frame type 0x${frame.type.toString(16)} not marked optional`);
  }
  const r = new ByteReader(frame.payload, 0, `a ${name} frame`);
  switch (frame.type) {
    case FrameType.hello: {
      const magic = r.fixed(4, 'magic');
      if (String.fromCharCode(...magic) !== 'RSUP') throw ProtocolError.malformed('the hello does not start with RSUP');
      const lowest = r.u16('lowest version'), highest = r.u16('highest version');
      if (lowest < 1 || highest < lowest) throw ProtocolError.malformed(`hello versions ${lowest}..${highest}`);
      const role = r.u8('role');
      const maximumLength = r.u32('maximum frame length');
      if (maximumLength < MINIMUM_MAXIMUM_LENGTH) throw ProtocolError.malformed(`hello maximum frame length ${maximumLength} is under ${MINIMUM_MAXIMUM_LENGTH}`);
      return { kind: 'hello', lowest, highest, role, maximumLength, features: r.u64('hop features'), software: r.string('software', Cap.software) };
    }
    case FrameType.ping: return { kind: 'ping', data: r.u64('data') };
    case FrameType.pong: return { kind: 'pong', data: r.u64('data') };
    case FrameType.close: return { kind: 'close', reason: r.u16('reason'), message: r.string('message', Cap.closeMessage) };
    case FrameType.join: {
      const method = r.u8('method');
      if (method !== 1 && method !== 2) throw ProtocolError.malformed(`join method ${method}`);
      return { kind: 'join', method, credential: r.string('credential', Cap.credential), name: r.string('name', Cap.name),
        machine: r.string('machine name', Cap.machine), os: r.string('operating system', Cap.machine) };
    }
    case FrameType.joined:
      return { kind: 'joined', sessionId: r.fixed(16, 'session ID'), resumeToken: r.fixed(32, 'resume token'),
        grace: r.u32('grace'), wait: r.u32('wait') };
    case FrameType.connectRequest:
      return { kind: 'connectRequest', name: r.string('agent name', Cap.name), jobTitle: r.string('job title', Cap.name),
        organisation: r.string('organisation', Cap.name), mode: r.u8('mode'), agentKey: r.fixed(32, 'agent key') };
    case FrameType.consent: {
      const mode = r.u8('mode');
      return { kind: 'consent', mode, endUserKey: mode === 0 ? null : r.fixed(32, 'end-user key') };
    }
    case FrameType.authenticate: return { kind: 'authenticate', token: r.string('token', Cap.token) };
    case FrameType.authenticated:
      return { kind: 'authenticated', agentId: r.string('agent ID', Cap.identifier), name: r.string('name', Cap.name),
        jobTitle: r.string('job title', Cap.name), organisation: r.string('organisation', Cap.name) };
    case FrameType.lobbySession:
      return { kind: 'lobbySession', sessionId: r.fixed(16, 'session ID'), name: r.string('name', Cap.name),
        machine: r.string('machine name', Cap.machine), os: r.string('operating system', Cap.machine),
        ticket: r.string('ticket', Cap.ticket), joinMethod: r.string('join method', Cap.method),
        joinedAt: Number(r.i64('joined at')) };
    case FrameType.lobbySessionGone:
      return { kind: 'lobbySessionGone', sessionId: r.fixed(16, 'session ID'), reason: r.u16('reason') };
    case FrameType.connect:
      return { kind: 'connect', sessionId: r.fixed(16, 'session ID'), mode: r.u8('mode'), agentKey: r.fixed(32, 'agent key') };
    case FrameType.connected:
      return { kind: 'connected', sessionId: r.fixed(16, 'session ID'), mode: r.u8('mode'),
        endUserKey: r.fixed(32, 'end-user key'), resumeToken: r.fixed(32, 'resume token'), grace: r.u32('grace') };
    case FrameType.connectRefused:
      return { kind: 'connectRefused', sessionId: r.fixed(16, 'session ID'), reason: r.u16('reason'),
        message: r.string('message', Cap.closeMessage) };
    case FrameType.record: {
      const epoch = r.u32('epoch');
      const counter = Number(r.u64('counter'));
      if (r.remaining < 16) throw ProtocolError.malformed(`a record of ${r.remaining} sealed bytes (the tag alone is 16)`);
      return { kind: 'record', epoch, counter, sealed: r.rest() };
    }
    case FrameType.resume: return { kind: 'resume', resumeToken: r.fixed(32, 'resume token') };
    case FrameType.resumed: return { kind: 'resumed', sessionId: r.fixed(16, 'session ID'), epoch: r.u32('epoch') };
    case FrameType.peerAway: return { kind: 'peerAway', grace: r.u32('grace') };
    case FrameType.peerResumed: return { kind: 'peerResumed', epoch: r.u32('epoch') };
    case FrameType.sessionEnded:
      return { kind: 'sessionEnded', reason: r.u16('reason'), message: r.string('message', Cap.closeMessage) };
  }
  throw ProtocolError.malformed(`frame type 0x${frame.type.toString(16)} has no decoder`);
}

/** The version both speak (§5), or an `unsupported-version` error. */
export function negotiateVersion(own, peer) {
  const version = Math.min(own.highest, peer.highest);
  if (version < Math.max(own.lowest, peer.lowest)) {
    throw new ProtocolError(CloseReason.unsupportedVersion, `no common version: ours ${own.lowest}..${own.highest}, theirs ${peer.lowest}..${peer.highest}`);
  }
  return version;
}
