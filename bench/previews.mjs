#!/usr/bin/env node
// How the API answers while it reads previews (`npm run bench:previews`): the cluster (API, one
// writer, finalizer, all local) converts two large one-level gzip views, then GET /health/live and
// GET /v1/datasets/:id are timed (one every 20 ms), first with nothing else to do, then while a view's
// preview and a contact sheet are read. Replaces its section of BENCHMARKS.md.
//   BENCH_PREVIEW_PLANES=32  BENCH_DIR=bench/out   (views of PLANES x 2048 x 2048 uint16)
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startLocalStack } from '../scripts/local-stack.mjs';
import { median, writeSection } from './report-file.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const planes = Number(process.env.BENCH_PREVIEW_PLANES ?? 32);
const work = resolve(process.env.BENCH_DIR ?? join(here, 'out'), 'previews');
rmSync(work, { recursive: true, force: true });
mkdirSync(join(work, 'in'), { recursive: true });

const TILES = 2;
const PROBE_MS = 20;
const files = [];
for (let tile = 0; tile < TILES; tile++) {
  const path = join(work, 'in', `s${tile}.npy`);
  execFileSync('/usr/bin/python3', [join(here, 'make_input.py'), path, String(planes), '2048', '2048']);
  files.push(path);
}

const token = 'bench-token-0123456789';
const stack = await startLocalStack({
  workDir: join(work, 'stack'),
  s3Port: await freePort(),
  apiPort: await freePort(),
  prefix: `bench-previews-${Date.now().toString(36)}`,
  writers: 1,
  token,
  fileRoots: [work],
  env: { LOG_LEVEL: 'warn' },
});
const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
const call = async (method, path, body) => {
  const res = await fetch(`${stack.apiUrl}${path}`, { method, headers, body: body && JSON.stringify(body) });
  const type = res.headers.get('content-type') ?? '';
  const out = type.includes('json') ? await res.json() : new Uint8Array(await res.arrayBuffer());
  if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(out)}`);
  return { status: res.status, body: out };
};

/**
 * Latencies (ms) of GET `paths` in turn, one every PROBE_MS (a status page polling; the next waits
 * for the last answer), until `until` settles or `count` answered.
 */
async function probe(paths, { until, count = Infinity }) {
  let done = false;
  // settled either way (a failed read must not become an unhandled rejection that skips stack.stop)
  until?.then(
    () => (done = true),
    () => (done = true),
  );
  const ms = [];
  for (let i = 0; !done && i < count; i++) {
    const t0 = performance.now();
    const res = await fetch(`${stack.apiUrl}${paths[i % paths.length]}`, { headers });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`probe ${paths[i % paths.length]}: ${res.status}`);
    ms.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, Math.max(0, PROBE_MS - (performance.now() - t0))));
  }
  return ms;
}

const stats = (ms) => {
  const sorted = [...ms].sort((a, b) => a - b);
  const q = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  return { n: ms.length, p50: median(ms), p90: q(0.9), max: sorted.at(-1) };
};

const rows = [];
try {
  const { body: dataset } = await call('POST', '/v1/datasets', {
    name: 'bench-previews',
    layout: 'partitioned',
    setup: { tiles: TILES },
    compression: 'gzip',
    subsamplingZyx: [[1, 1, 1]],
    blockSizeZyx: [[4, 256, 256]],
  });
  for (const [tile, file] of files.entries())
    await call('POST', `/v1/datasets/${dataset.id}/views`, { tile, source: { uri: `file://${file}` } });
  await call('POST', `/v1/datasets/${dataset.id}/finalize`);
  for (;;) {
    const { body } = await call('GET', `/v1/datasets/${dataset.id}`);
    if (body.status === 'complete') break;
    if (body.status === 'failed') throw new Error(`conversion failed: ${JSON.stringify(body)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  const paths = ['/health/live', `/v1/datasets/${dataset.id}`];
  rows.push({
    what: 'nothing else (idle API)',
    seconds: undefined,
    ...stats(await probe(paths, { count: 200 })),
  });
  const timed = async (what, path) => {
    const t0 = performance.now();
    const read = call('GET', path).then(() => (performance.now() - t0) / 1000);
    const ms = await probe(paths, { until: read });
    rows.push({ what, seconds: await read, ...stats(ms) });
  };
  await timed(
    'one view preview (512 px, level 0 of a one-level view)',
    `/v1/datasets/${dataset.id}/views/t0-i0-c0-s0-a0/preview.png`,
  );
  await timed(`contact sheet (${TILES} views, 1 of them cached)`, `/v1/datasets/${dataset.id}/preview.png`);
} finally {
  await stack.stop();
}

const fmt = (v, d = 1) => (v === undefined ? '' : v.toFixed(d));
const section = [
  `## Preview run of ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
  '',
  `- ${cpus()[0]?.model} × ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; Node ${process.version}; everything on this machine.`,
  `- ${TILES} views of ${planes}×2048×2048 uint16 (${((planes * 2048 * 2048 * 2) / 2 ** 20).toFixed(0)} MiB each), gzip, one level, block 4,256,256, partitioned; written by the cluster, then read back by the API for previews.`,
  `- While each preview is read, GET /health/live and GET /v1/datasets/:id are sent in turn, one every ${PROBE_MS} ms (or when the last answered, if later): their latencies are below (ms). The first preview starts the API's preview thread.`,
  '',
  '| while the API reads | preview seconds | requests answered | p50 ms | p90 ms | max ms |',
  '|---|---|---|---|---|---|',
  ...rows.map(
    (r) => `| ${r.what} | ${fmt(r.seconds, 2)} | ${r.n} | ${fmt(r.p50)} | ${fmt(r.p90)} | ${fmt(r.max)} |`,
  ),
].join('\n');
console.log(section);
if (!process.env.BENCH_NO_REPORT) writeSection(join(root, 'BENCHMARKS.md'), '## Preview run', section);
