// The JavaScript update decoder against fixtures made by the Swift encoder
// (Tests/RemoteSupportCoreTests/Codec/ConsoleFixtureTests.swift), and against malformed input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { UpdateDecoder, copyRect } from '../../../Sources/RemoteSupportBroker/Resources/console/js/viewer/rfb.js';
import { parsePixelFormat } from '../../../Sources/RemoteSupportBroker/Resources/console/js/viewer/messages.js';

const fixtures = new URL('../fixtures/', import.meta.url);
const inflateExpected = (b64) => zlib.inflateRawSync(Buffer.from(b64, 'base64'), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
const bytes = (b64) => new Uint8Array(Buffer.from(b64, 'base64'));

function loadFixture(name) {
  return JSON.parse(readFileSync(new URL(`${name}.json`, fixtures), 'utf8'));
}

const names = readdirSync(fixtures).filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5));

test('there are fixtures to check', () => {
  for (const n of ['gradient-text', 'solid', 'moved-region', 'raw', 'scroll']) assert.ok(names.includes(n), n);
});

for (const name of names) {
  test(`fixture ${name} decodes to the Swift decoder's pixels`, async () => {
    const f = loadFixture(name);
    const decoder = new UpdateDecoder(f.width, f.height, parsePixelFormat(Uint8Array.from(f.pixelFormat)), { stallMs: 500 });
    try {
      for (let i = 0; i < f.updates.length; i++) {
        const dirty = await decoder.apply(bytes(f.updates[i]));
        assert.ok(dirty.length > 0, 'an update reports what changed');
        const want = inflateExpected(f.expected[i]);
        const got = Buffer.from(decoder.framebuffer.rgba.buffer);
        if (!got.equals(want)) {
          let at = 0;
          while (got[at] === want[at]) at++;
          const px = at >> 2;
          assert.fail(`update ${i}: first difference at pixel (${px % f.width}, ${Math.floor(px / f.width)}): got ${[...got.subarray(px * 4, px * 4 + 4)]}, want ${[...want.subarray(px * 4, px * 4 + 4)]}`);
        }
      }
    } finally {
      decoder.close();
    }
  });
}

test('CopyRect fixtures really contain CopyRect rectangles', () => {
  for (const name of ['moved-region', 'scroll']) {
    const f = loadFixture(name);
    const m = bytes(f.updates[1]);
    const decoder = new UpdateDecoder(f.width, f.height, parsePixelFormat(Uint8Array.from(f.pixelFormat)));
    const encodings = decoder.parse(m).map((r) => r.encoding);
    decoder.close();
    assert.ok(encodings.includes(1), `${name}: ${encodings}`);
  }
});

test('copyRect handles overlapping source and destination both ways', () => {
  const w = 5, px = new Uint32Array(25).map((_, i) => i);
  copyRect(px, w, { x: 0, y: 1, width: 5, height: 4 }, 0, 0);   // down by one row
  assert.deepEqual([...px.subarray(5, 10)], [0, 1, 2, 3, 4]);
  assert.deepEqual([...px.subarray(20, 25)], [15, 16, 17, 18, 19]);
  const q = new Uint32Array(25).map((_, i) => i);
  copyRect(q, w, { x: 1, y: 0, width: 4, height: 5 }, 0, 0);    // right by one column
  assert.deepEqual([...q.subarray(0, 5)], [0, 0, 1, 2, 3]);
});

function gradient() {
  const f = loadFixture('gradient-text');
  return { f, format: parsePixelFormat(Uint8Array.from(f.pixelFormat)), first: bytes(f.updates[0]) };
}

test('a truncated update is refused before any pixel changes', async () => {
  const { f, format, first } = gradient();
  for (const cut of [0, 3, 4, 10, 15, 20, first.length - 1]) {
    const decoder = new UpdateDecoder(f.width, f.height, format, { stallMs: 200 });
    await assert.rejects(decoder.apply(first.subarray(0, cut)), /ends inside|bytes after|claims/);
    assert.ok(decoder.framebuffer.pixels.every((v) => v === 0xff000000), 'still black');
    decoder.close();
  }
});

test('ZRLE data cut short inside the zlib stream is an error, not a hang', async () => {
  const { f, format, first } = gradient();
  // Keep the message structure valid but give the rectangle only part of its zlib bytes.
  const view = new DataView(first.buffer, first.byteOffset);
  const length = view.getUint32(16);
  const keep = Math.floor(length / 3);
  const cut = new Uint8Array(20 + keep);
  cut.set(first.subarray(0, 20 + keep));
  new DataView(cut.buffer).setUint32(16, keep);
  const decoder = new UpdateDecoder(f.width, f.height, format, { stallMs: 200 });
  const started = Date.now();
  await assert.rejects(decoder.apply(cut), /ZRLE/);
  assert.ok(Date.now() - started < 3000);
  decoder.close();
});

test('corrupt zlib data is an error', async () => {
  const { f, format, first } = gradient();
  const bad = first.slice();
  for (let i = 22; i < bad.length; i += 7) bad[i] ^= 0x5a;
  const decoder = new UpdateDecoder(f.width, f.height, format, { stallMs: 300 });
  await assert.rejects(decoder.apply(bad), /ZRLE/);
  await assert.rejects(decoder.apply(first), /ZRLE/, 'the stream stays broken');
  decoder.close();
});

test('rectangles outside the framebuffer, unknown encodings and too many rectangles are refused', async () => {
  const format = parsePixelFormat(Uint8Array.from([32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0]));
  const d = new UpdateDecoder(10, 10, format, { maximumRectangles: 2 });
  const rect = (x, y, w, h, enc) => { const b = new Uint8Array(12); const v = new DataView(b.buffer); v.setUint16(0, x); v.setUint16(2, y); v.setUint16(4, w); v.setUint16(6, h); v.setInt32(8, enc); return b; };
  const msg = (...parts) => { const n = parts.length; const all = [0, 0, n >> 8, n & 255]; for (const p of parts) all.push(...p); return Uint8Array.from(all); };
  assert.throws(() => d.parse(msg(rect(5, 5, 6, 1, 0))), /outside/);
  assert.throws(() => d.parse(msg(rect(0, 0, 1, 1, 5))), /encoding 5/);
  assert.throws(() => d.parse(msg([...rect(0, 0, 2, 2, 1), 0, 9, 0, 0])), /source/);
  assert.throws(() => d.parse(Uint8Array.from([0, 0, 0, 3])), /limit/);
  assert.throws(() => d.parse(Uint8Array.from([2, 0, 0, 0])), /not FramebufferUpdate/);
  // A raw pixel applied: BGRX bytes 0x11 0x22 0x33 -> R 0x33 G 0x22 B 0x11.
  await d.apply(msg([...rect(1, 2, 1, 1, 0), 0x11, 0x22, 0x33, 0]));
  assert.deepEqual([...d.framebuffer.rgba.subarray((2 * 10 + 1) * 4, (2 * 10 + 1) * 4 + 4)], [0x33, 0x22, 0x11, 255]);
  d.close();
});

test('other pixel formats: 16-bit 5-6-5 raw pixels scale to 8 bits', async () => {
  const format = parsePixelFormat(Uint8Array.from([16, 16, 0, 1, 0, 31, 0, 63, 0, 31, 11, 5, 0, 0, 0, 0]));
  const d = new UpdateDecoder(2, 1, format);
  // 0xF800 (red max) and 0x07E0 (green max), little-endian.
  await d.apply(Uint8Array.from([0, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0, 1, 0, 0, 0, 0, 0x00, 0xf8, 0xe0, 0x07]));
  assert.deepEqual([...d.framebuffer.rgba], [255, 0, 0, 255, 0, 255, 0, 255]);
  d.close();
});

const perfPath = process.env.RS_CONSOLE_PERF_FIXTURE ?? join(tmpdir(), 'rs-console-perf', 'perf-1920x1080.json');
test('decode time of a whole 1920x1080 ZRLE frame (needs RS_WRITE_CONSOLE_PERF_FIXTURE from the Swift test)', { skip: !existsSync(perfPath) }, async () => {
  const f = JSON.parse(readFileSync(perfPath, 'utf8'));
  const format = parsePixelFormat(Uint8Array.from(f.pixelFormat));
  const message = bytes(f.updates[0]);
  const want = inflateExpected(f.expected[0]);
  const times = [];
  for (let run = 0; run < 5; run++) {
    const d = new UpdateDecoder(f.width, f.height, format);
    const t0 = performance.now();
    await d.apply(message);
    times.push(performance.now() - t0);
    assert.ok(Buffer.from(d.framebuffer.rgba.buffer).equals(want));
    d.close();
  }
  console.log(`# ${f.width}x${f.height} ZRLE (${message.length} bytes): ${times.map((t) => t.toFixed(1)).join(', ')} ms`);
});
