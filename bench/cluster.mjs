#!/usr/bin/env node
// End-to-end throughput of the cluster (API + S3 + 2 writer processes + finalizer, all local)
// against `bdv convert` on the same files, in the same run. Appends a section to BENCHMARKS.md.
//   BENCH_CLUSTER_VIEWS=8  BENCH_CLUSTER_PLANES=64  BENCH_DIR=bench/out   (views of PLANES x 1024 x 1024)
//   BENCH_CLUSTER_ROUNDS=5: rounds in which the cluster reading local files and `bdv convert`
//   alternate (the comparison the cluster is judged by; medians reported).
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { execFileSync, spawnSync } from 'node:child_process';
import { createReadStream, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { freePort, startLocalStack } from '../scripts/local-stack.mjs';
import { median, writeSection } from './report-file.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const views = Number(process.env.BENCH_CLUSTER_VIEWS ?? 8);
const planes = Number(process.env.BENCH_CLUSTER_PLANES ?? 64);
const rounds = Number(process.env.BENCH_CLUSTER_ROUNDS ?? 5);
const work = resolve(process.env.BENCH_DIR ?? join(here, 'out'), 'cluster');
rmSync(work, { recursive: true, force: true });
mkdirSync(join(work, 'in'), { recursive: true });

const files = [];
for (let v = 0; v < views; v++) {
  const path = join(work, 'in', `t0_c0_s${v}.npy`);
  execFileSync('/usr/bin/python3', [join(here, 'make_input.py'), path, String(planes), '1024', '1024']);
  files.push(path);
}
const mb = files.reduce((s, f) => s + statSync(f).size, 0) / 1e6;

/** The cluster's log lines (pino JSON) with when they arrived: where a dataset's time went. */
const events = [];
const token = 'bench-token-0123456789'; // API_TOKENS: >= 16 characters
// A fresh Redis key prefix per run: earlier runs' datasets (same names) must not collide.
const prefix = `bench-${Date.now().toString(36)}`;
/**
 * The cluster with its finalizer exporting to the output bucket (OUTPUT_BUCKET set), or as
 * deployed by default (unset: the .h5/.xml stay on the output volume). Both serve the same S3
 * folder, so the inputs are uploaded once.
 */
const startCluster = async (exporting) =>
  startLocalStack({
    workDir: join(work, 'stack'),
    s3Port: await freePort(),
    apiPort: await freePort(),
    prefix: `${prefix}-${exporting ? 'export' : 'volume'}`,
    writers: 2,
    token,
    fileRoots: [work],
    env: { LOG_LEVEL: 'info', ...(exporting ? {} : { OUTPUT_BUCKET: undefined }) },
    onLog: (role, line) => {
      try {
        events.push({ role, at: performance.now(), ...JSON.parse(line) });
      } catch {
        // not a JSON log line
      }
    },
  });
let stack = await startCluster(true);
const s3 = new S3Client({
  endpoint: stack.s3Endpoint,
  region: 'us-east-1',
  forcePathStyle: true,
  credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  requestChecksumCalculation: 'WHEN_REQUIRED',
});
// The inputs' upload is not part of a run, but it is what the local S3 server's PUTs cost alone.
const uploadStarted = performance.now();
for (const [v, f] of files.entries()) {
  await s3.send(
    new PutObjectCommand({
      Bucket: 'raw',
      Key: `bench/s${v}.npy`,
      Body: createReadStream(f),
      ContentLength: statSync(f).size,
    }),
  );
}
const s3PutSeconds = (performance.now() - uploadStarted) / 1000;
/** What the local S3 server itself costs: every object read once, two at a time (as two writers). */
async function s3ReadSeconds() {
  const started = performance.now();
  const next = [...files.keys()];
  const reader = async () => {
    for (let v = next.shift(); v !== undefined; v = next.shift()) {
      const { Body } = await s3.send(new GetObjectCommand({ Bucket: 'raw', Key: `bench/s${v}.npy` }));
      for await (const _chunk of Body); // read and dropped
    }
  };
  await Promise.all([reader(), reader()]);
  return (performance.now() - started) / 1000;
}

const loggedComplete = (datasetId) =>
  events.some((e) => e.datasetId === datasetId && e.msg === 'dataset complete');

/** A dataset's phases from its log lines: submit, queue, writing, finalize (files, export). */
function phasesOf(datasetId, started, ended) {
  const mine = events.filter((e) => e.datasetId === datasetId);
  const firstWriting = mine.find((e) => e.msg === 'writing view')?.at ?? started;
  const written = mine.filter((e) => e.msg === 'view written');
  const lastWritten = Math.max(...written.map((e) => e.at));
  const complete = mine.find((e) => e.msg === 'dataset complete');
  const busy = written.reduce((sum, e) => sum + e.seconds, 0);
  return {
    writing: (lastWritten - firstWriting) / 1000,
    writerBusy: busy,
    finalize: (ended - lastWritten) / 1000,
    files: complete?.seconds?.files ?? NaN,
    export: complete?.seconds?.export ?? NaN,
    beforeFirstWrite: (firstWriting - started) / 1000,
  };
}

const call = async (method, path, body) => {
  const r = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body && JSON.stringify(body),
  });
  const json = await r.json();
  if (r.status >= 400) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(json)}`);
  return json;
};

const rows = [];
let datasets = 0;

/** One dataset through the running cluster, first POST until `complete`: seconds and phases. */
async function clusterRun({ compression, layout, local, exporting }) {
  // Names are unique per cluster (they name the output files): the rounds repeat a case.
  const name = `bench-${compression}-${layout}-${exporting ? 's3' : 'volume'}${local ? '-files' : ''}-${++datasets}`;
  const started = performance.now();
  const ds = await call('POST', '/v1/datasets', { name, setup: { tiles: views }, compression, layout });
  for (let v = 0; v < views; v++)
    await call('POST', `/v1/datasets/${ds.id}/views`, {
      tile: v,
      source: { uri: local ? pathToFileURL(files[v]).href : `s3://raw/bench/s${v}.npy` },
    });
  await call('POST', `/v1/datasets/${ds.id}/finalize`, {});
  let d;
  // Polled often: the poll's period is time the cluster is charged after it is done.
  do {
    await new Promise((r) => setTimeout(r, 50));
    d = await call('GET', `/v1/datasets/${ds.id}`);
  } while (d.status !== 'complete' && d.status !== 'failed');
  const seconds = (performance.now() - started) / 1000;
  const ended = performance.now();
  if (d.status !== 'complete') throw new Error(`${name}: ${JSON.stringify(d.errors)}`);
  // The finalizer logs after its state is `complete`: its line may reach us after the API's answer.
  for (let waited = 0; waited < 3000 && !loggedComplete(ds.id); waited += 50)
    await new Promise((r) => setTimeout(r, 50));
  const what = `cluster: API + ${local ? 'local files' : 'S3'} + 2 writers, ${layout}, ${exporting ? 'exported to S3' : 'kept on the volume'}`;
  console.error(`${what} ${compression}: ${seconds.toFixed(2)} s`);
  return { what, seconds, phases: phasesOf(ds.id, started, ended) };
}

/** Every compression and layout through the running cluster reading S3, once each. */
async function s3Runs(exporting) {
  for (const compression of ['none', 'gzip'])
    for (const layout of ['single', 'partitioned']) {
      const { what, seconds, phases } = await clusterRun({ compression, layout, local: false, exporting });
      rows.push({ what, compression, seconds, runs: [seconds], phases });
    }
}

/** A row of several runs: the median's seconds (and, for a cluster run, that run's phases). */
function medianRow(compression, results) {
  const seconds = median(results.map((r) => r.seconds));
  const mid = results.find((r) => r.seconds === seconds);
  return { what: mid.what, compression, seconds, runs: results.map((r) => r.seconds), phases: mid.phases };
}

const manifestsWritten = new Set();

/** The manifest `bdv convert` reads for a case, written at its first round. */
function manifestFor(compression, layout) {
  const path = join(work, `m-${compression}-${layout}.json`);
  if (manifestsWritten.has(path)) return path;
  const views_ = files.map((f, v) => ({ tile: v, source: { uri: f } }));
  writeFileSync(
    path,
    JSON.stringify({
      dataset: { name: 'local', setup: { tiles: views }, compression, layout },
      views: views_,
    }),
  );
  manifestsWritten.add(path);
  return path;
}

/** The two `bdv convert` cases: one process and one thread, and partitions on 2 threads. */
const LOCAL_CASES = [
  { what: 'bdv convert (one process, local files)', name: 'local', layout: 'single', extra: [] },
  {
    what: 'bdv convert --layout partitioned --jobs 2',
    name: 'local-jobs',
    layout: 'partitioned',
    extra: ['--jobs', '2'],
  },
];

function localRun(compression, { what, name, layout, extra }) {
  const output = join(work, `${name}-${compression}.h5`);
  // The previous round's output: `bdv convert` refuses to overwrite one.
  for (const f of [output, output.replace(/\.h5$/, '.xml'), output.replace(/\.h5$/, '.checksums.json')])
    rmSync(f, { force: true });
  for (let v = 0; v < views; v++)
    rmSync(output.replace(/\.h5$/, `-t00000-s${String(v).padStart(2, '0')}.h5`), { force: true });
  const t = performance.now();
  const r = spawnSync(process.execPath, [
    join(root, 'apps/cli/bin/bdv.js'),
    'convert',
    '-m',
    manifestFor(compression, layout),
    '-o',
    output,
    '--progress',
    'none',
    ...extra,
  ]);
  if (r.status !== 0) throw new Error(r.stderr.toString());
  const seconds = (performance.now() - t) / 1000;
  console.error(`${what} ${compression}: ${seconds.toFixed(2)} s`);
  return { what, seconds };
}

/**
 * The comparison the cluster is judged by, in alternating rounds: the cluster reading the .npy
 * files through file:// sources (FILE_SOURCE_ROOTS: its own cost without the local S3 server's),
 * then `bdv convert` on the same files in both forms, while the cluster stands idle.
 */
async function filesRounds() {
  for (const compression of ['none', 'gzip']) {
    const cluster = [];
    const local = LOCAL_CASES.map(() => []);
    for (let round = 0; round < rounds; round++) {
      cluster.push(await clusterRun({ compression, layout: 'partitioned', local: true, exporting: false }));
      LOCAL_CASES.forEach((c, i) => local[i].push(localRun(compression, c)));
    }
    rows.push(medianRow(compression, cluster), ...local.map((results) => medianRow(compression, results)));
    verifyRun(compression);
  }
}

/** The finalizer's read-back alone: the --jobs 2 output verified on 2 threads, as FINALIZER_VERIFY_THREADS=2 does. */
function verifyRun(compression) {
  const t = performance.now();
  const r = spawnSync(process.execPath, [
    join(root, 'apps/cli/bin/bdv.js'),
    'verify',
    join(work, `local-jobs-${compression}.xml`),
    '--jobs',
    '2',
  ]);
  if (r.status !== 0) throw new Error(r.stdout.toString() + r.stderr.toString());
  verifySeconds[compression] = (performance.now() - t) / 1000;
  console.error(`bdv verify --jobs 2 ${compression}: ${verifySeconds[compression].toFixed(2)} s`);
}
/** `bdv verify --jobs 2` of the partitioned local output, by compression. */
const verifySeconds = {};

let s3Seconds;
try {
  s3Seconds = await s3ReadSeconds();
  await s3Runs(true);
} finally {
  s3.destroy();
  await stack.stop();
}
// The default deployment next (no OUTPUT_BUCKET), on the same S3 folder; then the rounds of the
// cluster from local files against `bdv convert`.
stack = await startCluster(false);
try {
  await s3Runs(false);
  await filesRounds();
} finally {
  await stack.stop();
}
rows.sort((x, y) => (x.compression === y.compression ? 0 : x.compression === 'none' ? -1 : 1));

const redis = new Redis(stack.env.REDIS_URL);
const keys = await redis.keys(`${prefix}-*`);
if (keys.length) await redis.del(...keys);
redis.disconnect();

const table = [
  '| path | compression | seconds (median) | MB/s | × bdv convert | × bdv convert --jobs 2 | runs (s) |',
  '|---|---|---|---|---|---|---|',
];
for (const r of rows) {
  const [one, jobs2] = ['bdv convert (', 'bdv convert --layout'].map((start) =>
    rows.find((x) => x.compression === r.compression && x.what.startsWith(start)),
  );
  table.push(
    `| ${r.what} | ${r.compression} | ${r.seconds.toFixed(2)} | ${(mb / r.seconds).toFixed(0)} | ${(one.seconds / r.seconds).toFixed(2)} | ${(jobs2.seconds / r.seconds).toFixed(2)} | ${r.runs.map((x) => x.toFixed(2)).join(', ')} |`,
  );
}
const f = (x) => (Number.isFinite(x) ? x.toFixed(2) : '?');
const phaseTable = [
  '| cluster run | compression | until the first write | writing (first start → last view written) | writers busy (sum of views) | finalize (last view → complete) | of which verify + master + XML | of which export to the output bucket |',
  '|---|---|---|---|---|---|---|---|',
  ...rows
    .filter((r) => r.phases)
    .map(
      ({ what, compression, phases: p }) =>
        `| ${what.replace('cluster: API + ', '').replace(' + 2 writers', '')} | ${compression} | ${f(p.beforeFirstWrite)} | ${f(p.writing)} | ${f(p.writerBusy)} | ${f(p.finalize)} | ${f(p.files)} | ${f(p.export)} |`,
    ),
];
const section = `## Cluster run of ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC

- ${cpus()[0]?.model} × ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; everything on this one machine:
  Redis, s3rver, the API, 2 writer processes and the finalizer share its ${cpus().length} cores.
- ${views} views of ${planes}×1024×1024 uint16 (${mb.toFixed(0)} MB in all), 1 level, block 4,256,256; the cluster reads
  them from S3 (uploaded beforehand, not timed); \`bdv convert\` reads the same .npy files from disk
  (once in one thread, once as partitions written by two worker threads with \`--jobs 2\`).
- Cluster time = first POST of the dataset until GET (every 50 ms) says \`complete\`: views written, read back
  against their checksums, master and XML written; then, "exported to S3" (\`OUTPUT_BUCKET\` set),
  .h5/.xml uploaded to the output bucket (one streamed PUT per file up to 1 GiB, multipart above),
  or, "kept on the volume" (\`OUTPUT_BUCKET\` unset: the default), nothing more. Each kind runs on
  a cluster of its own (the same S3 folder), each S3 case once. Then, on the second cluster, ${rounds}
  round(s) of: the cluster reading the same .npy files through file:// sources ("local files"),
  \`bdv convert\`, \`bdv convert --jobs 2\` (the cluster standing idle meanwhile); their rows give the
  median of the rounds, and the phases below are those of the median run.

${table.join('\n')}

Where the cluster's time went (seconds, from its own log lines): the writers' part, and the
finalizer's (it re-reads every view to check its checksums, writes the master and the XML, then
uploads .h5 and .xml to the output bucket). The local S3 server alone, reading every object once two
at a time as the two writers do, took ${s3Seconds.toFixed(2)} s (${(mb / s3Seconds).toFixed(0)} MB/s), and storing the
same inputs (one PUT per object, one after the other) took ${s3PutSeconds.toFixed(2)} s (${(mb / s3PutSeconds).toFixed(0)} MB/s):
that much of the writing and of the export is s3rver's (a JavaScript server on the same 2 cores), not ours.
The "local files" runs are the cluster without s3rver. Reading the \`--jobs 2\` output back
against its checksums (\`bdv verify --jobs 2\`, the finalizer's verification of a partitioned
dataset alone, process start included) took
${f(verifySeconds.none)} s uncompressed and ${f(verifySeconds.gzip)} s gzip.

${phaseTable.join('\n')}
`;
const file = join(root, 'BENCHMARKS.md');
writeSection(file, '## Cluster run of', section);
console.error(`wrote ${file}`);
