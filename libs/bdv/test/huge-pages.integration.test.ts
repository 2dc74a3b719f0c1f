import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { adviseHugePages } from '../src/h5/huge-pages.js';

// HDF5's heaps are advised to Linux as huge-page memory (libs/bdv/native/bdv_memory.c,
// docs/adr/021). Checked where the kernel shows it: /proc/self/smaps marks an advised mapping
// with the VmFlag `hg`. Tests run one file per process (vitest's forks pool), and nothing else in
// Node advises memory, so every `hg` mapping of this process is ours.

const MIB = 1 << 20;
const hasThp = existsSync('/sys/kernel/mm/transparent_hugepage/enabled');

/** Bytes of this process's (or `pid`'s) mappings advised MADV_HUGEPAGE. */
function advisedBytes(pid: number | 'self' = 'self'): number {
  let total = 0;
  let size = 0;
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const range = /^([0-9a-f]+)-([0-9a-f]+) /.exec(line);
    if (range) size = parseInt(range[2]!, 16) - parseInt(range[1]!, 16);
    else if (line.startsWith('VmFlags:') && line.split(/\s+/).includes('hg')) total += size;
  }
  return total;
}

/** A process that loads HDF5 (from the build, as the CLI does) and says how much it advised. */
function advisedByHdf5Process(env: NodeJS.ProcessEnv): number {
  const code = `import { preloadHdf5 } from '@bdv-cluster/bdv';
    import { readFileSync } from 'node:fs';
    await preloadHdf5();
    let total = 0, size = 0;
    for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\\n')) {
      const range = /^([0-9a-f]+)-([0-9a-f]+) /.exec(line);
      if (range) size = parseInt(range[2], 16) - parseInt(range[1], 16);
      else if (line.startsWith('VmFlags:') && line.split(/\\s+/).includes('hg')) total += size;
    }
    console.log(total);`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
    cwd: join(import.meta.dirname, '..'),
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  expect(run.status, run.stderr).toBe(0);
  return Number(run.stdout.trim());
}

describe('huge pages for HDF5 heaps', () => {
  it('advises a wasm memory over its whole maximum, the pages it has not grown into included', () => {
    const memory = new WebAssembly.Memory({ initial: 32, maximum: 1024, shared: true });
    const heap = new Uint8Array(memory.buffer);
    const before = advisedBytes();
    const advised = adviseHugePages(heap, 64 * MIB);
    if (!hasThp) return expect(advised).toBe(0);
    expect(advised).toBe(64 * MIB);
    expect(advisedBytes() - before).toBeGreaterThanOrEqual(64 * MIB);
    // The memory still works as memory, grown into the advised pages.
    memory.grow(700); // to 45.75 MiB
    const grown = new Uint8Array(memory.buffer);
    grown.fill(7, 40 * MIB, 41 * MIB);
    expect(grown[40 * MIB + 12345]).toBe(7);
  });

  it('refuses what is not a heap view or a span that does not cover it', () => {
    const heap = new Uint8Array(new WebAssembly.Memory({ initial: 2, maximum: 4 }).buffer);
    expect(() => adviseHugePages(heap, 5 * 1024 * MIB)).toThrow(/at most 4 GiB/);
    expect(adviseHugePages(heap, 0)).toBe(hasThp ? heap.length : 0); // a short span means the view
  });

  it.runIf(hasThp)("advises each HDF5 heap up to the module's maximum, unless BDV_HUGE_PAGES=off", () => {
    const { maxMemoryBytes } = JSON.parse(
      readFileSync(join(import.meta.dirname, '..', 'dist', 'h5wasm', 'source.json'), 'utf8'),
    ) as { maxMemoryBytes: number };
    expect(maxMemoryBytes, 'the build records the heap maximum (npm run build)').toBe(2048 * MIB);
    expect(advisedByHdf5Process({})).toBeGreaterThanOrEqual(maxMemoryBytes);
    expect(advisedByHdf5Process({ BDV_HUGE_PAGES: 'off' })).toBe(0);
  });
});
