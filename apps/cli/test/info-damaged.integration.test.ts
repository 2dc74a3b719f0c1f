import { inspectBdvFile } from '@bdv-cluster/bdv/inspect';
import {
  copyFileSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeStacks, tempDir } from '../../../test/support/oracle.js';
import { bdv } from './cli-run.js';

const dir = tempDir('bdv-cli-info-');
const p = (name: string) => join(dir.path, name);
afterAll(() => dir.remove());
beforeAll(() => {
  makeStacks(dir.path, [{ path: p('stack.npy'), shape: [8, 64, 64], seed: 4 }]);
  const made = bdv(['convert', p('stack.npy'), '-o', p('good.h5'), '--progress', 'none']);
  expect(made.status, made.stderr).toBe(0);
});

describe('bdv info on a damaged or interrupted file', () => {
  it('answers in one line wherever the damage lies, never with HDF5 diagnostic stacks', async () => {
    const good = readFileSync(p('good.h5'));
    let failures = 0;
    for (let at = 512; at < Math.min(good.length, 64 * 1024); at += 512) {
      const bad = Buffer.from(good);
      bad.fill(0xff, at, at + 512);
      writeFileSync(p('bad.h5'), bad);
      const error = await inspectBdvFile(p('bad.h5')).then(
        () => undefined,
        (e: Error) => e,
      );
      if (!error) continue;
      failures++;
      expect(error.message, `damage at ${at}`).toMatch(
        /bad\.h5(: HDF5 could not (open|read) it:| is not an HDF5 file)/,
      );
      expect(error.message, `damage at ${at}`).not.toMatch(/\n|HDF5-DIAG|#00\d/);
    }
    expect(failures).toBeGreaterThan(0);
  });

  it('says an interrupted conversion is resumed with --resume when its journal is beside the file', () => {
    copyFileSync(p('good.h5'), p('cut.h5'));
    truncateSync(p('cut.h5'), Math.floor((statSync(p('cut.h5')).size * 2) / 3));
    const plain = bdv(['info', p('cut.h5')]);
    expect(plain.status).toBe(1);
    expect(plain.stderr).toMatch(/cut\.h5: HDF5 could not open it: .*truncated/);
    writeFileSync(p('cut.h5.journal'), '');
    const interrupted = bdv(['info', p('cut.h5')]);
    expect(interrupted.status).toBe(1);
    expect(interrupted.stderr).toContain(
      `${p('cut.h5')}: a conversion into it was interrupted (cut.h5.journal is beside it): run the same bdv convert with --resume`,
    );
  });

  it('marks the views an interrupted conversion had not committed, and exits 1', () => {
    copyFileSync(p('good.h5'), p('held.h5'));
    copyFileSync(p('good.xml'), p('held.xml'));
    // The record as a conversion killed in its first view leaves it: no view committed yet.
    const record = JSON.parse(readFileSync(p('good.checksums.json'), 'utf8'));
    writeFileSync(p('held.checksums.json'), JSON.stringify({ ...record, complete: false, views: [] }));
    expect(bdv(['info', p('held.h5')]).status).toBe(0); // no journal: nothing pending
    writeFileSync(p('held.h5.journal'), '');
    const r = bdv(['info', p('held.h5')]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/t0 s0: 8x64x64 .*\(not committed\)\n/);
    expect(r.stderr).toContain(
      `${p('held.h5')}: a conversion into it was interrupted (held.h5.journal is beside it): 1 view(s) listed are not committed; the same bdv convert with --resume rolls back`,
    );
    const json = JSON.parse(bdv(['info', p('held.h5'), '--json']).stdout);
    expect([json.interrupted, json.uncommittedViews]).toEqual([true, ['t0 s0']]);
  });

  it('marks a partition the master links to but that is gone, and exits 1', () => {
    copyFileSync(p('stack.npy'), p('t0.npy'));
    copyFileSync(p('stack.npy'), p('t1.npy'));
    const made = bdv([
      'convert',
      p('t0.npy'),
      p('t1.npy'),
      '-p',
      't{time}.npy',
      '-o',
      p('parts.h5'),
      '--layout',
      'partitioned',
      '--progress',
      'none',
    ]);
    expect(made.status, made.stderr).toBe(0);
    rmSync(p('parts-t00001-s00.h5'));
    const r = bdv(['info', p('parts.h5')]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/t0 s0: .* -> parts-t00000-s00\.h5\n/);
    expect(r.stdout).toMatch(/t1 s0: .* -> parts-t00001-s00\.h5 \(missing\)/);
    expect(r.stderr).toContain(
      `${p('parts.h5')}: 1 partition file(s) it links to are missing (parts-t00001-s00.h5)`,
    );
    const json = bdv(['info', p('parts.h5'), '--json']);
    expect(json.status).toBe(1);
    expect(JSON.parse(json.stdout).missingPartitions).toEqual(['parts-t00001-s00.h5']);
    // verify of a partition whose dataset lost its XML speaks of the dataset, not the partition.
    mkdirSync(p('noxml'));
    for (const file of ['parts.h5', 'parts-t00000-s00.h5', 'parts.checksums.json'])
      copyFileSync(p(file), p(`noxml/${file}`));
    expect(bdv(['verify', p('noxml/parts-t00000-s00.h5')]).stderr).toContain(
      `${p('noxml/parts.xml')}: no such file, but parts.h5 and parts.checksums.json are there`,
    );
    // A partition has no XML of its own: its dataset's is named.
    const part = bdv(['info', p('parts-t00000-s00.h5')]);
    expect(part.status).toBe(0);
    expect(part.stdout).toContain(
      `  this is one view's partition of the dataset ${p('parts.xml')} (bdv info ${p('parts.h5')} shows all of it)`,
    );
  });
});
