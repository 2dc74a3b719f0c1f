import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/support/oracle.js';
import { BdvWriter, verifyDataset, type BdvWriterOptions } from '../src/index.js';
import type { Zyx } from '../src/model/pyramid-spec.js';

const dir = tempDir('bdv-verify-yields-');
afterAll(() => dir.remove());

/** Two tiles of `shapeZyx` written with `options`, then verified: the timer ticks seen meanwhile. */
async function ticksWhileVerifying(name: string, options: BdvWriterOptions, shapeZyx: Zyx): Promise<number> {
  const writer = await BdvWriter.create(join(dir.path, `${name}.h5`), { ...options, setup: { tiles: 2 } });
  const data = new Uint16Array(shapeZyx[0] * shapeZyx[1] * shapeZyx[2]).map((_, i) => i % 999);
  for (const tile of [0, 1]) await writer.appendView({ shapeZyx, data }, { tile });
  await writer.writeXml();
  await writer.close();

  let ticks = 0;
  const timer = setInterval(() => ticks++, 0);
  try {
    const report = await verifyDataset(join(dir.path, `${name}.xml`));
    expect(report.ok).toBe(true);
  } finally {
    clearInterval(timer);
  }
  return ticks;
}

describe('verification of a dataset', () => {
  // Regression (test/e2e/fault-leases.e2e.test.ts, finalizer killed twice): the finalizer read
  // every view back without ever giving its event loop a turn, so on a busy machine its job lease
  // was not renewed, BullMQ counted false stalls on top of the real ones and failed the finalize.
  it('lets timers run between the bands it reads', async () => {
    // Views big enough, and compressed, that reading one band takes longer than the timer's 1 ms:
    // at every yield the timer is due (small bands read in microseconds made the count depend on
    // the machine; uncompressed 4x256x256 chunks read into a reused buffer were under 1 ms here).
    const options: BdvWriterOptions = {
      compression: 'gzip',
      subsamplingZyx: [
        [1, 1, 1],
        [2, 2, 2],
      ],
    };
    // two views x two levels, one band each
    expect(await ticksWhileVerifying('d', options, [8, 512, 512])).toBeGreaterThanOrEqual(3);
  });

  // Uncompressed cells are read by our own reader too (pread, one native copy per chunk): nothing
  // in it waits on the libuv pool, so without a turn after each band a single-layout file would be
  // read back in one go on the finalizer's main thread.
  it('lets timers run between the bands of uncompressed cells', async () => {
    // 4 bands of 8 MiB per view (4 rows of 2 MiB chunk rows): each takes milliseconds to read and place, so the timer is due.
    const options: BdvWriterOptions = { blockSizeZyx: [[4, 256, 256]] };
    expect(await ticksWhileVerifying('none', options, [16, 1024, 1024])).toBeGreaterThanOrEqual(4);
  });
});
