import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeAbandonedScratch } from '../src/finalizer/abandoned-scratch.js';

const dir = mkdtempSync(join(tmpdir(), 'bdv-scratch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('abandoned scratch files at finalize', () => {
  // Regression: writers killed with -9 while staging partitions left one hidden .tmp per kill
  // (test/e2e/fault-writer-kills.e2e.test.ts found five after five kills).
  it('removes the hidden temporary files of killed writers and nothing else', () => {
    const keep = ['run.h5', 'run.xml', 'run-t00000-s01.h5', '.run.h5.lock', 'notes.tmp'];
    const abandoned = ['.run-t00000-s01.h5.1a2b3c4d.tmp', '.run.h5.4242-m3x9.tmp'];
    for (const name of [...keep, ...abandoned]) writeFileSync(join(dir, name), 'x');
    expect(removeAbandonedScratch(dir).sort()).toEqual([...abandoned].sort());
    expect(readdirSync(dir).sort()).toEqual([...keep].sort());
  });
});
