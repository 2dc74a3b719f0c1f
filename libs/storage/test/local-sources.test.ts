import type { S3Client } from '@aws-sdk/client-s3';
import { npyHeader, openStackSource } from '@bdv-cluster/stacks';
import { mkdirSync, realpathSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/support/oracle.js';
import {
  allowedLocalPath,
  checkSourceHeader,
  openSource,
  parseSourceUri,
  sourceSize,
  StorageError,
} from '../src/index.js';
import { realPathOf } from '../src/source-uri.js';

// file:// sources against real folders and symbolic links: what lies inside the allowed roots,
// and what a client is told — never whether a path outside them exists, never a server path.

const dir = tempDir('bdv-local-sources-');
// The temporary folder itself may sit behind a link (macOS /var -> /private/var): real paths.
const base = realpathSync(dir.path);
const root = join(base, 'root');
const outside = join(base, 'outside');
const noS3 = undefined as unknown as S3Client;

beforeAll(() => {
  mkdirSync(join(root, 'sub'), { recursive: true });
  mkdirSync(join(outside, 'deeper'), { recursive: true });
  writeFileSync(join(outside, 'secret.npy'), 'secret');
  writeFileSync(join(root, 'sub', 'real.npy'), 'inside');
  symlinkSync('../outside', join(root, 'linkdir')); // a folder link that leaves the root
  symlinkSync('sub', join(root, 'alias')); // a folder link that stays inside
  symlinkSync('../outside/nonexist.npy', join(root, 'dangling-out.npy'));
  symlinkSync(join(outside, 'gone'), join(root, 'dangling-out-dir'));
  symlinkSync('sub/missing.npy', join(root, 'dangling-in.npy'));
  symlinkSync('loop-b', join(root, 'loop-a'));
  symlinkSync('loop-a', join(root, 'loop-b'));
});

afterAll(() => dir.remove());

/** What a client is told about a source: the refusal's message, or "ok <size>". */
async function answer(uri: string): Promise<string> {
  try {
    return `ok ${await sourceSize(noS3, parseSourceUri(uri, [root]))}`;
  } catch (error) {
    if (error instanceof StorageError) return `${error.code}: ${error.message}`;
    throw error;
  }
}

describe('file:// sources behind symbolic links', () => {
  it('are outside the roots behind a link that leaves them, whether or not the file exists', async () => {
    const outsideAnswer = /^FORBIDDEN_PATH: .*: outside the allowed folders/;
    for (const path of [
      'linkdir/secret.npy', // exists, outside
      'linkdir/nonexist.npy', // does not exist, would be outside
      'linkdir/deeper/nonexist.npy',
      'linkdir/nodir/nonexist.npy',
      'linkdir',
    ])
      expect(await answer(`file://${root}/${path}`), path).toMatch(outsideAnswer);
  });

  it('are outside behind a dangling link that points outside, and inside behind one that stays', async () => {
    expect(await answer(`file://${root}/dangling-out.npy`)).toMatch(/^FORBIDDEN_PATH: .*outside the allowed/);
    expect(await answer(`file://${root}/dangling-out-dir/x.npy`)).toMatch(
      /^FORBIDDEN_PATH: .*outside the allowed/,
    );
    expect(await answer(`file://${root}/dangling-in.npy`)).toBe(
      `NOT_FOUND: file://${root}/dangling-in.npy: no such file`,
    );
  });

  it('are "no such file" when missing truly inside a root (also through a link that stays inside)', async () => {
    for (const path of ['sub/missing.npy', 'missing.npy', 'nodir/missing.npy', 'alias/missing.npy'])
      expect(await answer(`file://${root}/${path}`), path).toBe(
        `NOT_FOUND: file://${root}/${path}: no such file`,
      );
    expect(await answer(`file://${root}/alias/real.npy`)).toBe('ok 6');
  });

  it('resolve ".." segments before judging', async () => {
    expect(await answer(`file://${root}/../outside/secret.npy`)).toMatch(/outside the allowed folders/);
    expect(await answer(`file://${root}/../outside/nonexist.npy`)).toMatch(/outside the allowed folders/);
    expect(await answer(`file://${root}/sub/../../outside/nonexist.npy`)).toMatch(
      /outside the allowed folders/,
    );
    expect(await answer(`file://${root}/nodir/../sub/real.npy`)).toBe('ok 6');
    // percent-encoded dots are dots too
    expect(await answer(`file://${root}/%2e%2e/outside/nonexist.npy`)).toMatch(/outside the allowed folders/);
  });

  it('are refused without resolving links that loop, never naming a server path', async () => {
    const uri = `file://${root}/loop-a`;
    expect(() => allowedLocalPath(uri, [root])).toThrow(
      `${uri}: outside the allowed folders (FILE_SOURCE_ROOTS)`,
    );
    expect(realPathOf(join(root, 'loop-a', 'x.npy'))).toBeUndefined();
  });

  it('resolve a missing path from its deepest existing folder, links and all', () => {
    expect(realPathOf(join(root, 'linkdir', 'a', 'b.npy'))).toBe(join(outside, 'a', 'b.npy'));
    expect(realPathOf(join(root, 'dangling-out.npy'))).toBe(join(outside, 'nonexist.npy'));
    expect(realPathOf(join(root, 'alias', 'x.npy'))).toBe(join(root, 'sub', 'x.npy'));
    expect(realPathOf(join(root, 'sub', 'real.npy', 'x'))).toBe(join(root, 'sub', 'real.npy', 'x'));
    expect(realPathOf(join(root, 'alias'))).toBe(join(root, 'sub'));
  });
});

async function errorOf(run: () => Promise<unknown>): Promise<Error> {
  try {
    await run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a refusal');
}

describe('messages about a file:// source', () => {
  it('name the URI the client gave, never the resolved path (a folder reached through a link)', async () => {
    // Accepted as a valid stack, then replaced by a float32 one before it is read (as a view's
    // source may be between submit and its writer).
    const real = join(root, 'sub', 'stack.npy');
    const header = npyHeader([2, 2, 2]);
    writeFileSync(real, Buffer.concat([header, Buffer.alloc(16)]));
    const uri = `file://${root}/alias/stack.npy`;
    const location = parseSourceUri(uri, [root]);
    expect(location).toMatchObject({ kind: 'file', uri, path: real });
    expect(await checkSourceHeader(noS3, location, { format: 'npy' })).toMatchObject({ ok: true });

    const f4 = Buffer.from(header);
    f4.set(Buffer.from("'<f4'"), Buffer.from(header).indexOf("'<u2'"));
    writeFileSync(`${real}.new`, Buffer.concat([f4, Buffer.alloc(32)]));
    renameSync(`${real}.new`, real);

    const error = await errorOf(async () => {
      const source = await openSource(location);
      try {
        await openStackSource(source, { format: 'npy' });
      } finally {
        await source.close();
      }
    });
    expect(error.message).toMatch(new RegExp(`^${uri.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: dtype '<f4'`));
    expect(error.message).not.toContain(real);
    const check = await checkSourceHeader(noS3, location, { format: 'npy' });
    expect(check).toMatchObject({ ok: false, problem: expect.stringContaining(`${uri}: dtype '<f4'`) });

    // and a file gone by the time it is opened
    const missing = {
      ...location,
      uri: `file://${root}/alias/gone.npy`,
      path: join(root, 'sub', 'gone.npy'),
    };
    await expect(openSource(missing)).rejects.toThrow(`file://${root}/alias/gone.npy: no such file`);
  });
});
