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
  it('removes the temporary files of killed writers and nothing else', () => {
    const keep = [
      'run.h5',
      'run.xml',
      'run-t00000-s01.h5',
      '.run.h5.lock',
      'notes.tmp',
      '.editor-swap.tmp', // somebody's hidden temporary, not a writer's
      '.Run.h5.4242-m3x9.tmp', // another output's (a name differing in case)
    ];
    const abandoned = [
      '.run-t00000-s01.h5.1a2b3c4d.tmp',
      '.run.h5.4242-m3x9.tmp',
      'run.xml.4242.tmp',
      'run.checksums.json.4242.tmp',
      '.run.pending.xml.4242.tmp', // a finalizer killed while publishing
      '.run.pending.checksums.json.4242.tmp',
    ];
    for (const name of [...keep, ...abandoned]) writeFileSync(join(dir, name), 'x');
    expect(removeAbandonedScratch(join(dir, 'run.h5')).sort()).toEqual([...abandoned].sort());
    expect(readdirSync(dir).sort()).toEqual([...keep].sort());
  });
});
