import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readFully } from '../src/h5/read-fully.js';

// readFully backs the rollback journal's copies of old bytes and the verifier's chunk reads: a
// read that came back short must never pass for the file's bytes.

const dir = mkdtempSync(join(tmpdir(), 'bdv-read-fully-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readFully', () => {
  it('fills the target from the position, and throws, naming what, where the file ends first', () => {
    const path = join(dir, 'f.bin');
    writeFileSync(path, Buffer.from(Array.from({ length: 100 }, (_, i) => i)));
    const fd = openSync(path, 'r');
    try {
      const target = Buffer.alloc(40);
      readFully(fd, target, 50, 'a test range');
      expect([...target]).toEqual(Array.from({ length: 40 }, (_, i) => 50 + i));
      const beyond = Buffer.alloc(40);
      expect(() => readFully(fd, beyond, 80, 'the old bytes')).toThrow(
        'the old bytes at byte 80: the file ended',
      );
      // an empty target reads nothing, even past the end
      readFully(fd, Buffer.alloc(0), 1000, 'nothing');
    } finally {
      closeSync(fd);
    }
  });
});
