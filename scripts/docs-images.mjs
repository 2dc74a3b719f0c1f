#!/usr/bin/env node
/* global document -- inside page functions, which run in the browser */
// `npm run docs:images`: the README's pictures, made by the project itself:
//   docs/img/demo-sheet.png   `bdv preview` contact sheet of `bdv demo` (timepoint 0)
//   docs/img/demo-view.png    `bdv preview --view` of one view
//   docs/img/status-page.png  the status page (GET /) in headless Chromium while a dataset runs
// Needs what the e2e tests need (scripts/install-test-deps.sh: Redis, chromium, python3-tifffile).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { launch } from 'puppeteer-core';
import { freePort, startLocalStack } from './local-stack.mjs';

const root = resolve(import.meta.dirname, '..');
const out = join(root, 'docs', 'img');
const work = mkdtempSync(join(tmpdir(), 'bdv-docs-images-'));
const bdv = (...args) =>
  execFileSync(process.execPath, [join(root, 'apps/cli/bin/bdv.js'), ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
const say = (line) => process.stdout.write(`docs:images: ${line}\n`);

mkdirSync(out, { recursive: true });
try {
  say(bdv('demo', '--dir', join(work, 'demo'), '--overwrite').split('\n')[0]);
  const xml = join(work, 'demo', 'demo.xml');
  say(bdv('preview', xml, '-o', join(out, 'demo-sheet.png'), '--overwrite').trim());
  say(bdv('preview', xml, '--view', 't0-c1-s0', '-o', join(out, 'demo-view.png'), '--overwrite').trim());
  await statusPageScreenshot(join(out, 'status-page.png'));
} finally {
  rmSync(work, { recursive: true, force: true });
}

/** The status page while a dataset is being written (one complete, one running with a failed view). */
async function statusPageScreenshot(path) {
  makeRunStacks(join(work, 'embryo'));
  const prefix = `docs-${randomBytes(4).toString('hex')}`;
  const stack = await startLocalStack({
    workDir: join(work, 'stack'),
    s3Port: await freePort(),
    apiPort: await freePort(),
    prefix,
    writers: 1,
    token: `docs-token-${prefix}`,
    fileRoots: [work],
    onLog: () => undefined,
  });
  const redis = new Redis(stack.env.REDIS_URL);
  const call = async (method, route, body) => {
    const res = await fetch(`${stack.apiUrl}${route}`, {
      method,
      headers: { authorization: `Bearer ${stack.token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    if (res.status >= 300) throw new Error(`${method} ${route}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const browser = await launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      `--user-data-dir=${join(work, 'chromium')}`,
    ],
  });
  try {
    // A finished dataset: the demo acquisition as a batch.
    const batch = await call('POST', '/v1/batches', {
      source: `file://${join(work, 'demo', 'raw')}/`,
      pattern: 't{time}_c{channel}_s{tile}.npy',
      dataset: {
        name: 'demo',
        compression: 'gzip',
        subsamplingZyx: [
          [1, 1, 1],
          [2, 2, 2],
          [4, 4, 4],
        ],
      },
      viewDefaults: { voxelSizeXyz: [0.65, 0.65, 2], voxelUnits: 'um' },
    });
    await waitFor(async () => (await call('GET', `/v1/datasets/${batch.datasetId}`)).status === 'complete');
    // A running one: six larger views, one of them a corrupt TIFF.
    const run = await call('POST', '/v1/datasets', {
      name: 'embryo-0412',
      setup: { channels: 2, tiles: 3 },
      compression: 'gzip',
      subsamplingZyx: [
        [1, 1, 1],
        [2, 2, 2],
        [4, 4, 4],
      ],
      attributeLabels: { channel: ['488', '561'] },
    });
    await call('POST', `/v1/datasets/${run.id}/views`, {
      channel: 1,
      tile: 2,
      source: { uri: `file://${join(work, 'embryo', 'c1_s2.tif')}` },
    });
    for (const channel of [0, 1])
      for (const tile of [0, 1, 2])
        if (channel !== 1 || tile !== 2)
          await call('POST', `/v1/datasets/${run.id}/views`, {
            channel,
            tile,
            source: { uri: `file://${join(work, 'embryo', `c${channel}_s${tile}.npy`)}` },
            voxelSizeXyz: [0.65, 0.65, 2],
            voxelUnits: 'um',
          });
    await call('POST', `/v1/datasets/${run.id}/finalize`);
    await waitFor(async () => {
      const d = await call('GET', `/v1/datasets/${run.id}`);
      return d.views.done >= 3 && d.views.failed === 1;
    });
    const page = await browser.newPage();
    await page.setViewport({ width: 1200, height: 900 });
    await page.authenticate({ username: 'operator', password: stack.token });
    await page.goto(`${stack.apiUrl}/?refresh=3600`);
    await page.waitForFunction(() => [...document.images].every((i) => i.complete && i.naturalWidth > 0), {
      timeout: 60_000,
    });
    writeFileSync(path, await page.screenshot({ fullPage: true, type: 'png' }));
    say(`${path}: the status page while embryo-0412 runs`);
  } finally {
    await browser.close();
    await stack.stop();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  }
}

/** Five 48 x 640 x 640 stacks with beads (a few seconds each to write) and one corrupt TIFF. */
function makeRunStacks(folder) {
  mkdirSync(folder, { recursive: true });
  const [nz, ny, nx] = [48, 640, 640];
  for (const channel of [0, 1])
    for (const tile of [0, 1, 2]) {
      if (channel === 1 && tile === 2) continue;
      const data = new Uint16Array(nz * ny * nx);
      let seed = 1 + channel * 7 + tile * 13;
      const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
      for (let i = 0; i < data.length; i++) data[i] = 100 + Math.floor(random() * 40);
      for (let b = 0; b < 120; b++) {
        const [z, y, x] = [random() * (nz - 4), random() * (ny - 6), random() * (nx - 6)].map(Math.floor);
        const value = 3000 + Math.floor(random() * 20000) + 8000 * channel;
        for (let dz = 0; dz < 4; dz++)
          for (let dy = 0; dy < 6; dy++)
            data.fill(value, ((z + dz) * ny + y + dy) * nx + x, ((z + dz) * ny + y + dy) * nx + x + 6);
      }
      writeFileSync(
        join(folder, `c${channel}_s${tile}.npy`),
        Buffer.concat([npyHeader([nz, ny, nx]), Buffer.from(data.buffer)]),
      );
    }
  // Its header and first pages promise 30 x 30 planes; the last is 20 x 30.
  execFileSync('/usr/bin/python3', [
    '-c',
    `import numpy as np, tifffile
with tifffile.TiffWriter(${JSON.stringify(join(folder, 'c1_s2.tif'))}) as t:
    for rows in (30, 30, 20): t.write(np.zeros((rows, 30), np.uint16))`,
  ]);
}

function npyHeader(shape) {
  const dict = `{'descr': '<u2', 'fortran_order': False, 'shape': (${shape.join(', ')}), }`;
  const padded = Math.ceil((10 + dict.length + 1) / 64) * 64;
  const header = Buffer.alloc(padded, 0x20);
  Buffer.from([0x93, ...Buffer.from('NUMPY'), 1, 0]).copy(header);
  header.writeUInt16LE(padded - 10, 8);
  header.write(dict, 10, 'latin1');
  header[padded - 1] = 0x0a;
  return header;
}

async function waitFor(check, timeoutMs = 180_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 200));
  }
}
