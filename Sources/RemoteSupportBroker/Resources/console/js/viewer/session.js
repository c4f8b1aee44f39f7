// The end-to-end channel of a connected session (PROTOCOL.md §9-§11, §13): seals queued session
// messages into records cut into fragments, opens and reassembles incoming ones, numbers reliable
// messages and delivers received ones exactly once, merges pointer motion, and starts new epochs.

import { CloseReason, ProtocolError, equalBytes } from './bytes.js';
import { RecordOpener, RecordSealer } from './crypto.js';
import { ALL_FEATURES, RELIABLE, SessionType, decodeSession, encodeSession } from './messages.js';
import { encode } from './wire.js';

export const DEFAULT_RECORD_PAYLOAD = 32768;
const MAX_SEQ = 0xffffffff;

/**
 * Pending items wait in `#pending` until `flush`; a reliable item gets its `seq` only when it is
 * sealed (§11), so a motion event still waiting can be replaced by a newer one (§11.1).
 * Invariant: `#unacknowledged` holds every reliable message sealed and not acknowledged, oldest first.
 */
export class SecureChannel {
  #sealer; #opener; #pending = []; #lastButtons = 0;
  #unacknowledged = []; #unacknowledgedBytes = 0; #nextSequence = 1; #ackDue = false;
  #pieces = []; #assembled = 0;

  /**
   * `keys` from `deriveSessionKeys`; `ownKey` / `peerKey` the two public keys (32 bytes each).
   * Options: `features` (u64 BigInt), `recordPayloadSize`, `maximumMessage` (64 MiB for an agent),
   * `maximumUnacknowledgedMessages` (4096), `maximumUnacknowledgedBytes` (8 MiB).
   */
  constructor({ keys, ownKey, peerKey, features = ALL_FEATURES, recordPayloadSize = DEFAULT_RECORD_PAYLOAD,
    maximumMessage = 64 << 20, maximumUnacknowledgedMessages = 4096, maximumUnacknowledgedBytes = 8 << 20 }) {
    this.ownKey = ownKey;
    this.peerKey = peerKey;
    this.features = features;
    this.recordPayloadSize = Math.max(1024, Math.min(recordPayloadSize, 65536));
    this.maximumMessage = maximumMessage;
    this.maximumUnacknowledgedMessages = maximumUnacknowledgedMessages;
    this.maximumUnacknowledgedBytes = maximumUnacknowledgedBytes;
    this.#sealer = new RecordSealer(keys.sendKey);
    this.#opener = new RecordOpener(keys.receiveKey);
    /** The highest reliable `seq` received (every one below it too). */
    this.receivedSequence = 0;
    /** The peer's session features from its first `start`; null until then (not verified). */
    this.peerFeatures = null;
    this.#pending.push({ bytes: this.#startMessage() });
  }

  #startMessage() { return encodeSession.start(this.features, this.ownKey, this.peerKey); }

  get epoch() { return this.#sealer.epoch; }
  get staleRecords() { return this.#opener.staleRecords; }
  get hasPending() { return this.#pending.length > 0 || this.#ackDue; }
  get unacknowledgedCount() { return this.#unacknowledged.length; }
  /** Whether the peer's first `start` arrived (key confirmation passed). */
  get verified() { return this.peerFeatures !== null; }

  /** Queues a message without a `seq` (update-ack, refresh, end). */
  queue(bytes) { this.#pending.push({ bytes }); }

  /**
   * Queues a reliable message: `kind` is 'pointer', 'key', 'clipboard' or 'chat', `fields` its fields
   * without `seq`. Pointer motion (no wheel, same buttons as the previous pointer event) replaces a
   * motion event that is still the last one waiting (§11.1).
   */
  queueReliable(kind, fields) {
    let mergeable = false;
    if (kind === 'pointer') {
      mergeable = !fields.wheelX && !fields.wheelY && fields.buttons === this.#lastButtons;
      this.#lastButtons = fields.buttons;
    }
    const last = this.#pending[this.#pending.length - 1];
    if (mergeable && last?.mergeable) {
      this.#pending[this.#pending.length - 1] = { kind, fields, mergeable };
    } else {
      this.#pending.push({ kind, fields, mergeable });
    }
  }

  /** Seals everything pending; resolves to the record frames in order (send them in this order). */
  async flush() {
    if (this.#ackDue) {
      this.#pending.push({ bytes: encodeSession.ack(this.receivedSequence) });
      this.#ackDue = false;
    }
    const batch = this.#pending;
    this.#pending = [];
    const records = [];
    for (const item of batch) {
      let bytes = item.bytes;
      if (!bytes) {
        const seq = this.#nextSequence;
        if (seq === MAX_SEQ) throw new ProtocolError(CloseReason.overloaded, 'the reliable sequence numbers ran out');
        this.#nextSequence++;
        bytes = encodeSession[item.kind](seq, item.fields);
        this.#unacknowledged.push({ seq, bytes });
        this.#unacknowledgedBytes += bytes.length;
        if (this.#unacknowledged.length > this.maximumUnacknowledgedMessages || this.#unacknowledgedBytes > this.maximumUnacknowledgedBytes) {
          throw new ProtocolError(CloseReason.overloaded, `${this.#unacknowledged.length} reliable messages (${this.#unacknowledgedBytes} bytes) wait for the peer's acknowledgement`);
        }
      }
      this.#seal(bytes, records);
    }
    // The numbers were taken in order above; the encryptions may finish in any order.
    return Promise.all(records.map(async (r) => encode.record(r.epoch, r.counter, await r.sealed)));
  }

  /** Cuts a message into fragments of at most the record payload size (§9.1) and seals them. */
  #seal(message, records) {
    const size = this.recordPayloadSize;
    let offset = 0;
    do {
      const end = Math.min(offset + size, message.length);
      const plain = new Uint8Array(1 + end - offset);
      plain[0] = end < message.length ? 1 : 0;
      plain.set(message.subarray(offset, end), 1);
      records.push(this.#sealer.seal(plain));
      offset = end;
    } while (offset < message.length);
  }

  /**
   * Opens one record `{epoch, counter, sealed}`; resolves to the session message it completes, or
   * null (a piece of a message, a stale record, a duplicate, an ack, an unknown optional message or a
   * repeated `start`). Calls must not overlap.
   */
  async open(record) {
    const plain = await this.#opener.open(record);
    if (plain === null) return null;
    if (plain.length === 0) throw ProtocolError.malformed('an empty record (no fragment byte)');
    if (this.#assembled + plain.length - 1 > this.maximumMessage) {
      throw new ProtocolError(CloseReason.tooLarge, `a session message over the limit of ${this.maximumMessage} bytes`);
    }
    const more = (plain[0] & 1) !== 0;
    const piece = plain.subarray(1);
    let bytes;
    if (this.#pieces.length === 0 && !more) {
      bytes = piece;
    } else {
      this.#pieces.push(piece);
      this.#assembled += piece.length;
      if (more) return null;
      bytes = new Uint8Array(this.#assembled);
      let at = 0;
      for (const p of this.#pieces) { bytes.set(p, at); at += p.length; }
      this.#pieces = [];
      this.#assembled = 0;
    }
    if (bytes.length === 0) throw ProtocolError.malformed('an empty session message');
    const message = decodeSession(bytes);
    if (message === null) return null;
    return this.#accept(message);
  }

  #accept(message) {
    if (message.kind === 'start') {
      // Key confirmation (§10.1): the peer names the keys it used.
      if (!equalBytes(message.senderKey, this.peerKey) || !equalBytes(message.receiverKey, this.ownKey)) {
        throw new ProtocolError(CloseReason.cryptoFailure, "the peer's start names other keys than the broker gave us");
      }
      if (this.peerFeatures !== null) return null;   // sent again at every epoch: only the first is news
      this.peerFeatures = message.features;
      return message;
    }
    if (this.peerFeatures === null) throw ProtocolError.malformed(`the peer's first session message is ${message.kind}, not start`);
    if (message.kind === 'ack') {
      if (message.seq >= this.#nextSequence) throw ProtocolError.malformed(`ack of ${message.seq}, but only ${this.#nextSequence - 1} were sent`);
      let done = 0;
      while (done < this.#unacknowledged.length && this.#unacknowledged[done].seq <= message.seq) {
        this.#unacknowledgedBytes -= this.#unacknowledged[done].bytes.length;
        done++;
      }
      this.#unacknowledged.splice(0, done);
      return null;
    }
    if (!RELIABLE.has(message.type)) return message;
    this.#ackDue = true;
    if (message.seq <= this.receivedSequence) return null;   // a duplicate after a resume
    if (message.seq !== this.receivedSequence + 1) {
      throw ProtocolError.malformed(`reliable message ${message.seq} arrived after ${this.receivedSequence}: one was lost`);
    }
    this.receivedSequence = message.seq;
    return message;
  }

  /**
   * A new epoch after a resume (§13): both directions move to it with counters at 0, a half-assembled
   * message is dropped, and `start`, every unacknowledged reliable message (same `seq`) and an ack go
   * out ahead of whatever was waiting.
   */
  startEpoch(epoch) {
    this.#sealer.startEpoch(epoch);
    this.#opener.startEpoch(epoch);
    this.#pieces = [];
    this.#assembled = 0;
    const waiting = this.#pending.filter((item) => !item.bytes || (item.bytes[0] !== SessionType.ack && item.bytes[0] !== SessionType.start));
    const resend = this.#unacknowledged.map((u) => ({ bytes: u.bytes }));
    this.#pending = [{ bytes: this.#startMessage() }, ...resend, ...waiting];
    if (this.receivedSequence > 0) this.#ackDue = true;
  }
}
