// The wire layer, key schedule and records against PROTOCOL.md §19, byte for byte, and the frame
// reader's length rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex, ProtocolError, CloseReason, ByteReader, cappedUTF8 } from '../../../Sources/RemoteSupportBroker/Resources/console/js/viewer/bytes.js';
import { encode, decodeControl, FrameReader, frameFromMessage, Role, MINIMUM_MAXIMUM_LENGTH } from '../../../Sources/RemoteSupportBroker/Resources/console/js/viewer/wire.js';
import { importKeyPair, deriveSessionKeys, RecordSealer, RecordOpener } from '../../../Sources/RemoteSupportBroker/Resources/console/js/viewer/crypto.js';
import { encodeSession, decodeSession, ALL_FEATURES } from '../../../Sources/RemoteSupportBroker/Resources/console/js/viewer/messages.js';
import { SecureChannel } from '../../../Sources/RemoteSupportBroker/Resources/console/js/viewer/session.js';

const V = {
  sessionId: fromHex('00112233445566778899aabbccddeeff'),
  resumeToken: fromHex('a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf'),
  endUserPublic: 'a4e09292b651c278b9772c569f5fa9bb13d906b46ab68c9df9dc2b4409f8a209',
  agentPublic: 'ce8d3ad1ccb633ec7b70c17814a5c76ecd029685050d344745ba05870e587d59',
  hello: '0000001d0100525355500001000101000401000000000000000001000474657374',
  join: '0000001f10000200063132333435360003426f620006626f622d706300054c696e7578',
  joined: '0000003a110000112233445566778899aabbccddeeffa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf0000003c00000258',
  connectRequest: '000000461200000b416c696365204167656e740007537570706f7274000b4578616d706c65204c746402ce8d3ad1ccb633ec7b70c17814a5c76ecd029685050d344745ba05870e587d59',
  consent: '00000023130002a4e09292b651c278b9772c569f5fa9bb13d906b46ab68c9df9dc2b4409f8a209',
  decline: '00000003130000',
  ping: '0000000a02000102030405060708',
  pong: '0000000a03000102030405060708',
  close: '00000009040000010003627965',
  shared: '2ed76ab549b1e73c031eb49c9448f0798aea81b698279a0c3dc3e49fbfc4b953',
  euToAgent: '7becf42ab38e2bb9e89813c1ea9856718f509f84a0849f198360f010a488fc02',
  agentToEu: '7da2c861a4978f48675da04dd27709d4034f68c136231809c65dbccf8fc593a4',
  startMessage: '01000001000000000000000fa4e09292b651c278b9772c569f5fa9bb13d906b46ab68c9df9dc2b4409f8a209ce8d3ad1ccb633ec7b70c17814a5c76ecd029685050d344745ba05870e587d59',
  endUserStart: '0000006b30000000000000000000000000008e1f9713d942d0c7040cb3234af0caeab2d7fba7347a14b9482b6f5907150d3941918ce9b0041a666833aa4f83bfd804d631cc08b2fb3a441ad54a8e59fcd2b1ab277b7ff9120b8e20df8339345e3b0e0176f520fa68eaad4ba0d40959',
  agentStart: '0000006b3000000000000000000000000000566d8658be96025f733276694009069f95931c438fc7aa6ebba345c410f95f37b1babf56cc5b74574a6db2b34117aa41d3723dd07dbf2cabef998161cdc59068cf4c4a9ac48c3fdaa7a539231602532bed9110b345f97d7ae8d6092427',
  keyMessage: '0900000000010000006101',
  keyRecord: '0000002a3000000000000000000000000001c6e8afddce4f6e6fd77620f34682618fa2322423c7afaac53496896f',
};

const frameOf = (hex) => { const b = fromHex(hex); return { type: b[4], flags: b[5], payload: b.subarray(6) }; };

test('control frames encode to the §19 vectors', () => {
  assert.equal(toHex(encode.hello({ role: Role.endUser, software: 'test' })), V.hello);
  assert.equal(toHex(encode.join({ method: 2, credential: '123456', name: 'Bob', machine: 'bob-pc', os: 'Linux' })), V.join);
  assert.equal(toHex(encode.joined({ sessionId: V.sessionId, resumeToken: V.resumeToken, grace: 60, wait: 600 })), V.joined);
  assert.equal(toHex(encode.connectRequest({ name: 'Alice Agent', jobTitle: 'Support', organisation: 'Example Ltd', mode: 2, agentKey: fromHex(V.agentPublic) })), V.connectRequest);
  assert.equal(toHex(encode.consent({ mode: 2, endUserKey: fromHex(V.endUserPublic) })), V.consent);
  assert.equal(toHex(encode.consent({ mode: 0 })), V.decline);
  assert.equal(toHex(encode.ping(0x0102030405060708n)), V.ping);
  assert.equal(toHex(encode.pong(0x0102030405060708n)), V.pong);
  assert.equal(toHex(encode.close(CloseReason.endedByEndUser, 'bye')), V.close);
});

test('control frames decode from the §19 vectors', () => {
  const hello = decodeControl(frameOf(V.hello));
  assert.deepEqual({ ...hello }, { kind: 'hello', lowest: 1, highest: 1, role: 1, maximumLength: 262400, features: 1n, software: 'test' });
  const join = decodeControl(frameOf(V.join));
  assert.deepEqual([join.method, join.credential, join.name, join.machine, join.os], [2, '123456', 'Bob', 'bob-pc', 'Linux']);
  const joined = decodeControl(frameOf(V.joined));
  assert.deepEqual([toHex(joined.sessionId), toHex(joined.resumeToken), joined.grace, joined.wait], [toHex(V.sessionId), toHex(V.resumeToken), 60, 600]);
  const request = decodeControl(frameOf(V.connectRequest));
  assert.deepEqual([request.name, request.jobTitle, request.organisation, request.mode, toHex(request.agentKey)], ['Alice Agent', 'Support', 'Example Ltd', 2, V.agentPublic]);
  assert.equal(toHex(decodeControl(frameOf(V.consent)).endUserKey), V.endUserPublic);
  assert.equal(decodeControl(frameOf(V.decline)).endUserKey, null);
  assert.equal(decodeControl(frameOf(V.ping)).data, 0x0102030405060708n);
  assert.deepEqual({ ...decodeControl(frameOf(V.close)) }, { kind: 'close', reason: 1, message: 'bye' });
  const record = decodeControl(frameOf(V.keyRecord));
  assert.deepEqual([record.epoch, record.counter, record.sealed.length], [0, 1, 11 + 1 + 16]);
});

test('agent frames: authenticate, connect, session-ended, resume round-trip', () => {
  const cases = [
    [encode.authenticate(''), { kind: 'authenticate', token: '' }],
    [encode.sessionEnded(2, 'done'), { kind: 'sessionEnded', reason: 2, message: 'done' }],
  ];
  for (const [bytes, want] of cases) assert.deepEqual({ ...decodeControl(frameFromMessage(bytes, 65600)) }, want);
  const c = decodeControl(frameFromMessage(encode.connect(V.sessionId, 2, fromHex(V.agentPublic)), 65600));
  assert.deepEqual([toHex(c.sessionId), c.mode, toHex(c.agentKey)], [toHex(V.sessionId), 2, V.agentPublic]);
  assert.equal(toHex(decodeControl(frameFromMessage(encode.resume(V.resumeToken), 65600)).resumeToken), toHex(V.resumeToken));
  const agentHello = decodeControl(frameFromMessage(encode.hello(), 65600));
  assert.deepEqual([agentHello.role, agentHello.maximumLength, agentHello.features, agentHello.software], [2, 262400, 1n, 'remotesupport-console']);
});

test('string rules: cap is too-large, bad UTF-8 and NUL are protocol errors, senders cut at characters', () => {
  const reader = (bytes) => new ByteReader(Uint8Array.from(bytes));
  assert.throws(() => reader([0, 5, 0x61]).string('s', 4), (e) => e.code === CloseReason.tooLarge);
  assert.throws(() => reader([0, 2, 0xc3, 0x28]).string('s', 4), (e) => e.code === CloseReason.protocolError);
  assert.throws(() => reader([0, 2, 0x61, 0x00]).string('s', 4), (e) => e.code === CloseReason.protocolError && /NUL/.test(e.message));
  assert.throws(() => reader([0, 3, 0x61]).string('s', 4), (e) => e.code === CloseReason.protocolError && /truncated/.test(e.message));
  assert.equal(reader([0, 2, 0xc3, 0xa9]).string('s', 4), 'é');
  assert.deepEqual([...cappedUTF8('aé€', 4)], [0x61, 0xc3, 0xa9]);        // the euro sign does not fit whole
  assert.deepEqual([...cappedUTF8('a\0b', 10)], [0x61, 0x62]);
  // An unknown frame type: skipped when optional, an error when required.
  assert.equal(decodeControl({ type: 0x7f, flags: 1, payload: new Uint8Array(0) }), null);
  assert.throws(() => decodeControl({ type: 0x7f, flags: 0, payload: new Uint8Array(0) }), (e) => e.code === CloseReason.protocolError);
  assert.throws(() => decodeControl({ type: 0x25, flags: 0, payload: new Uint8Array(20) }), /truncated/);
  assert.throws(() => decodeControl({ type: 0x30, flags: 0, payload: new Uint8Array(12 + 15) }), /tag/);
});

test('frame reader: every split point, several frames per read, partial frames wait', () => {
  const stream = fromHex(V.hello + V.ping + V.close + V.keyRecord);
  for (let split = 0; split <= stream.length; split++) {
    const r = new FrameReader();
    const got = [];
    for (const part of [stream.subarray(0, split), stream.subarray(split)]) {
      r.push(part);
      for (let f; (f = r.next());) got.push(f.type);
    }
    assert.deepEqual(got, [0x01, 0x02, 0x04, 0x30], `split at ${split}`);
    assert.equal(r.bufferedCount, 0);
  }
  const r = new FrameReader();
  for (const b of stream) { r.push(Uint8Array.of(b)); }
  const types = [];
  for (let f; (f = r.next());) types.push(f.type);
  assert.deepEqual(types, [0x01, 0x02, 0x04, 0x30], 'byte by byte');
});

test('frame reader: an oversized length is refused after 4 bytes, a length under 2 too', () => {
  const r = new FrameReader(MINIMUM_MAXIMUM_LENGTH);
  r.push(Uint8Array.of(0x00, 0x01));
  assert.equal(r.next(), null, 'two bytes of length: nothing to say yet');
  assert.throws(() => r.push(Uint8Array.of(0x00, 0x41)), (e) => e.code === CloseReason.tooLarge);   // 65601
  assert.throws(() => r.next(), (e) => e.code === CloseReason.tooLarge, 'the stream stays failed');
  const ok = new FrameReader(MINIMUM_MAXIMUM_LENGTH);
  ok.push(Uint8Array.of(0x00, 0x01, 0x00, 0x40));   // exactly 65600: accepted, waits for the payload
  assert.equal(ok.next(), null);
  for (const length of [0, 1]) {
    const s = new FrameReader();
    assert.throws(() => s.push(Uint8Array.of(0, 0, 0, length)), (e) => e.code === CloseReason.protocolError);
  }
  // WebSocket messages: exactly one frame each.
  assert.throws(() => frameFromMessage(fromHex(V.ping + V.pong), 65600), /one frame per message/);
  assert.throws(() => frameFromMessage(fromHex('00000001ff'), 65600), (e) => e.code === CloseReason.protocolError);
  assert.throws(() => frameFromMessage(fromHex('0001004100'), 65600), (e) => e.code === CloseReason.tooLarge);
  assert.equal(frameFromMessage(fromHex(V.ping), 65600).type, 2);
});

async function vectorKeys() {
  const endUser = await importKeyPair(new Uint8Array(32).fill(1));
  const agent = await importKeyPair(new Uint8Array(32).fill(2));
  return { endUser, agent };
}

test('key schedule: public keys, shared secret, direction keys and SAS 179 139', async () => {
  const { endUser, agent } = await vectorKeys();
  assert.equal(toHex(endUser.publicKey), V.endUserPublic);
  assert.equal(toHex(agent.publicKey), V.agentPublic);
  const keys = await deriveSessionKeys({ own: agent, peerKey: endUser.publicKey, sessionId: V.sessionId, ownRole: 'agent' });
  assert.equal(toHex(keys.shared), V.shared);
  assert.equal(toHex(keys.okm.subarray(0, 32)), V.euToAgent);
  assert.equal(toHex(keys.okm.subarray(32, 64)), V.agentToEu);
  assert.equal(toHex(keys.okm.subarray(64, 68)), '757dce83');
  assert.equal(keys.sas, '179 139');
  const other = await deriveSessionKeys({ own: endUser, peerKey: agent.publicKey, sessionId: V.sessionId, ownRole: 'endUser' });
  assert.equal(toHex(other.okm), toHex(keys.okm), 'both sides derive the same bytes');
});

test('a low-order peer key is crypto-failure', async () => {
  const { agent } = await vectorKeys();
  await assert.rejects(deriveSessionKeys({ own: agent, peerKey: new Uint8Array(32), sessionId: V.sessionId }),
    (e) => e.code === CloseReason.cryptoFailure);
});

test('records: the sealed start records and the key record of §19', async () => {
  const { endUser, agent } = await vectorKeys();
  const keys = await deriveSessionKeys({ own: agent, peerKey: endUser.publicKey, sessionId: V.sessionId, ownRole: 'agent' });
  const channel = new SecureChannel({ keys, ownKey: agent.publicKey, peerKey: endUser.publicKey, features: ALL_FEATURES });
  channel.queueReliable('key', { keysym: 0x61, down: true });
  assert.equal(toHex(encodeSession.key(1, { keysym: 0x61, down: true })), V.keyMessage);
  const frames = await channel.flush();
  assert.deepEqual(frames.map(toHex), [V.agentStart, V.keyRecord]);
  // The end user's start opens, passes key confirmation and verifies the peer.
  const start = decodeControl(frameOf(V.endUserStart));
  const message = await channel.open(start);
  assert.equal(toHex(encodeSession.start(ALL_FEATURES, endUser.publicKey, agent.publicKey)), V.startMessage);
  assert.equal(message.kind, 'start');
  assert.equal(message.features, 0x0fn);
  assert.ok(channel.verified);
  // Replaying it is crypto-failure (counter 0 again).
  await assert.rejects(channel.open(start), (e) => e.code === CloseReason.cryptoFailure);
});

test('records: a forged tag, a future epoch and a wrong counter are crypto-failure; older epochs are dropped', async () => {
  const { endUser, agent } = await vectorKeys();
  const keys = await deriveSessionKeys({ own: agent, peerKey: endUser.publicKey, sessionId: V.sessionId, ownRole: 'agent' });
  const start = decodeControl(frameOf(V.endUserStart));
  const forged = { ...start, sealed: start.sealed.slice() };
  forged.sealed[5] ^= 1;
  const failure = (e) => e.code === CloseReason.cryptoFailure;
  await assert.rejects(new RecordOpener(keys.receiveKey).open(forged), failure);
  await assert.rejects(new RecordOpener(keys.receiveKey).open({ ...start, epoch: 1 }), failure);
  await assert.rejects(new RecordOpener(keys.receiveKey).open({ ...start, counter: 1 }), failure);
  const opener = new RecordOpener(keys.receiveKey);
  opener.startEpoch(2);
  assert.equal(await opener.open(start), null);
  assert.equal(opener.staleRecords, 1);
  const sealer = new RecordSealer(keys.sendKey);
  assert.deepEqual([sealer.seal(new Uint8Array(1)).counter, sealer.seal(new Uint8Array(1)).counter], [0, 1]);
  sealer.startEpoch(3);
  const third = sealer.seal(new Uint8Array(1));
  assert.deepEqual([third.epoch, third.counter], [3, 0]);
});

test('session messages decode with their checks', () => {
  assert.deepEqual({ ...decodeSession(fromHex(V.keyMessage)) }, { kind: 'key', type: 9, seq: 1, keysym: 0x61, down: true });
  assert.throws(() => decodeSession(Uint8Array.of(0x09, 0, 0, 0, 0, 1, 0, 0, 0, 0x61, 2)), /bool/);
  assert.equal(decodeSession(Uint8Array.of(0x40, 1)), null, 'unknown optional');
  assert.throws(() => decodeSession(Uint8Array.of(0x40, 0)), /not marked optional/);
  assert.throws(() => decodeSession(Uint8Array.of(0x06, 0, 0, 0, 0, 0, 1, 1, 0, 1)), (e) => e.code === CloseReason.tooLarge);
  assert.throws(() => decodeSession(Uint8Array.of(0x06, 0, 0, 2, 0, 0, 0, 2, 0, 2)), /hot spot/);
  const zeroCursor = decodeSession(Uint8Array.of(0x06, 0, 0, 0, 0, 0, 0, 0, 0, 0));
  assert.deepEqual([zeroCursor.width, zeroCursor.height, zeroCursor.rgba.length], [0, 0, 0]);
  assert.throws(() => decodeSession(Uint8Array.of(0x02, 0, 0, 0, 0, 1, 0, 0, 0, 1, ...new Uint8Array(16))), /empty/);
  const info = decodeSession(Uint8Array.of(0x02, 0, 0, 0, 0, 1, 0, 4, 0, 3, 32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0));
  assert.deepEqual([info.width, info.height, info.pixelFormat.redShift], [4, 3, 16]);
  assert.throws(() => decodeSession(Uint8Array.of(0x02, 0, 0, 0, 0, 1, 0, 4, 0, 3, 32, 24, 0, 0, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0)), /colour maps/);
});
