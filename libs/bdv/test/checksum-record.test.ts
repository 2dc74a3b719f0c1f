import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/support/oracle.js';
import { BdvWriter } from '../src/index.js';
import {
  PendingChecksumFile,
  readChecksumFile,
  writeChecksumFile,
  type ViewChecksums,
} from '../src/writer/checksum-file.js';

// The checksum record of a conversion under way grows by one write per view. These tests read it
// back as resume and `bdv verify` do, including after the last write was cut short.

const dir = tempDir('bdv-sums-');
afterAll(() => dir.remove());

const view = (setupId: number): ViewChecksums => ({
  time: 0,
  setupId,
  file: 'out.h5',
  levels: [{ level: 0, shapeZyx: [4, 8, 8], crc32: (0x1000 + setupId).toString(16).padStart(8, '0') }],
});

describe('the pending checksum record', () => {
  it('is one JSON document after every append, listing every view in arrival order', () => {
    const path = join(dir.path, 'grow.checksums.json');
    const record = PendingChecksumFile.start(path, [view(3)]);
    for (const s of [1, 0, 2]) {
      record.append([view(s)]);
      const parsed = JSON.parse(readFileSync(path, 'utf8'));
      expect(parsed.complete).toBe(false);
      expect(parsed.views.at(-1)).toEqual(view(s));
    }
    record.close();
    expect(readChecksumFile(path).views.map((v) => v.setupId)).toEqual([3, 1, 0, 2]);
  });

  it('starts empty and takes its first view without a separator', () => {
    const path = join(dir.path, 'empty.checksums.json');
    const record = PendingChecksumFile.start(path, []);
    expect(readChecksumFile(path).views).toEqual([]);
    record.append([view(5)]);
    record.close();
    expect(readChecksumFile(path).views).toEqual([view(5)]);
  });

  it('takes a commit group’s views in one append, the first of them without a separator', () => {
    const path = join(dir.path, 'group.checksums.json');
    const record = PendingChecksumFile.start(path, []);
    record.append([view(4), view(2), view(7)]);
    record.append([]);
    record.append([view(1), view(0)]);
    record.close();
    expect(readChecksumFile(path).views.map((v) => v.setupId)).toEqual([4, 2, 7, 1, 0]);
  });

  it('reads back the whole views before an append that a power failure cut at any byte', () => {
    const path = join(dir.path, 'cut.checksums.json');
    const record = PendingChecksumFile.start(path, [view(0)]);
    record.append([view(1)]);
    const before = statSync(path).size - ']}\n'.length;
    record.append([view(2)]);
    record.close();
    const whole = readFileSync(path, 'utf8');
    const lineEnd = whole.indexOf('\n', before);
    for (let cut = before; cut <= whole.length; cut++) {
      writeFileSync(path, whole.slice(0, cut));
      const expected = cut >= lineEnd ? [0, 1, 2] : [0, 1];
      expect(
        readChecksumFile(path).views.map((v) => v.setupId),
        `cut at ${cut}`,
      ).toEqual(expected);
    }
    // A file extended before its data reached the disk reads as zeros past the last whole line.
    writeFileSync(path, whole.slice(0, before) + '\0'.repeat(40));
    expect(readChecksumFile(path).views.map((v) => v.setupId)).toEqual([0, 1]);
  });

  it('does not guess at a complete record that is cut, or at text that is not a record', () => {
    const path = join(dir.path, 'done.checksums.json');
    writeChecksumFile(path, [view(1), view(0)], true);
    expect(readChecksumFile(path)).toMatchObject({ complete: true, views: [view(0), view(1)] });
    const whole = readFileSync(path, 'utf8');
    writeFileSync(path, whole.slice(0, whole.length - 10));
    expect(() => readChecksumFile(path)).toThrow(new RegExp(`^${path}: `));
    writeFileSync(path, 'views: none\n');
    expect(() => readChecksumFile(path)).toThrow(new RegExp(`^${path}: `));
  });
});

describe('a resumed conversion', () => {
  it('leaves the record as it was until it records a view, then lists the kept views and the new one', async () => {
    const h5 = join(dir.path, 'resumed.h5');
    const sums = join(dir.path, 'resumed.checksums.json');
    const options = { setup: { tiles: 3 }, layout: 'partitioned' as const };
    const first = await BdvWriter.create(h5, options);
    for (const tile of [0, 1])
      await first.appendView({ shapeZyx: [2, 3, 4], data: new Uint16Array(24).fill(tile) }, { tile });
    await first.writeXml();
    await first.close();
    const published = readFileSync(sums, 'utf8');

    // A caller that opens for resume and then refuses (closes without writing) changes nothing.
    await (await BdvWriter.resume(h5, options)).close();
    expect(readFileSync(sums, 'utf8')).toBe(published);

    const again = await BdvWriter.resume(h5, options);
    await again.appendView({ shapeZyx: [2, 3, 4], data: new Uint16Array(24).fill(2) }, { tile: 2 });
    expect(readChecksumFile(sums)).toMatchObject({ complete: false });
    expect(readChecksumFile(sums).views.map((v) => v.setupId)).toEqual([0, 1, 2]);
    await again.writeXml();
    await again.close();
    expect(readChecksumFile(sums)).toMatchObject({ complete: true });
  });
});
