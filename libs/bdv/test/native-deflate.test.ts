import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { crc32 as zlibCrc32, deflateSync, inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32, deflateEngine, nativeDeflate } from '../src/h5/native-deflate.js';

// The libdeflate binding (libs/bdv/native/bdv_deflate.c, docs/adr/020), as built by
// `npm run build`: zlib streams any zlib reads, and every misuse a thrown error, never a crash.
const binding = nativeDeflate();

/** Camera-like 16-bit pixels: offset, a smooth signal and noise, as bytes. */
function cameraBytes(pixels: number, seed = 1): Uint8Array {
  let state = seed;
  const data = new Uint16Array(pixels);
  for (let i = 0; i < pixels; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    data[i] = 400 + Math.round(300 * Math.sin(i / 97)) + ((state >>> 16) % 29);
  }
  return new Uint8Array(data.buffer);
}

describe('libdeflate binding', () => {
  it('is built, and is the engine named for gzip', () => {
    expect(
      binding,
      'run `npm run build` with libdeflate-dev installed (scripts/install-test-deps.sh)',
    ).toBeDefined();
    const recorded = JSON.parse(
      readFileSync(join(import.meta.dirname, '..', 'dist', 'native', 'source.json'), 'utf8'),
    ) as { bdv_deflate: string };
    expect(`libdeflate ${binding!.version}`).toBe(recorded.bdv_deflate);
    expect(deflateEngine()).toBe(`libdeflate ${binding!.version}`);
  });

  for (const level of [0, 1, 4, 9, 12]) {
    it(`writes zlib streams that zlib inflates (level ${level}), from a SharedArrayBuffer too`, () => {
      const plain = cameraBytes(64 * 1024, level + 3);
      const shared = new Uint8Array(new SharedArrayBuffer(plain.length + 64)).subarray(64);
      shared.set(plain);
      const out = new Uint8Array(binding!.compressBound(level, plain.length));
      for (const input of [plain, shared]) {
        const written = binding!.compress(level, input, out);
        expect(written).toBeGreaterThan(0);
        expect(inflateSync(out.subarray(0, written)).equals(Buffer.from(plain))).toBe(true);
      }
    });
  }

  it('inflates what zlib deflates, into exactly the output given', () => {
    const plain = cameraBytes(32 * 1024);
    const output = new Uint8Array(plain.length);
    binding!.decompress(deflateSync(plain, { level: 6 }), output);
    expect(Buffer.from(output).equals(Buffer.from(plain))).toBe(true);
  });

  it("computes zlib's CRC-32, continued across pieces, from a SharedArrayBuffer too", () => {
    const bytes = cameraBytes(300_001, 7).subarray(1); // an odd length at an odd offset
    const shared = new Uint8Array(new SharedArrayBuffer(bytes.length + 3)).subarray(3);
    shared.set(bytes);
    const whole = zlibCrc32(bytes);
    expect(binding!.crc32(0, bytes)).toBe(whole);
    expect(binding!.crc32(0, shared)).toBe(whole);
    // Pieces of every size around the SIMD widths, folded in order as the writer folds its slabs.
    let running = 0;
    for (let at = 0, step = 1; at < bytes.length; at += step, step = (step * 3 + 5) % 997)
      running = binding!.crc32(running, bytes.subarray(at, at + step));
    expect(running).toBe(whole);
    expect(binding!.crc32(0xdeadbeef, new Uint8Array(0))).toBe(0xdeadbeef);
    // crc32() is what level checksums call: the binding, or zlib with BDV_DEFLATE=zlib.
    expect(crc32(bytes, 12345)).toBe(zlibCrc32(bytes, 12345));
    expect(() => (binding!.crc32 as (...a: unknown[]) => number)(0, 'x')).toThrow(/takes \(value, input/);
  });

  it('writes nothing (0) where the output is too small', () => {
    const plain = cameraBytes(8192);
    expect(binding!.compress(4, plain, new Uint8Array(16))).toBe(0);
  });

  it('refuses streams that inflate to another size or are damaged, without writing past the output', () => {
    const plain = cameraBytes(4096);
    const stream = deflateSync(plain);
    const guarded = new Uint8Array(plain.length + 16).fill(0xee);
    expect(() => binding!.decompress(stream, guarded.subarray(0, plain.length - 1))).toThrow(
      'the stream inflates to more bytes than expected',
    );
    expect(guarded.subarray(plain.length - 1).every((b) => b === 0xee)).toBe(true);
    expect(() => binding!.decompress(stream, new Uint8Array(plain.length + 1))).toThrow(
      'the stream inflates to fewer bytes than expected',
    );
    const broken = Buffer.from(stream);
    broken.fill(0x55, 2, 40);
    expect(() => binding!.decompress(broken, new Uint8Array(plain.length))).toThrow(
      'not a valid zlib stream',
    );
    expect(() => binding!.decompress(new Uint8Array(0), new Uint8Array(8))).toThrow(
      'not a valid zlib stream',
    );
  });

  it('throws on wrong arguments instead of reading memory it was not given', () => {
    const b = binding!;
    const bytes = new Uint8Array(64);
    const calls: [() => unknown, RegExp][] = [
      [() => b.compress(13, bytes, bytes), /level must be an integer 0\.\.12/],
      [() => b.compress(-1, bytes, bytes), /level must be an integer 0\.\.12/],
      [() => b.compress(4, new Uint16Array(8) as unknown as Uint8Array, bytes), /must be Uint8Arrays/],
      [() => b.compress(4, bytes.buffer as unknown as Uint8Array, bytes), /must be Uint8Arrays/],
      [() => (b.compress as (...a: unknown[]) => number)(4, bytes), /takes \(level, input, output\)/],
      [() => b.compressBound(4, -1), /non-negative/],
      [() => b.decompress(bytes, 'x' as unknown as Uint8Array), /must be Uint8Arrays/],
    ];
    for (const [call, message] of calls) expect(call).toThrow(message);
  });

  it('runs on several threads at once, each with its own coders', async () => {
    const source = pathToFileURL(join(import.meta.dirname, '..', 'dist', 'native', 'bdv_deflate.node')).href;
    const code = `import { createRequire } from 'node:module';
      import { fileURLToPath } from 'node:url';
      import { parentPort, workerData } from 'node:worker_threads';
      import { inflateSync } from 'node:zlib';
      const path = fileURLToPath(workerData.source);
      const b = createRequire(path)(path);
      const plain = new Uint8Array(workerData.plain);
      let same = 0;
      for (let i = 0; i < 20; i++) {
        const out = new Uint8Array(b.compressBound(workerData.level, plain.length));
        const n = b.compress(workerData.level, plain, out);
        const back = new Uint8Array(plain.length);
        b.decompress(out.subarray(0, n), back);
        if (Buffer.from(back).equals(Buffer.from(plain)) && inflateSync(out.subarray(0, n)).equals(Buffer.from(plain))) same++;
      }
      parentPort.postMessage(same);`;
    const run = (level: number) => {
      const plain = cameraBytes(128 * 1024, level);
      const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(code)}`), {
        workerData: { source, level, plain: plain.buffer },
      });
      return new Promise<number>((resolve, reject) => {
        worker.once('message', (same: number) => void worker.terminate().then(() => resolve(same)));
        worker.once('error', reject);
      });
    };
    expect(await Promise.all([run(1), run(4), run(9)])).toEqual([20, 20, 20]);
  });
});
