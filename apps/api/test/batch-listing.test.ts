import type { S3Client } from '@aws-sdk/client-s3';
import { parseSourceFolder } from '@bdv-cluster/storage';
import { mkdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/support/oracle.js';
import { listBatchSource } from '../src/batches/batch-listing.js';

// A batch's file:// folder is listed at its resolved path, but the views it plans name their
// sources under the folder URI the client gave: never where a linked folder leads.

const dir = tempDir('bdv-batch-listing-');
afterAll(() => dir.remove());
const noS3 = undefined as unknown as S3Client;

describe('a file:// batch folder', () => {
  it('lists its files under the URI given, also when that folder is a link', async () => {
    const root = join(realpathSync(dir.path), 'files');
    mkdirSync(join(root, 'sub', 'deeper'), { recursive: true });
    writeFileSync(join(root, 'sub', 't0 a.npy'), '');
    writeFileSync(join(root, 'sub', 'deeper', 't1.npy'), '');
    symlinkSync('sub', join(root, 'alias'));
    for (const given of [`file://${root}/alias/`, `file://${root}/alias`]) {
      const listed = await listBatchSource(noS3, parseSourceFolder(given, [root]));
      expect(
        listed.sort((a, b) => a.name.localeCompare(b.name)),
        given,
      ).toEqual([
        { name: join('deeper', 't1.npy'), uri: `file://${root}/alias/deeper/t1.npy` },
        { name: 't0 a.npy', uri: `file://${root}/alias/t0%20a.npy` },
      ]);
      expect(JSON.stringify(listed)).not.toContain(join(root, 'sub'));
    }
    expect(await listBatchSource(noS3, parseSourceFolder(`file://${root}/sub/`, [root]))).toContainEqual({
      name: 't0 a.npy',
      uri: `file://${root}/sub/t0%20a.npy`,
    });
  });
});
