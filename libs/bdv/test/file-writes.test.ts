import { lstatSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileAtomically } from '../src/writer/file-writes.js';

const dir = mkdtempSync(join(tmpdir(), 'bdv-file-writes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writeFileAtomically on a full disk', () => {
  it('names the file it was writing, leaves no temporary behind, and keeps the old file whole', () => {
    const path = join(dir, 'out.xml');
    writeFileSync(path, 'the earlier XML');
    // The kernel's own "no space left" (a write to /dev/full), not a patched fs: the temporary
    // name this process uses points there.
    const tmp = `${path}.${process.pid}.tmp`;
    symlinkSync('/dev/full', tmp);
    let error: NodeJS.ErrnoException | undefined;
    try {
      writeFileAtomically(path, '<SpimData/>');
    } catch (e) {
      error = e as NodeJS.ErrnoException;
    }
    expect(error?.code).toBe('ENOSPC');
    expect(error?.path).toBe(path);
    expect(() => lstatSync(tmp)).toThrow(/ENOENT/); // not even the link
    expect(readFileSync(path, 'utf8')).toBe('the earlier XML');
  });
});
