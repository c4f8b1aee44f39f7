// The session channel (fragments, reliable numbering, acks, pointer merging, epochs), keysyms, and an
// AgentClient driven end to end through a fake WebSocket against a simulated broker and end user.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import zlib from 'node:zlib';
import { CloseReason, sessionIdBytes } from '../../../Sources/RemoteSupportBroker/Resources/console/js/viewer/bytes.js';
import { generateKeyPair, deriveSessionKeys } from '../../../Sources/RemoteSupportBroker/Resources/console/js/viewer/crypto.js';
import { SecureChannel } from '../../../Sources/RemoteSupportBroker/Resources/console/js/viewer/session.js';
import { encodeSession, SessionType } from '../../../Sources/RemoteSupportBroker/Resources/console/js/viewer/messages.js';
import { encode, encodeFrame, decodeControl, frameFromMessage, FrameType } from '../../../Sources/RemoteSupportBroker/Resources/console/js/viewer/wire.js';
import { keysymForEvent, keysymForCodePoint } from '../../../Sources/RemoteSupportBroker/Resources/console/js/viewer/keysyms.js';
import { AgentClient } from '../../../Sources/RemoteSupportBroker/Resources/console/js/viewer/agent.js';
import { protocolButtons } from '../../../Sources/RemoteSupportBroker/Resources/console/js/viewer/viewer.js';

const SESSION = '00112233-4455-6677-8899-aabbccddeeff';
const sid = sessionIdBytes(SESSION);

/** Both ends of a session: the agent's channel and a simulated end user's. */
async function pair(options = {}) {
  const agentKey = await generateKeyPair(), endUserKey = await generateKeyPair();
  const a = await deriveSessionKeys({ own: agentKey, peerKey: endUserKey.publicKey, sessionId: sid, ownRole: 'agent' });
  const e = await deriveSessionKeys({ own: endUserKey, peerKey: agentKey.publicKey, sessionId: sid, ownRole: 'endUser' });
  const agent = new SecureChannel({ keys: a, ownKey: agentKey.publicKey, peerKey: endUserKey.publicKey, ...options });
  const endUser = new SecureChannel({ keys: e, ownKey: endUserKey.publicKey, peerKey: agentKey.publicKey, ...options });
  return { agent, endUser, agentKey, endUserKey };
}

/** Delivers `from`'s pending output to `to`; returns the messages that came out. */
async function deliver(from, to) {
  const out = [];
  for (const frame of await from.flush()) {
    const m = await to.open(decodeControl(frameFromMessage(frame, 65600)));
    if (m) out.push(m);
  }
  return out;
}

test('fragments: a big message is cut at the record payload size and reassembled', async () => {
  const { agent, endUser } = await pair({ recordPayloadSize: 1024 });
  await deliver(agent, endUser);
  const text = 'x'.repeat(5000);
  endUser.queueReliable('clipboard', { text });
  const frames = await endUser.flush();
  assert.equal(frames.length, 1 + Math.ceil((2 + 4 + 4 + 5000) / 1024), 'start + 5 pieces');
  const got = [];
  for (const f of frames) { const m = await agent.open(decodeControl(frameFromMessage(f, 65600))); if (m) got.push(m); }
  assert.deepEqual(got.map((m) => m.kind), ['start', 'clipboard']);
  assert.equal(got[1].text, text);
});

test('reassembly cap is too-large; a first message other than start is a protocol error', async () => {
  const { agent, endUser } = await pair({ recordPayloadSize: 1024, maximumMessage: 3000 });
  await deliver(agent, endUser);
  endUser.queueReliable('clipboard', { text: 'y'.repeat(4000) });
  await assert.rejects(deliver(endUser, agent), (e) => e.code === CloseReason.tooLarge);
  // A chat sealed as a fresh channel's second record, but the agent has not seen its start (counter 0).
  const q = await pair();
  q.endUser.queueReliable('chat', { text: 'hi' });
  const [, chatFrame] = await q.endUser.flush();
  await assert.rejects(q.agent.open(decodeControl(frameFromMessage(chatFrame, 65600))), (e) => e.code === CloseReason.cryptoFailure);
});

test('reliable: numbered from 1, duplicates dropped, a gap is a protocol error, acks release', async () => {
  const { agent, endUser } = await pair();
  await deliver(agent, endUser);
  await deliver(endUser, agent);
  agent.queueReliable('key', { keysym: 0x61, down: true });
  agent.queueReliable('key', { keysym: 0x61, down: false });
  const got = await deliver(agent, endUser);
  assert.deepEqual(got.map((m) => m.seq), [1, 2]);
  assert.equal(agent.unacknowledgedCount, 2);
  const acks = await endUser.flush();       // the end user's ack(2)
  for (const f of acks) assert.equal(await agent.open(decodeControl(frameFromMessage(f, 65600))), null);
  assert.equal(agent.unacknowledgedCount, 0);
  // An ack of a seq never sent is a protocol error.
  endUser.queue(encodeSession.ack(9));
  await assert.rejects(deliver(endUser, agent), (e) => e.code === CloseReason.protocolError);
});

test('pointer motion merges while waiting; presses, releases and wheel turns do not (§11.1)', async () => {
  const { agent, endUser } = await pair();
  await deliver(agent, endUser);
  await deliver(endUser, agent);
  for (let x = 0; x < 100; x++) agent.queueReliable('pointer', { x, y: 0, buttons: 0 });
  agent.queueReliable('pointer', { x: 100, y: 0, buttons: 1 });
  for (let x = 101; x < 110; x++) agent.queueReliable('pointer', { x, y: 0, buttons: 1 });
  agent.queueReliable('pointer', { x: 109, y: 0, buttons: 1, wheelY: 1 });
  agent.queueReliable('pointer', { x: 109, y: 0, buttons: 1, wheelY: 1 });
  const got = await deliver(agent, endUser);
  assert.deepEqual(got.map((m) => [m.seq, m.x, m.buttons, m.wheelY]), [[1, 99, 0, 0], [2, 100, 1, 0], [3, 109, 1, 0], [4, 109, 1, 1], [5, 109, 1, 1]]);
});

test('a new epoch: start, unacknowledged messages with their seq, and an ack go out again; old records are dropped', async () => {
  const { agent, endUser } = await pair();
  await deliver(agent, endUser);
  await deliver(endUser, agent);
  endUser.queueReliable('chat', { text: 'hello' });
  await deliver(endUser, agent);           // agent received seq 1, owes an ack
  agent.queueReliable('key', { keysym: 0x62, down: true });
  const lost = await agent.flush();        // lost with the old connection (the ack and key)
  agent.startEpoch(1);
  endUser.startEpoch(1);
  // A record of epoch 0 arriving now is dropped unread.
  assert.equal(await endUser.open(decodeControl(frameFromMessage(lost[0], 65600))), null);
  const frames = await agent.flush();
  const kinds = [];
  for (const f of frames) {
    const r = decodeControl(frameFromMessage(f, 65600));
    assert.equal(r.epoch, 1);
    const m = await endUser.open(r);
    kinds.push(m ? `${m.kind}:${m.seq ?? ''}` : null);
  }
  // start again (not reported a second time), the key with seq 1 again, then the ack.
  assert.deepEqual(kinds, [null, 'key:1', null]);
});

test('keysyms: Unicode rules, named keys and left/right modifiers', () => {
  const k = (key, code = '') => keysymForEvent({ key, code });
  assert.equal(k('a', 'KeyA'), 0x61);
  assert.equal(k('A', 'KeyA'), 0x41);
  assert.equal(k('é'), 0xe9);
  assert.equal(k('€'), 0x010020ac);
  assert.equal(k('😀'), 0x0101f600);
  assert.equal(k(' ', 'Space'), 0x20);
  assert.equal(k('Enter', 'Enter'), 0xff0d);
  assert.equal(k('Enter', 'NumpadEnter'), 0xff8d);
  assert.equal(k('Backspace'), 0xff08);
  assert.equal(k('Tab'), 0xff09);
  assert.equal(k('Escape'), 0xff1b);
  assert.equal(k('Delete'), 0xffff);
  assert.equal(k('Insert'), 0xff63);
  assert.deepEqual(['ArrowLeft', 'ArrowUp', 'ArrowRight', 'ArrowDown'].map((n) => k(n)), [0xff51, 0xff52, 0xff53, 0xff54]);
  assert.deepEqual(['Home', 'End', 'PageUp', 'PageDown'].map((n) => k(n)), [0xff50, 0xff57, 0xff55, 0xff56]);
  assert.equal(k('F1'), 0xffbe);
  assert.equal(k('F12'), 0xffc9);
  assert.equal(k('Shift', 'ShiftLeft'), 0xffe1);
  assert.equal(k('Shift', 'ShiftRight'), 0xffe2);
  assert.equal(k('Control', 'ControlLeft'), 0xffe3);
  assert.equal(k('Control', 'ControlRight'), 0xffe4);
  assert.equal(k('Alt', 'AltLeft'), 0xffe9);
  assert.equal(k('AltGraph', 'AltRight'), 0xffea);
  assert.equal(k('Meta', 'MetaLeft'), 0xffeb);
  assert.equal(k('Meta', 'MetaRight'), 0xffec);
  assert.equal(k('CapsLock'), 0xffe5);
  assert.equal(k('1', 'Numpad1'), 0xffb1);
  assert.equal(k('Unidentified'), null);
  assert.equal(k('Dead'), null);
  assert.equal(keysymForCodePoint(0x05), null);
});

test('DOM mouse buttons map to protocol bits', () => {
  assert.equal(protocolButtons(1), 1);   // left
  assert.equal(protocolButtons(2), 4);   // right
  assert.equal(protocolButtons(4), 2);   // middle
  assert.equal(protocolButtons(8 | 16), 8 | 16);
});

// MARK: AgentClient end to end

class FakeSocket {
  static last = null;
  constructor(url) { this.url = url; this.readyState = 1; this.sent = []; this.bufferedAmount = 0; FakeSocket.last = this; }
  send(bytes) { this.sent.push(new Uint8Array(bytes)); }
  close() { this.readyState = 3; }
  addEventListener() {}
  deliver(bytes) { this.onmessage({ data: bytes.slice().buffer }); }
  take() { const s = this.sent.map((b) => decodeControl(frameFromMessage(b, 262400))); this.sent = []; return s; }
}

const tick = () => new Promise((r) => setTimeout(r, 20));
const nextEvent = (target, type) => new Promise((resolve) => target.addEventListener(type, (e) => resolve(e.detail), { once: true }));

test('AgentClient: authenticate, connect, verify, decode an update, ack it, input, chat, peer away and back, end', async () => {
  const client = new AgentClient({ url: 'ws://console.test/ws', WebSocket: FakeSocket, stallMs: 500 });
  client.start();
  const socket = FakeSocket.last;
  await tick();
  const hello = socket.take();
  assert.deepEqual(hello.map((m) => m.kind), ['hello', 'authenticate']);
  assert.deepEqual([hello[0].role, hello[0].maximumLength, hello[0].features, hello[0].software, hello[1].token], [2, 262400, 1n, 'remotesupport-console', '']);

  socket.deliver(encode.hello({ role: 3, software: 'broker' }));
  const authenticated = nextEvent(client, 'authenticated');
  socket.deliver(encodeFrame(FrameType.authenticated, Uint8Array.of(0, 2, 0x69, 0x64, 0, 1, 0x41, 0, 0, 0, 0)));
  assert.equal((await authenticated).agentId, 'id');
  socket.deliver(encode.ping(7n));
  await tick();
  assert.deepEqual(socket.take().map((m) => [m.kind, m.data]), [['pong', 7n]]);

  await client.connect(SESSION, 2);
  await tick();
  const [connect] = socket.take();
  assert.equal(connect.kind, 'connect');
  const endUserKey = await generateKeyPair();
  const euKeys = await deriveSessionKeys({ own: endUserKey, peerKey: connect.agentKey, sessionId: sid, ownRole: 'endUser' });
  const endUser = new SecureChannel({ keys: euKeys, ownKey: endUserKey.publicKey, peerKey: connect.agentKey, recordPayloadSize: 1024 });
  const started = nextEvent(client, 'session-started');
  const token = new Uint8Array(32).fill(9);
  const connected = new Uint8Array([...sid, 2, ...endUserKey.publicKey, ...token, 0, 0, 0, 60]);
  socket.deliver(encodeFrame(FrameType.connected, connected));
  const { sas } = await started;
  assert.equal(sas, euKeys.sas);
  await tick();
  const agentStart = socket.take();
  assert.equal(agentStart.length, 1);
  assert.equal((await endUser.open(agentStart[0])).kind, 'start', "the agent's start passes key confirmation");

  // The end user's start, a screen-info and the first fixture update, cut into 1 KiB records.
  const f = JSON.parse(readFileSync(new URL('../fixtures/gradient-text.json', import.meta.url), 'utf8'));
  const info = new Uint8Array([SessionType.screenInfo, 0, 0, 0, 0, 1, 0, f.width, 0, f.height, ...f.pixelFormat]);
  const update = Buffer.from(f.updates[0], 'base64');
  const su = new Uint8Array([SessionType.screenUpdate, 0, 0, 0, 0, 1, 0, 0, 0, 1, ...update]);
  endUser.queue(info);
  endUser.queue(su);
  const verified = nextEvent(client, 'peer-verified');
  const updated = nextEvent(client, 'screen-updated');
  for (const frame of await endUser.flush()) socket.deliver(frame);
  assert.equal((await verified).features, 0x0fn);
  const { framebuffer } = await updated;
  const want = zlib.inflateRawSync(Buffer.from(f.expected[0], 'base64'), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  assert.ok(Buffer.from(framebuffer.rgba.buffer).equals(want), 'the pixels of the Swift decoder');
  await tick();
  const acks = [];
  for (const r of socket.take()) { const m = await endUser.open(r); if (m) acks.push(m); }
  assert.deepEqual(acks.map((m) => [m.kind, m.sequence]), [['updateAck', 1]]);

  // Input while control is granted; motion merges.
  assert.ok(client.canSendInput);
  for (let x = 0; x < 20; x++) client.sendPointer({ x, y: 5, buttons: 0 });
  client.sendKey(0x61, true);
  await tick();
  const input = [];
  for (const r of socket.take()) { const m = await endUser.open(r); if (m) input.push(m); }
  assert.deepEqual(input.map((m) => [m.kind, m.seq, m.x ?? m.keysym]), [['pointer', 1, 19], ['key', 2, 0x61]]);

  // The end user chats; the agent shows it and acknowledges with its next output.
  endUser.queueReliable('chat', { text: '<b>hi</b>' });
  const chat = nextEvent(client, 'chat');
  for (const frame of await endUser.flush()) socket.deliver(frame);
  assert.equal((await chat).text, '<b>hi</b>');
  await tick();
  const chatAck = [];
  for (const r of socket.take()) { assert.equal(await endUser.open(r), null); chatAck.push(r.kind); }
  assert.deepEqual(chatAck, ['record'], 'the ack of the chat');

  // A key whose record is lost with the end user's connection; then the end user drops: no input;
  // it comes back in epoch 1: start, the unacknowledged key with its seq, the ack again.
  assert.ok(client.sendKey(0x63, true));
  await tick();
  assert.equal(socket.take().length, 1);
  socket.deliver(new Uint8Array([0, 0, 0, 6, FrameType.peerAway, 0, 0, 0, 0, 60]));
  await tick();
  assert.equal(client.canSendInput, false);
  assert.equal(client.sendKey(0x62, true), false);
  socket.deliver(new Uint8Array([0, 0, 0, 6, FrameType.peerResumed, 0, 0, 0, 0, 1]));
  endUser.startEpoch(1);
  await tick();
  const again = [];
  for (const r of socket.take()) { assert.equal(r.epoch, 1); const m = await endUser.open(r); again.push(m ? `${m.kind}:${m.seq ?? ''}` : null); }
  assert.deepEqual(again, [null, 'key:3', null], 'start (known), the lost key with its seq, the ack');
  assert.ok(client.canSendInput);

  // End: the end record, then session-ended, in that order; a close right after (the viewer closes as
  // soon as it hears its own session end) waits for both: it once cut them off, and the end user heard
  // "normal" instead of "ended by the agent".
  const ended = nextEvent(client, 'session-ended');
  client.endSession();
  assert.equal((await ended).reason, CloseReason.endedByAgent);
  await client.close();
  const last = socket.take();
  assert.equal(last.length, 3);
  assert.equal((await endUser.open(last[0])).kind, 'end');
  assert.deepEqual([last[1].kind, last[1].reason], ['sessionEnded', 2]);
  assert.equal(last[2].kind, 'close');
  assert.equal(client.state, 'closed');
});

test('AgentClient: a protocol error closes with its reason', async () => {
  const client = new AgentClient({ url: 'ws://console.test/ws', WebSocket: FakeSocket });
  const closed = nextEvent(client, 'closed');
  client.start();
  const socket = FakeSocket.last;
  socket.deliver(encode.ping(1n));   // before the hello
  const info = await closed;
  assert.equal(info.reason, CloseReason.protocolError);
  const sent = socket.sent.map((b) => decodeControl(frameFromMessage(b, 262400)));
  assert.equal(sent[0].kind, 'hello');
  assert.deepEqual([sent.at(-1).kind, sent.at(-1).reason], ['close', CloseReason.protocolError]);
});
