import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/support/oracle.js';
import { inputMapping, MAP_ROOM_BYTES } from '../src/h5/input-mapping.js';
import { nativeMemory } from '../src/h5/native-memory.js';

// Local inputs are mapped into slab buffers of the HDF5 heap instead of read into them
// (libs/bdv/native/bdv_memory.c mapFile/populateMapped/unmapFile, docs/adr/024). Checked on a
// shared wasm memory, as HDF5's heap is (docs/adr/019), against the file's bytes and against
// what /proc/self/maps says is mapped.

const MIB = 1 << 20;
const dir = tempDir('bdv-map-');
afterAll(() => dir.remove());

/** A file of `bytes` pseudo-random bytes (no page looks like another). */
function makeFile(name: string, bytes: number): { path: string; data: Buffer } {
  const data = Buffer.alloc(bytes);
  for (let i = 0, x = 12345; i < bytes; i += 4) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    data.writeUInt32LE(x, i);
  }
  const path = join(dir.path, name);
  writeFileSync(path, data);
  return { path, data };
}

/** True while some mapping of this process is backed by `path`. */
function isMapped(path: string): boolean {
  return readFileSync('/proc/self/maps', 'utf8').includes(path);
}

function heapView(bytes: number): Uint8Array {
  const memory = new WebAssembly.Memory({ initial: 64, maximum: 1024, shared: true });
  return new Uint8Array(memory.buffer, 3 * 4096 + 40, bytes); // not page-aligned, as a malloc'd block
}

const mapping = inputMapping();

describe.runIf(mapping)('input mapping', () => {
  const file = makeFile('input.bin', 3 * MIB + 1000);

  it('puts the bytes of any even position into a buffer with room, and gives the memory back as zeros', async () => {
    const fd = openSync(file.path, 'r');
    try {
      const view = heapView(MIB + MAP_ROOM_BYTES);
      for (const position of [0, 128, 4096 + 64, 2 * MIB + 2, file.data.length - MIB]) {
        const mapped = mapping!.map(() => view, fd, position, MIB);
        expect(mapped, `position ${position}`).toBeDefined();
        await mapped!.ready();
        expect(mapped!.offset).toBeLessThan(MAP_ROOM_BYTES);
        expect(mapped!.offset % 2).toBe(position % 2);
        const got = view.subarray(mapped!.offset, mapped!.offset + MIB);
        expect(
          Buffer.compare(got, file.data.subarray(position, position + MIB)),
          `position ${position}`,
        ).toBe(0);
        expect(isMapped(file.path)).toBe(true);
      }
      // A write lands in a private copy of its page, never in the file.
      view.fill(0xab, MAP_ROOM_BYTES, MAP_ROOM_BYTES + 8192);
      mapping!.unmap(view);
      expect(isMapped(file.path)).toBe(false);
      expect(Buffer.compare(readFileSync(file.path), file.data)).toBe(0);
      // Every whole page of the view is fresh memory again; the edges were never replaced.
      const inner = view.subarray(4096 - 40, view.length - 4096);
      expect(inner.every((b) => b === 0)).toBe(true);
    } finally {
      closeSync(fd);
    }
  });

  it('says no, touching nothing, where the bytes do not fit or the file cannot be mapped', () => {
    const fd = openSync(file.path, 'r');
    const proc = openSync('/proc/self/stat', 'r');
    try {
      const tight = heapView(MIB + 100);
      tight.fill(7);
      expect(mapping!.map(() => tight, fd, 128, MIB)).toBeUndefined();
      expect(tight.every((b) => b === 7)).toBe(true);
      const roomy = heapView(2 * MIB);
      expect(mapping!.map(() => roomy, proc, 0, 4096)).toBeUndefined();
      expect(() => mapping!.map(() => tight, -1, 0, 4096)).toThrow(RangeError);
      expect(isMapped(file.path)).toBe(false);
    } finally {
      closeSync(fd);
      closeSync(proc);
    }
  });

  it('refuses bytes the file no longer holds instead of handing out pages that would raise SIGBUS', async () => {
    const short = makeFile('shrinks.bin', 2 * MIB);
    const fd = openSync(short.path, 'r');
    try {
      // Something shrank the input after it was opened: its reader still believes 2 MiB.
      truncateSync(short.path, MIB + 4096);
      const view = heapView(MIB + MAP_ROOM_BYTES);
      const mapped = mapping!.map(() => view, fd, MIB, MIB)!;
      expect(mapped).toBeDefined();
      await expect(mapped.ready()).rejects.toMatchObject({ code: 'EFAULT' });
      mapping!.unmap(view);
      expect(isMapped(short.path)).toBe(false);
    } finally {
      closeSync(fd);
    }
  });

  it('reads zeros and says so, instead of dying of SIGBUS, where the file shrinks under populated pages', async () => {
    const shrinking = makeFile('shrinks-later.bin', 2 * MIB);
    const fd = openSync(shrinking.path, 'r');
    try {
      const view = heapView(2 * MIB + MAP_ROOM_BYTES);
      const mapped = mapping!.map(() => view, fd, 0, 2 * MIB)!;
      await mapped.ready();
      expect(mapped.lost()).toBe(false);
      // Something cuts the input while its pages are in use: Linux takes the pages past the new
      // end out of every mapping, and the next touch of one raises SIGBUS.
      truncateSync(shrinking.path, MIB + 100);
      const bytes = view.subarray(mapped.offset, mapped.offset + 2 * MIB);
      const kept = Buffer.from(bytes.subarray(0, MIB)); // touches only pages the file still holds
      expect(Buffer.compare(kept, shrinking.data.subarray(0, MIB))).toBe(0);
      expect(mapped.lost()).toBe(false);
      // This process goes on: the page that faulted and every one after it read as zeros.
      expect(bytes.subarray(MIB + 4096).every((b) => b === 0)).toBe(true);
      expect(mapped.lost()).toBe(true);
      mapping!.unmap(view);
      expect(isMapped(shrinking.path)).toBe(false);
      // The view's next mapping starts with nothing lost.
      writeFileSync(shrinking.path, shrinking.data);
      const again = mapping!.map(() => view, fd, 0, MIB)!;
      await again.ready();
      expect(again.lost()).toBe(false);
      expect(
        Buffer.compare(view.subarray(again.offset, again.offset + MIB), shrinking.data.subarray(0, MIB)),
      ).toBe(0);
      mapping!.unmap(view);
    } finally {
      closeSync(fd);
    }
  });

  const binding = join(
    dirname(createRequire(import.meta.url).resolve('@bdv-cluster/bdv/package.json')),
    'dist/native/bdv_memory.node',
  );
  /** `body` in a child Node with the binding as `native`, `file` open as `fd` and a 4 MiB heap `view`. */
  const inChild = (body: string) =>
    spawnSync(
      process.execPath,
      [
        '-e',
        `const native = require(${JSON.stringify(binding)});
         const fs = require('node:fs');
         const fd = fs.openSync(${JSON.stringify(file.path)}, 'r');
         const view = new Uint8Array(new WebAssembly.Memory({ initial: 64, maximum: 64, shared: true }).buffer);
         ${body}`,
      ],
      { encoding: 'utf8', timeout: 20_000 },
    );

  it('leaves a SIGBUS that is not a mapped input to the disposition before it: the process still ends', () => {
    // The binding guards its mappings with a process-wide SIGBUS handler (installed at the first
    // mapFile); a SIGBUS sent by kill must still end the process as it did before.
    const child = inChild(`
      if (native.mapFile(view, fd, 0, 1 << 20) < 0) process.exit(3);
      process.kill(process.pid, 'SIGBUS');
      setTimeout(() => process.exit(0), 1000);`);
    expect(child.status, child.stderr).toBeNull();
    expect(child.signal).toBe('SIGBUS');
  });

  it('takes its guard back from a SIGBUS handler installed after it, which still gets what is not ours', () => {
    // A listener (libuv's handler) installed after the first mapping replaced ours: a mapping made
    // later is guarded again, and a sent SIGBUS still reaches the listener.
    const copy = join(dir.path, 'guarded-again.bin');
    writeFileSync(copy, file.data);
    const child = inChild(`
      if (native.mapFile(view, fd, 0, 1 << 20) < 0) process.exit(3);
      native.unmapFile(view);
      let heard = 0;
      process.on('SIGBUS', () => heard++);
      const other = fs.openSync(${JSON.stringify(copy)}, 'r');
      const at = native.mapFile(view, other, 0, 2 << 20);
      if (at < 0) process.exit(4);
      fs.truncateSync(${JSON.stringify(copy)}, 4096);
      const zeros = view.subarray(at + 8192, at + (2 << 20)).every((b) => b === 0);
      const lost = native.lostMappedBytes(view);
      native.unmapFile(view);
      process.kill(process.pid, 'SIGBUS');
      setTimeout(() => { console.log(JSON.stringify({ zeros, lost, heard })); process.exit(0); }, 200);`);
    expect(child.signal, child.stderr).toBeNull();
    expect(child.status, child.stderr).toBe(0);
    expect(JSON.parse(child.stdout)).toEqual({ zeros: true, lost: true, heard: 1 });
  });

  it("forgets a thread's mappings when the thread ends without giving them back", async () => {
    const listed = () => nativeMemory()!.listedMappings!();
    const before = listed();
    const { Worker } = await import('node:worker_threads');
    // A worker maps a slab and is terminated mid-view: no unmapFile ever runs for it.
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
       const native = require(${JSON.stringify(binding)});
       const fd = require('node:fs').openSync(${JSON.stringify(file.path)}, 'r');
       const view = new Uint8Array(new WebAssembly.Memory({ initial: 64, maximum: 64, shared: true }).buffer);
       parentPort.postMessage(native.mapFile(view, fd, 0, 1 << 20));
       setInterval(() => {}, 1000);`,
      { eval: true },
    );
    const offset = await new Promise<number>((resolve) => worker.once('message', resolve));
    expect(offset).toBeGreaterThanOrEqual(0);
    expect(listed()).toBe(before + 1);
    await worker.terminate();
    // Left listed, its slot would claim memory a later heap reuses (and 256 such would end mapping).
    expect(listed()).toBe(before);
  });
});
