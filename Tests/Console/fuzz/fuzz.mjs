// A mutation fuzzer for the console viewer's parsers (the browser has no libFuzzer): frames and control
// messages (wire.js), session messages (messages.js) and screen updates (rfb.js, zrle.js, with the
// browser's DecompressionStream). Seeds: PROTOCOL.md section 19's frames and messages, and the updates
// the Swift encoder made (Tests/Console/fixtures). Each input must be accepted or refused with a clear
// error: a ProtocolError or an Error of our own making. A TypeError or RangeError (a read past the end,
// an undefined field) or an input that takes longer than the deadline is a finding, saved under
// .build-fuzz/console/<target>/ and a failure.
//   node Tests/Console/fuzz/fuzz.mjs [SECONDS_PER_TARGET] [wire|session|update...]
import { readFileSync, readdirSync, mkdirSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { FrameReader, decodeControl, frameFromMessage, OWN_MAXIMUM_LENGTH } from '../../../Sources/RemoteSupportBroker/Resources/console/js/viewer/wire.js';
import { decodeSession, parsePixelFormat } from '../../../Sources/RemoteSupportBroker/Resources/console/js/viewer/messages.js';
import { UpdateDecoder } from '../../../Sources/RemoteSupportBroker/Resources/console/js/viewer/rfb.js';

const root = new URL('../../../', import.meta.url);
const seconds = Number(process.argv[2] ?? 10);
const chosen = process.argv.slice(3);

// A small deterministic generator (xorshift32): a run can be repeated with RS_FUZZ_SEED.
let state = Number(process.env.RS_FUZZ_SEED ?? 20261125) >>> 0 || 1;
const random = () => { state ^= state << 13; state >>>= 0; state ^= state >>> 17; state ^= state << 5; state >>>= 0; return state; };
const below = (n) => random() % n;

const hex = (text) => Uint8Array.from(text.match(/../g).map((b) => parseInt(b, 16)));

/** The hex blocks of PROTOCOL.md section 19: frames, and `message:` lines (session messages). */
function protocolVectors() {
  const spec = readFileSync(new URL('PROTOCOL.md', root), 'utf8');
  const vectors = spec.slice(spec.indexOf('## 19. Test vectors'));
  const frames = [], messages = [];
  for (const line of vectors.split('\n')) {
    const m = line.match(/^(message:|frame:)?\s*([0-9a-f]{12,})\s*$/);
    if (!m) continue;
    (m[1] === 'message:' ? messages : frames).push(hex(m[2]));
  }
  return { frames, messages };
}

function fixtures() {
  const folder = new URL('Tests/Console/fixtures/', root);
  return readdirSync(folder).filter((n) => n.endsWith('.json')).map((n) => JSON.parse(readFileSync(new URL(n, folder), 'utf8')));
}

/** One mutation of `input` (sometimes spliced with another seed). */
function mutate(input, seeds) {
  let b = Uint8Array.from(input);
  const rounds = 1 + below(4);
  for (let i = 0; i < rounds; i++) {
    const at = b.length ? below(b.length) : 0;
    switch (below(9)) {
      case 0: if (b.length) b[at] ^= 1 << below(8); break;
      case 1: if (b.length) b[at] = [0, 1, 0x7f, 0x80, 0xff, 0x10, 0x30][below(7)]; break;
      case 2: b = b.slice(0, at); break;                                     // truncate
      case 3: b = Uint8Array.from([...b.slice(0, at), ...b.slice(at + 1 + below(16))]); break;   // delete
      case 4: { const n = 1 + below(16); b = Uint8Array.from([...b.slice(0, at), ...Array.from({ length: n }, () => below(256)), ...b.slice(at)]); break; }
      case 5: { const n = 1 + below(64); b = Uint8Array.from([...b.slice(0, at), ...b.slice(at, at + n), ...b.slice(at)]); break; }   // duplicate
      case 6: if (b.length >= 4) { const p = below(b.length - 3); new DataView(b.buffer).setUint32(p, [0xffffffff, 0x7fffffff, 0x10000, 65601, 2, 0][below(6)]); } break;
      case 7: if (b.length >= 2) { const p = below(b.length - 1); new DataView(b.buffer).setUint16(p, [0xffff, 0x8000, 0, 1, 256][below(5)]); } break;
      case 8: { const other = seeds[below(seeds.length)]; const cut = below(other.length + 1); b = Uint8Array.from([...b.slice(0, at), ...other.slice(cut)]); break; }
    }
  }
  return b;
}

/** Our refusals are ProtocolError or plain Error; JavaScript's own errors mean a missed check. */
const isClearRefusal = (e) => e instanceof Error && !(e instanceof TypeError) && !(e instanceof RangeError) && !(e instanceof ReferenceError);

const withDeadline = (promise, ms) => Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Deadline()), ms))]);
class Deadline extends Error {}

const { frames, messages } = protocolVectors();
const updateFixtures = fixtures();

const targets = {
  wire: {
    seeds: frames,
    async run(input) {
      // As one TCP-like stream cut at a random place, and as one WebSocket message.
      const reader = new FrameReader(OWN_MAXIMUM_LENGTH);
      const cut = below(input.length + 1);
      try {
        for (const part of [input.subarray(0, cut), input.subarray(cut)]) {
          reader.push(part);
          for (let f = reader.next(); f; f = reader.next()) decodeControl(f);
        }
      } catch (e) { if (!isClearRefusal(e)) throw e; }
      try { decodeControl(frameFromMessage(input, OWN_MAXIMUM_LENGTH)); } catch (e) { if (!isClearRefusal(e)) throw e; }
    },
  },
  session: {
    seeds: messages,
    async run(input) {
      try { decodeSession(input); } catch (e) { if (!isClearRefusal(e)) throw e; }
      if (input.length >= 16) { try { parsePixelFormat(input.subarray(0, 16)); } catch (e) { if (!isClearRefusal(e)) throw e; } }
    },
  },
  update: {
    // An input is a fixture's first update (a fresh zlib stream), mutated; the screen is the fixture's.
    seeds: updateFixtures.map((f) => Uint8Array.from(Buffer.from(f.updates[0], 'base64'))),
    async run(input, seedIndex) {
      const f = updateFixtures[seedIndex];
      const decoder = new UpdateDecoder(f.width, f.height, parsePixelFormat(Uint8Array.from(f.pixelFormat)), { stallMs: 200 });
      try {
        await withDeadline(decoder.apply(input), 3000);
      } catch (e) {
        if (e instanceof Deadline || !isClearRefusal(e)) throw e;
      } finally {
        decoder.stream?.close?.();
      }
    },
  },
};

let failed = 0;
for (const name of chosen.length ? chosen : Object.keys(targets)) {
  const target = targets[name];
  if (!target) { console.error(`unknown target ${name}: wire, session, update`); process.exit(2); }
  if (!target.seeds.length) { console.error(`fuzz ${name}: no seeds`); failed++; continue; }
  const end = Date.now() + seconds * 1000;
  let runs = 0, findings = 0;
  // Every seed as it is first, then mutations.
  for (let i = 0; Date.now() < end; i++) {
    const seedIndex = i < target.seeds.length ? i : below(target.seeds.length);
    const input = i < target.seeds.length ? target.seeds[i] : mutate(target.seeds[seedIndex], target.seeds);
    runs++;
    try {
      await target.run(input, seedIndex);
    } catch (error) {
      findings++;
      const folder = new URL(`.build-fuzz/console/${name}/`, root);
      mkdirSync(folder, { recursive: true });
      const file = new URL(`${name}-${createHash('sha1').update(input).digest('hex').slice(0, 12)}.bin`, folder);
      writeFileSync(file, input);
      console.error(`fuzz ${name}: FINDING (seed ${seedIndex}): ${error instanceof Deadline ? 'over the deadline' : error.stack}\n  saved as ${file.pathname}`);
      if (findings >= 5) break;
    }
  }
  console.log(`fuzz ${name}: ${runs} inputs in ${seconds} s, ${findings} findings`);
  failed += findings;
}
process.exit(failed ? 1 : 0);
