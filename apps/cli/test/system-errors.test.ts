import { describe, expect, it } from 'vitest';
import { systemErrorLine, systemReason } from '../src/cli-error.js';
import { parseNumber } from '../src/convert/option-lists.js';

const errno = (code: string, path?: string, syscall?: string) =>
  Object.assign(new Error(`${code}: raw, ${syscall} '${path}'`), { code, path, syscall });

describe('file-system errors as a user reads them', () => {
  it('says the reason in words, not the code', () => {
    expect(systemReason(errno('EACCES'))).toBe('permission denied');
    expect(systemReason(errno('EROFS'))).toBe('it is on a read-only file system');
    expect(systemReason(errno('ENOTDIR'))).toBe('a parent is not a folder');
    expect(systemReason(errno('EWHATEVER'))).toBe('EWHATEVER');
  });

  it('prints a file-system error no check caught as one line naming its path', () => {
    expect(systemErrorLine(errno('EACCES', '/data/ro/sub', 'mkdir'))).toBe(
      '/data/ro/sub: permission denied (mkdir)',
    );
    expect(systemErrorLine(errno('ENOSPC', '/data/x.h5', 'write'))).toBe(
      '/data/x.h5: no space left on the device (write)',
    );
    // Not a file-system error of a path: left to the stack-trace hint.
    expect(systemErrorLine(errno('EACCES'))).toBeUndefined();
    expect(systemErrorLine(errno('ECONNRESET', '/x'))).toBeUndefined();
    expect(systemErrorLine(new TypeError('x is undefined'))).toBeUndefined();
  });

  it('quotes a number it cannot read', () => {
    expect(parseNumber('0.02', '--exposure-time')).toBe(0.02);
    for (const text of ['fast', '', ' ', 'Infinity'])
      expect(() => parseNumber(text, '--exposure-time')).toThrow(
        `--exposure-time: expected a number like 0.02; got "${text}"`,
      );
  });
});
