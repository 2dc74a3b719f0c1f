import { resolveFormat } from '@bdv-cluster/bdv';
import { npyHeader } from '@bdv-cluster/stacks';
import { parseSourceUri } from '@bdv-cluster/storage';
import { mkdirSync, realpathSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/support/oracle.js';
import { readSourceShape, runViewTask, type ViewTask } from '../src/index.js';

// A writer reads a file:// source at its resolved path (what the allowed-folder check judged),
// but every message it records — a view's failure reason, which the API answers — names the
// source by the URI the client gave, never by that server path.

const dir = tempDir('bdv-task-names-');
afterAll(() => dir.remove());

describe("a file:// source's messages in a writer", () => {
  it('name the URI, not the real path, of a file reached through a linked folder', async () => {
    const root = join(realpathSync(dir.path), 'files');
    mkdirSync(join(root, 'sub'), { recursive: true });
    symlinkSync('sub', join(root, 'alias'));
    const real = join(root, 'sub', 'real.npy');
    const header = npyHeader([2, 2, 2]);
    writeFileSync(real, Buffer.concat([header, Buffer.alloc(16)]));
    const uri = `file://${root}/alias/real.npy`;
    // As the worker does (view-task-of.ts): the source checked again, then read.
    const source = parseSourceUri(uri, [root]);
    expect(source).toMatchObject({ kind: 'file', uri, path: real });
    expect(await readSourceShape({ source, read: { format: 'npy' } })).toEqual([2, 2, 2]);

    // Replaced by a float32 stack after it was accepted, before its writer runs.
    const f4 = Buffer.from(header);
    f4.set(Buffer.from("'<f4'"), f4.indexOf("'<u2'"));
    writeFileSync(`${real}.new`, Buffer.concat([f4, Buffer.alloc(32)]));
    renameSync(`${real}.new`, real);

    const task: ViewTask = {
      source,
      read: { format: 'npy' },
      view: { time: 0, tile: 0 },
      h5Path: join(dir.path, 'out', 'x.h5'),
      layout: 'partitioned',
      format: resolveFormat({}),
      owner: 'dataset-1',
    };
    for (const run of [() => readSourceShape(task), () => runViewTask(task)]) {
      const error = await run().then(
        () => new Error('expected a refusal'),
        (e: unknown) => e as Error,
      );
      expect(error.message.startsWith(`${uri}: dtype '<f4' is not uint16`), error.message).toBe(true);
      expect(error.message).not.toContain(real);
    }

    // and a file gone by then
    const gone = parseSourceUri(`file://${root}/alias/gone.npy`, [root]);
    await expect(readSourceShape({ source: gone, read: { format: 'npy' } })).rejects.toThrow(
      new RegExp(`^file://${root}/alias/gone\\.npy: no such file$`),
    );
  });
});
