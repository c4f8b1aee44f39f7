// The agent's side of the protocol (PROTOCOL.md §16.3) over a browser WebSocket: hello, authenticate,
// lobby events, connect, the end-to-end session (records, screen, input), keepalive (§14) and resume
// of this side's dropped connection (§13).
//
//     idle --authenticate--> authenticating --authenticated--> lobby
//       lobby --connect--> connecting --connected--> viewing --end / session-ended--> lobby
//       connecting --connect-refused--> lobby
//
// Received frames are handled one at a time, in order (records are opened with async WebCrypto and
// updates decoded with an async zlib stream); everything sent goes through one ordered outbox, so an
// `end` record is out before the `session-ended` frame that follows it.

import { CloseReason, ProtocolError, closeReasonName, equalBytes, sessionIdBytes, sessionIdText } from './bytes.js';
import { deriveSessionKeys, generateKeyPair } from './crypto.js';
import { ALL_FEATURES, AccessMode, encodeSession } from './messages.js';
import { UpdateDecoder } from './rfb.js';
import { SecureChannel } from './session.js';
import { MINIMUM_MAXIMUM_LENGTH, OWN_MAXIMUM_LENGTH, Role, decodeControl, encode, frameFromMessage, negotiateVersion } from './wire.js';

const OWN_HELLO = { lowest: 1, highest: 1 };
/** Session message kinds an agent accepts (§16.3); `start`, `ack` and `end` are handled before. */
const AGENT_ACCEPTS = new Set(['screenInfo', 'screenUpdate', 'cursorShape', 'cursorPosition', 'clipboard', 'chat', 'access', 'pause']);
/** Motion waits while this much is still unsent on the socket, so it merges instead of queueing up. */
const BUFFERED_HIGH_WATER = 256 * 1024;

/**
 * Events (CustomEvent, fields in `detail`): `authenticated` {agentId, name, jobTitle, organisation},
 * `lobby-session` {sessionId (text), name, machine, os, ticket, joinMethod, joinedAt}, `lobby-session-gone`
 * {sessionId, reason}, `session-started` {sessionId, mode, sas}, `connect-refused` {sessionId, reason, message},
 * `peer-verified` {features}, `screen-info` {width, height, pixelFormat, framebuffer}, `screen-updated`
 * {rectangles, framebuffer}, `cursor-shape` {hotX, hotY, width, height, rgba}, `cursor-position` {x, y},
 * `clipboard` {text}, `chat` {text}, `access` {mode}, `paused` {paused}, `peer-away` {grace}, `peer-resumed`,
 * `reconnecting` {attempt}, `resumed`, `session-ended` {reason, message}, `closed` {reason, message, byPeer}.
 */
export class AgentClient extends EventTarget {
  #socket = null; #WebSocket; #inbox = Promise.resolve(); #outbox = Promise.resolve(); #flushScheduled = false;
  #peerHello = null; #ownKey = null; #connectingId = null; #channel = null; #resumeToken = null; #grace = 0;
  #awaitingResume = false; #sessionEndReported = false; #generation = 0; #lastReceived = 0; #pingSent = false;
  #startedAt = 0; #timer = null; #reconnectAttempt = 0; #closedAt = 0;

  /**
   * Options: `url` (ws(s)://host/ws), `token` ('' = the broker uses the login cookie sent with the
   * upgrade), `WebSocket` (constructor, for tests), `keepaliveInterval` (15 s), `keepaliveTimeout` (45 s),
   * `handshakeTimeout` (10 s), `features` (session features, BigInt), `stallMs` (zlib stall, see
   * InflateStream), `software`, `now` (ms clock).
   */
  constructor({ url, token = '', WebSocket = globalThis.WebSocket, keepaliveInterval = 15000, keepaliveTimeout = 45000,
    handshakeTimeout = 10000, features = ALL_FEATURES, stallMs, software = 'remotesupport-console', now = () => performance.now() } = {}) {
    super();
    this.url = url;
    this.token = token;
    this.#WebSocket = WebSocket;
    this.options = { keepaliveInterval, keepaliveTimeout, handshakeTimeout, features, stallMs, software };
    this.now = now;
    /** 'idle' | 'authenticating' | 'lobby' | 'connecting' | 'viewing' | 'closed' */
    this.state = 'idle';
    this.sessionId = null;
    this.mode = null;
    this.paused = false;
    this.peerAway = false;
    this.sas = null;
    /** The current generation's UpdateDecoder (its `framebuffer` holds the RGBA pixels). */
    this.screen = null;
    this.closeInfo = null;
  }

  // MARK: Public calls

  /** Opens the connection and authenticates. */
  start() {
    if (this.state !== 'idle') throw new ProtocolError(CloseReason.notAllowed, 'already started');
    this.#open();
    this.#send(encode.authenticate(this.token));
    this.state = 'authenticating';
  }

  /** Asks to connect to a waiting session (UUID text or 16 bytes) with a fresh X25519 key pair. */
  async connect(sessionId, mode = AccessMode.control) {
    if (this.state !== 'lobby') throw new ProtocolError(CloseReason.notAllowed, `cannot connect in state ${this.state}`);
    const id = typeof sessionId === 'string' ? sessionIdBytes(sessionId) : sessionId;
    this.state = 'connecting';
    this.#connectingId = id;
    this.#ownKey = await generateKeyPair();
    this.#send(encode.connect(id, mode, this.#ownKey.publicKey));
  }

  /** Whether input is sent now: viewing, control granted, not paused, the end user present. */
  get canSendInput() {
    return this.state === 'viewing' && this.mode === AccessMode.control && !this.paused && !this.peerAway && !!this.#channel;
  }

  /** Pointer event `{x, y, buttons, wheelX, wheelY}`; false (nothing sent) when input is not allowed. */
  sendPointer({ x, y, buttons = 0, wheelX = 0, wheelY = 0 }) {
    if (!this.canSendInput) return false;
    const clamp = (v, lo, hi) => Math.max(lo, Math.min(hi, Math.round(v)));
    this.#channel.queueReliable('pointer', { x: clamp(x, 0, 65535), y: clamp(y, 0, 65535), buttons: buttons & 0xffff,
      wheelX: clamp(wheelX, -32768, 32767), wheelY: clamp(wheelY, -32768, 32767) });
    this.#scheduleFlush();
    return true;
  }

  /** An X11 keysym down or up; false when input is not allowed. */
  sendKey(keysym, down) {
    if (!this.canSendInput) return false;
    this.#channel.queueReliable('key', { keysym: keysym >>> 0, down });
    this.#scheduleFlush();
    return true;
  }

  sendClipboard(text) { return this.#queueReliable('clipboard', { text }); }
  sendChat(text) { return this.#queueReliable('chat', { text }); }

  /** Asks for a full update. */
  requestRefresh() {
    if (!this.#channel) return false;
    this.#channel.queue(encodeSession.refresh());
    this.#scheduleFlush();
    return true;
  }

  /** Ends the session: `end` end to end, then `session-ended` to the broker (§10.15); back to the lobby. */
  endSession(reason = CloseReason.endedByAgent, message = '') {
    if (this.state !== 'viewing' || !this.#channel) throw new ProtocolError(CloseReason.notAllowed, 'no connected session');
    const channel = this.#channel;
    channel.queue(encodeSession.end(reason, message));
    if (!this.#awaitingResume) this.#enqueue(async () => { for (const f of await channel.flush()) this.#write(f); });
    this.#send(encode.sessionEnded(reason, message));
    this.#reportSessionEnded(reason, message);
    return this.#outbox;
  }

  /** Closes the connection with a close frame; the session ends with it. The close goes after what is
   * already queued: an `end` record and `session-ended` are sealed asynchronously, and a viewer that
   * closes as soon as it hears its own session end must not cut them off. */
  close(reason = CloseReason.normal, message = '') {
    this.#resumeToken = null;
    return this.#enqueue(() => this.#closeLink(reason, message, false));
  }

  // MARK: The socket

  #open() {
    const socket = new this.#WebSocket(this.url);
    socket.binaryType = 'arraybuffer';
    this.#socket = socket;
    this.#peerHello = null;
    this.#startedAt = this.#lastReceived = this.now();
    this.#pingSent = false;
    socket.onmessage = (event) => {
      if (socket !== this.#socket) return;
      this.#lastReceived = this.now();
      this.#pingSent = false;
      if (!(event.data instanceof ArrayBuffer)) {
        this.#fail(ProtocolError.malformed('a text WebSocket message (the protocol uses binary messages only)'));
        return;
      }
      const bytes = new Uint8Array(event.data);
      this.#inbox = this.#inbox.then(() => this.#receive(bytes)).catch((error) => this.#fail(error));
    };
    socket.onclose = () => { if (socket === this.#socket) this.#transportLost(); };
    socket.onerror = () => {};   // onclose follows
    this.#writeNow(encode.hello({ ...OWN_HELLO, role: Role.agent, maximumLength: OWN_MAXIMUM_LENGTH, software: this.options.software }));
    clearInterval(this.#timer);
    this.#timer = setInterval(() => this.#tick(), 1000);
  }

  /** Writes at once if the socket is open, else after it opens (a WebSocket cannot send while CONNECTING). */
  #writeNow(frame) {
    const socket = this.#socket;
    if (!socket) return;
    if (socket.readyState === 1) socket.send(frame);
    else if (socket.readyState === 0) socket.addEventListener('open', () => { if (socket === this.#socket) socket.send(frame); }, { once: true });
  }

  #write(frame) { if (this.state !== 'closed') this.#writeNow(frame); }

  #enqueue(task) {
    this.#outbox = this.#outbox.then(task).catch((error) => this.#fail(error));
    return this.#outbox;
  }

  /** A control frame, in order after everything queued before it. */
  #send(frame) { this.#enqueue(() => this.#write(frame)); }

  #queueReliable(kind, fields) {
    if (!this.#channel || this.state !== 'viewing') return false;
    this.#channel.queueReliable(kind, fields);
    this.#scheduleFlush();
    return true;
  }

  /** Seals pending session messages soon, once the socket has room (motion merges meanwhile). */
  #scheduleFlush() {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    const attempt = () => {
      const socket = this.#socket;
      if (socket && socket.bufferedAmount > BUFFERED_HIGH_WATER) { setTimeout(attempt, 20); return; }
      this.#flushScheduled = false;
      const channel = this.#channel;
      if (!channel || this.#awaitingResume || !channel.hasPending || this.state === 'closed') return;
      this.#enqueue(async () => { for (const f of await channel.flush()) this.#write(f); });
    };
    queueMicrotask(attempt);
  }

  // MARK: Receiving

  async #receive(bytes) {
    if (this.state === 'closed') return;
    const frame = frameFromMessage(bytes, this.#peerHello ? OWN_MAXIMUM_LENGTH : MINIMUM_MAXIMUM_LENGTH);
    const message = decodeControl(frame);
    if (message === null) {
      if (!this.#peerHello) throw ProtocolError.malformed('an unknown optional frame before the hello');
      return;
    }
    if (!this.#peerHello) {
      if (message.kind !== 'hello') throw ProtocolError.malformed(`the first frame is ${message.kind}, not hello`);
      if (message.role !== Role.broker) throw ProtocolError.malformed(`role ${message.role} cannot talk to an agent`);
      negotiateVersion(OWN_HELLO, message);
      this.#peerHello = message;
      return;
    }
    switch (message.kind) {
      case 'hello': throw ProtocolError.malformed('a second hello');
      case 'ping': this.#writeNow(encode.pong(message.data)); return;
      case 'pong': return;
      case 'close': return this.#closedByPeer(message);
      case 'record': return this.#record(message);
      case 'resumed': return this.#resumed(message);
      case 'peerAway':
        if (!this.#channel) throw ProtocolError.malformed('peer-away outside a connected session');
        this.peerAway = true;
        this.#emit('peer-away', { grace: message.grace });
        return;
      case 'peerResumed':
        if (!this.#channel) throw ProtocolError.malformed('peer-resumed outside a connected session');
        this.peerAway = false;
        this.#startEpoch(message.epoch);
        this.#emit('peer-resumed', {});
        return;
      case 'sessionEnded':
        if (this.state === 'viewing') { this.#reportSessionEnded(message.reason, message.message); return; }
        if ((this.state === 'lobby' || this.state === 'connecting') && this.#sessionEndReported) {
          if (this.state === 'connecting') this.state = 'lobby';
          return;
        }
        throw ProtocolError.malformed(`session-ended in state ${this.state}`);
    }
    return this.#control(message);
  }

  #control(m) {
    const s = this.state;
    if (s === 'authenticating' && m.kind === 'authenticated') {
      this.state = 'lobby';
      this.agentId = m.agentId;
      this.#emit('authenticated', { agentId: m.agentId, name: m.name, jobTitle: m.jobTitle, organisation: m.organisation });
      return;
    }
    const inLobby = s === 'lobby' || s === 'connecting' || s === 'viewing';
    if (inLobby && m.kind === 'lobbySession') {
      this.#emit('lobby-session', { ...m, sessionId: sessionIdText(m.sessionId) });
      return;
    }
    if (inLobby && m.kind === 'lobbySessionGone') {
      this.#emit('lobby-session-gone', { sessionId: sessionIdText(m.sessionId), reason: m.reason });
      return;
    }
    if (s === 'connecting' && m.kind === 'connected') {
      if (!equalBytes(m.sessionId, this.#connectingId)) throw ProtocolError.malformed(`connected to ${sessionIdText(m.sessionId)}, but asked for another session`);
      return this.#connected(m);
    }
    if (s === 'connecting' && m.kind === 'connectRefused') {
      if (!equalBytes(m.sessionId, this.#connectingId)) throw ProtocolError.malformed('connect-refused for another session than asked');
      this.state = 'lobby';
      this.#emit('connect-refused', { sessionId: sessionIdText(m.sessionId), reason: m.reason, message: m.message });
      return;
    }
    throw ProtocolError.malformed(`a ${m.kind} frame is not expected by an agent in state ${s}`);
  }

  async #connected(m) {
    const keys = await deriveSessionKeys({ own: this.#ownKey, peerKey: m.endUserKey, sessionId: m.sessionId, ownRole: 'agent' });
    this.#channel = new SecureChannel({ keys, ownKey: this.#ownKey.publicKey, peerKey: m.endUserKey, features: this.options.features });
    this.sessionId = sessionIdText(m.sessionId);
    this.mode = m.mode;
    this.paused = false;
    this.peerAway = false;
    this.sas = keys.sas;
    this.screen?.close();
    this.screen = null;
    this.state = 'viewing';
    this.#sessionEndReported = false;
    this.#resumeToken = m.resumeToken;
    this.#grace = m.grace;
    this.#emit('session-started', { sessionId: this.sessionId, mode: m.mode, sas: keys.sas });
    this.#scheduleFlush();   // our `start`, sealed right after the keys exist
  }

  async #record(record) {
    if (!this.#channel) {
      // Records the broker relayed before it heard the session end are dropped unread.
      if (this.#sessionEndReported) return;
      throw ProtocolError.malformed('a record outside a connected session');
    }
    const channel = this.#channel;
    const message = await channel.open(record);
    if (channel.hasPending) this.#scheduleFlush();   // an ack is due
    if (message === null) return;
    switch (message.kind) {
      case 'start': this.#emit('peer-verified', { features: message.features }); return;
      case 'end': this.#reportSessionEnded(message.reason, message.message); return;
    }
    if (!AGENT_ACCEPTS.has(message.kind)) throw ProtocolError.malformed(`a ${message.kind} session message is not for an agent`);
    await this.#session(message, channel);
  }

  async #session(m, channel) {
    switch (m.kind) {
      case 'screenInfo': {
        this.screen?.close();   // the old one goes first: two of the largest at once would be 2 GiB
        this.screen = null;
        try {
          this.screen = new UpdateDecoder(m.width, m.height, m.pixelFormat, { stallMs: this.options.stallMs });
        } catch (error) {
          throw ProtocolError.malformed(`screen info: ${error.message}`);
        }
        this.#generation = m.generation;
        this.#emit('screen-info', { width: m.width, height: m.height, pixelFormat: m.pixelFormat, framebuffer: this.screen.framebuffer });
        return;
      }
      case 'screenUpdate': {
        if (!this.screen) throw ProtocolError.malformed('a screen update before any screen info');
        if (m.generation === this.#generation) {
          let rectangles;
          try {
            rectangles = await this.screen.apply(m.update);
          } catch (error) {
            throw ProtocolError.malformed(`screen update ${m.sequence}: ${error.message}`);
          }
          this.#emit('screen-updated', { rectangles, framebuffer: this.screen.framebuffer });
        }
        // An update of an earlier generation is acknowledged (the window moves on) but not applied.
        if (this.#channel === channel) {
          channel.queue(encodeSession.updateAck(m.sequence));
          this.#scheduleFlush();
        }
        return;
      }
      case 'cursorShape': this.#emit('cursor-shape', m); return;
      case 'cursorPosition': this.#emit('cursor-position', { x: m.x, y: m.y }); return;
      case 'clipboard': this.#emit('clipboard', { text: m.text }); return;
      case 'chat': this.#emit('chat', { text: m.text }); return;
      case 'access': this.mode = m.mode; this.#emit('access', { mode: m.mode }); return;
      case 'pause': this.paused = m.paused; this.#emit('paused', { paused: m.paused }); return;
    }
  }

  #startEpoch(epoch) {
    if (!this.#channel) return;
    if (epoch <= this.#channel.epoch) throw ProtocolError.malformed(`epoch ${epoch} after epoch ${this.#channel.epoch}`);
    this.#channel.startEpoch(epoch);
    this.#scheduleFlush();
  }

  #resumed(m) {
    if (!this.#awaitingResume) throw ProtocolError.malformed('resumed without a resume');
    if (this.sessionId === null || sessionIdText(m.sessionId) !== this.sessionId) throw ProtocolError.malformed('resumed into another session');
    this.#awaitingResume = false;
    this.peerAway = false;
    this.#reconnectAttempt = 0;
    this.#emit('resumed', {});
    if (m.epoch === 0) {
      this.#reportSessionEnded(CloseReason.peerLost, 'the session is no longer connected');
      return;
    }
    this.#startEpoch(m.epoch);
  }

  // MARK: Ending

  #reportSessionEnded(reason, message) {
    const wasViewing = this.state === 'viewing';
    this.#channel = null;
    this.#resumeToken = null;
    this.screen?.close();
    if (wasViewing) this.state = 'lobby';
    this.sessionId = null;
    this.mode = null;
    if (!this.#sessionEndReported) {
      this.#sessionEndReported = true;
      this.#emit('session-ended', { reason, message, reasonName: closeReasonName(reason) });
    }
  }

  #closedByPeer({ reason, message }) {
    // A broker that shuts down or timed us out leaves the session resumable (§13).
    const resumable = this.#resumeToken !== null && (reason === CloseReason.shuttingDown || reason === CloseReason.timeout);
    const socket = this.#socket;
    this.#socket = null;
    socket?.close();
    if (resumable) { this.#reconnect(); return; }
    this.#finish(reason, message, true);
  }

  /** A protocol error (ours to report): close with its reason; the session is over. */
  #fail(error) {
    if (this.state === 'closed') return;
    const code = error instanceof ProtocolError ? error.code : CloseReason.internalError;
    console.warn('viewer: closing the connection:', error);
    this.#resumeToken = null;
    this.#closeLink(code, error.message, false);
  }

  #closeLink(reason, message, byPeer) {
    if (this.state === 'closed') return;
    const socket = this.#socket;
    this.#socket = null;
    if (socket && socket.readyState === 1) { socket.send(encode.close(reason, message)); }
    socket?.close();
    this.#finish(reason, message, byPeer);
  }

  #finish(reason, message, byPeer) {
    clearInterval(this.#timer);
    const hadSession = this.state === 'viewing';
    if (hadSession) this.#reportSessionEnded(reason, message);
    this.#channel = null;
    this.screen?.close();
    this.state = 'closed';
    this.closeInfo = { reason, message, byPeer, reasonName: closeReasonName(reason) };
    this.#emit('closed', this.closeInfo);
  }

  /** The transport dropped without a close frame: resume if there is a session, else it is over. */
  #transportLost() {
    this.#socket = null;
    if (this.state === 'closed') return;
    if (this.#resumeToken && this.state === 'viewing') { this.#reconnect(); return; }
    this.#finish(CloseReason.peerLost, 'the connection dropped', true);
  }

  /** Hello and resume on a new connection, with backoff, within the grace period (§13). */
  #reconnect() {
    if (!this.#closedAt || !this.#awaitingResume) this.#closedAt = this.now();
    this.#awaitingResume = true;
    clearInterval(this.#timer);
    const attempt = ++this.#reconnectAttempt;
    const deadline = this.#closedAt + Math.max(this.#grace, 5) * 1000;
    if (this.now() > deadline) { this.#awaitingResume = false; this.#finish(CloseReason.peerLost, 'could not reconnect within the grace period', true); return; }
    this.#emit('reconnecting', { attempt });
    setTimeout(() => {
      if (this.state === 'closed' || !this.#resumeToken) return;
      this.#open();
      this.#writeNow(encode.resume(this.#resumeToken));
    }, Math.min(500 * 2 ** (attempt - 1), 5000));
  }

  // MARK: Keepalive (§14)

  #tick() {
    if (!this.#socket || this.state === 'closed') return;
    const now = this.now();
    const { handshakeTimeout, keepaliveInterval, keepaliveTimeout } = this.options;
    if ((!this.#peerHello && now - this.#startedAt >= handshakeTimeout) || now - this.#lastReceived >= keepaliveTimeout) {
      // Our own keepalive closing the link leaves the session resumable (§13).
      const socket = this.#socket;
      this.#socket = null;
      if (socket.readyState === 1) socket.send(encode.close(CloseReason.timeout, 'nothing received from the broker'));
      socket.close();
      if (this.#resumeToken && this.state === 'viewing') this.#reconnect();
      else this.#finish(CloseReason.timeout, 'nothing received from the broker', false);
      return;
    }
    if (!this.#pingSent && now - this.#lastReceived >= keepaliveInterval) {
      this.#pingSent = true;
      this.#writeNow(encode.ping(BigInt(Math.floor(now))));
    }
  }

  #emit(type, detail) { this.dispatchEvent(new CustomEvent(type, { detail })); }
}
