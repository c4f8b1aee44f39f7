// The key schedule (PROTOCOL.md §8) and record sealing (§9) with WebCrypto: X25519, HKDF-SHA256,
// AES-256-GCM with the nonce epoch || counter and no associated data.

import { ByteWriter, CloseReason, ProtocolError } from './bytes.js';

const subtle = globalThis.crypto.subtle;
const INFO = new TextEncoder().encode('remotesupport v1 session');
export const TAG_SIZE = 16;

/** A fresh X25519 key pair for one connect attempt: `{privateKey, publicKey (32 bytes)}`. */
export async function generateKeyPair() {
  const pair = await subtle.generateKey({ name: 'X25519' }, true, ['deriveBits']);
  return { privateKey: pair.privateKey, publicKey: new Uint8Array(await subtle.exportKey('raw', pair.publicKey)) };
}

/** A key pair from 32 private key bytes (test vectors). WebCrypto imports X25519 private keys as PKCS#8 only. */
export async function importKeyPair(privateBytes) {
  const pkcs8 = new Uint8Array(48);
  pkcs8.set([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20]);
  pkcs8.set(privateBytes, 16);
  const privateKey = await subtle.importKey('pkcs8', pkcs8, { name: 'X25519' }, true, ['deriveBits']);
  const jwk = await subtle.exportKey('jwk', privateKey);
  const publicKey = base64urlDecode(jwk.x);
  return { privateKey, publicKey };
}

function base64urlDecode(text) {
  const b = atob(text.replaceAll('-', '+').replaceAll('_', '/') + '==='.slice((text.length + 3) % 4));
  return Uint8Array.from(b, (c) => c.charCodeAt(0));
}

/**
 * The session's keys as the agent derives them (§8). `own` is this side's key pair, `peerKey` the
 * other side's public key, `ownRole` 'agent' or 'endUser'. Returns
 * `{endUserToAgent, agentToEndUser (CryptoKeys), sas ("123 456"), okm (96 bytes), shared, endUserKey, agentKey}`.
 * A key that gives an all-zero secret (low order) or that X25519 refuses is `crypto-failure`.
 */
export async function deriveSessionKeys({ own, peerKey, sessionId, ownRole = 'agent' }) {
  let shared;
  try {
    const peer = await subtle.importKey('raw', peerKey, { name: 'X25519' }, false, []);
    shared = new Uint8Array(await subtle.deriveBits({ name: 'X25519', public: peer }, own.privateKey, 256));
  } catch (error) {
    throw new ProtocolError(CloseReason.cryptoFailure, `the peer's key share is not a usable X25519 key (${error.message})`);
  }
  if (shared.every((b) => b === 0)) {
    throw new ProtocolError(CloseReason.cryptoFailure, 'the key agreement gave an all-zero secret (a low-order peer key)');
  }
  const endUserKey = ownRole === 'endUser' ? own.publicKey : peerKey;
  const agentKey = ownRole === 'endUser' ? peerKey : own.publicKey;
  // The info orders the keys by role, not by sender, so both sides derive the same bytes.
  const info = new ByteWriter(88).append(INFO).append(endUserKey).append(agentKey).finish();
  const ikm = await subtle.importKey('raw', shared, 'HKDF', false, ['deriveBits']);
  const okm = new Uint8Array(await subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: sessionId, info }, ikm, 96 * 8));
  const aes = (bytes, usages) => subtle.importKey('raw', bytes, { name: 'AES-GCM' }, false, usages);
  const ownSends = ownRole === 'endUser' ? [0, 32] : [32, 64];
  const ownReceives = ownRole === 'endUser' ? [32, 64] : [0, 32];
  return {
    sendKey: await aes(okm.slice(...ownSends), ['encrypt']),
    receiveKey: await aes(okm.slice(...ownReceives), ['decrypt']),
    sas: shortAuthenticationString(okm),
    okm,
    shared,
    endUserKey,
    agentKey,
  };
}

/** okm[64..<68] as a big-endian u32, mod 1,000,000, as two groups of three digits (§8). */
export function shortAuthenticationString(okm) {
  const value = new DataView(okm.buffer, okm.byteOffset + 64, 4).getUint32(0) % 1_000_000;
  const digits = String(value).padStart(6, '0');
  return `${digits.slice(0, 3)} ${digits.slice(3)}`;
}

function nonce(epoch, counter) {
  return new ByteWriter(12).u32(epoch).u64(counter).finish();
}

/**
 * Seals one direction's records. Invariant: a (key, epoch, counter) triple is used once: counters
 * restart at 0 only with a higher epoch, and epochs only go up.
 */
export class RecordSealer {
  constructor(key) {
    this.key = key;
    this.epoch = 0;
    this.counter = 0;
  }

  /** `{epoch, counter, sealed: Promise<Uint8Array>}`: the numbers are taken now, in call order. */
  seal(plaintext) {
    const epoch = this.epoch, counter = this.counter++;
    const sealed = subtle.encrypt({ name: 'AES-GCM', iv: nonce(epoch, counter), tagLength: 128 }, this.key, plaintext)
      .then((b) => new Uint8Array(b));
    return { epoch, counter, sealed };
  }

  startEpoch(epoch) {
    if (epoch <= this.epoch) throw new Error('epochs only go up');
    this.epoch = epoch;
    this.counter = 0;
  }
}

/**
 * Opens the peer's records in order (§9): a record of an earlier epoch is dropped unread, anything
 * else out of order or forged is `crypto-failure`. Calls must not overlap (the caller awaits each).
 */
export class RecordOpener {
  constructor(key) {
    this.key = key;
    this.epoch = 0;
    this.counter = 0;
    this.staleRecords = 0;
  }

  /** The plaintext, or null for a stale record. */
  async open({ epoch, counter, sealed }) {
    if (epoch < this.epoch) { this.staleRecords++; return null; }
    if (epoch !== this.epoch) {
      throw new ProtocolError(CloseReason.cryptoFailure, `a record of epoch ${epoch} arrived in epoch ${this.epoch}`);
    }
    if (counter !== this.counter) {
      throw new ProtocolError(CloseReason.cryptoFailure, `record ${counter} arrived where ${this.counter} was due (replayed, reordered or lost)`);
    }
    let plain;
    try {
      plain = await subtle.decrypt({ name: 'AES-GCM', iv: nonce(epoch, counter), tagLength: 128 }, this.key, sealed);
    } catch {
      throw new ProtocolError(CloseReason.cryptoFailure, `record ${counter} of epoch ${epoch} failed authentication`);
    }
    this.counter++;
    return new Uint8Array(plain);
  }

  startEpoch(epoch) {
    if (epoch <= this.epoch) throw new Error('epochs only go up');
    this.epoch = epoch;
    this.counter = 0;
  }
}
