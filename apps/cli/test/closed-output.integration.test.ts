import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeStacks, tempDir } from '../../../test/support/oracle.js';
import { bdv } from './cli-run.js';

// `bdv … | head` or `| true`: the reader closes the pipe before bdv writes its report. The work
// must go on to its end with its own exit code, and no EPIPE stack may be printed.

const BIN = join(import.meta.dirname, '..', 'bin', 'bdv.js');
const dir = tempDir('bdv-closed-output-');
const p = (...parts: string[]) => join(dir.path, ...parts);
afterAll(() => dir.remove());
beforeAll(() => makeStacks(dir.path, [{ path: p('stack.npy'), shape: [8, 64, 96], seed: 5 }]));

/** Runs bdv with its stdout a pipe this side has already closed; resolves to its status and stderr. */
function withClosedStdout(args: string[]): Promise<{ status: number | null; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, BDV_DEBUG: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stderr })));
}

describe('bdv with a reader that closed its output', () => {
  it('convert finishes and exits 0; verify keeps its verdict', async () => {
    const out = p('closed.h5');
    const convert = await withClosedStdout(['convert', p('stack.npy'), '-o', out, '--progress', 'none']);
    expect(convert.stderr).not.toMatch(/EPIPE|Unhandled/);
    expect(convert.status).toBe(0);
    expect(existsSync(p('closed.xml'))).toBe(true);
    // The files are whole: a verify that prints normally accepts them.
    expect(bdv(['verify', p('closed.xml')]).status).toBe(0);

    const verified = await withClosedStdout(['verify', p('closed.xml')]);
    expect(verified.stderr).not.toMatch(/EPIPE|Unhandled/);
    expect(verified.status).toBe(0);
    rmSync(p('closed.checksums.json'));
    const refused = await withClosedStdout(['verify', p('closed.xml')]);
    expect(refused.stderr).not.toMatch(/EPIPE|Unhandled/);
    expect(refused.status, 'no checksum record: still a failed verification').toBe(1);
  });
});
