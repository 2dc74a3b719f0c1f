#!/usr/bin/env node
// End-to-end throughput of the cluster (API + S3 + 2 writer processes + finalizer, all local)
// against `bdv convert` on the same files, in the same run. Appends a section to BENCHMARKS.md.
//   BENCH_CLUSTER_VIEWS=8  BENCH_CLUSTER_PLANES=64  BENCH_DIR=bench/out   (views of PLANES x 1024 x 1024)
//   BENCH_CLUSTER_ROUNDS=5: rounds in which the cluster reading local files and `bdv convert`
//   alternate (the comparison the cluster is judged by; medians reported).
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createReadStream, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { freePort, startLocalStack } from '../scripts/local-stack.mjs';
import { busyCpuSeconds } from './machine-load.mjs';
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
/**
 * CPU seconds spent from now on: by every process on the machine, and by this one — which runs
 * s3rver (scripts/local-stack.mjs starts it in-process), polls the API and reads the logs.
 */
function cpuMeter() {
  const machine = busyCpuSeconds();
  const own = process.cpuUsage();
  return () => {
    const { user, system } = process.cpuUsage(own);
    return { machine: busyCpuSeconds() - machine, bench: (user + system) / 1e6 };
  };
}

/**
 * What the local S3 server itself costs: every object read once, two at a time, by a process of
 * its own through the SDK (bench/s3-read.mjs: as the two writers read, nothing of ours between),
 * s3rver serving from this process meanwhile (async, so it can). CPU is counted from the reader's
 * "ready" (SDK loaded, one request made: a writer pays that once) to its answer.
 */
async function s3Reads() {
  const keys = files.map((_, v) => `bench/s${v}.npy`);
  const reader = spawn(
    process.execPath,
    ['--no-warnings', join(here, 's3-read.mjs'), stack.s3Endpoint, 'raw', '2', ...keys],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: reader.stdout })[Symbol.asyncIterator]();
  const line = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error(`bench/s3-read.mjs stopped (exit code ${reader.exitCode})`);
    return value;
  };
  if ((await line()) !== 'ready') throw new Error('bench/s3-read.mjs did not get ready');
  const cpu = cpuMeter();
  reader.stdin.write('go\n');
  const client = JSON.parse(await line());
  const used = cpu();
  return {
    seconds: client.seconds,
    clientCpu: client.cpuSeconds,
    serverCpu: used.bench,
    machineCpu: used.machine,
  };
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

/**
 * Before every timed run: what earlier runs left to write back is written now, not in the run.
 * Each run also starts as `bdv convert`'s do, the previous run's output removed just before
 * (`localRun`; the cluster's last dataset through DELETE ?purge=true): the kernel then fills the
 * run's page cache with pages just freed. Without that, on a VM whose free memory goes back to
 * its host (virtio-balloon free page reporting), one tool wrote into pages the host had to give
 * back, and the kernel's copy into the page cache cost it 2.4 CPU s per GiB instead of 0.06
 * (perf: copy_folio_from_iter_atomic, 2026-11-28): that, not the tools, decided the comparison.
 */
const settle = () => execFileSync('sync');

/** The dataset of the last cluster run: removed before the next one starts (see `settle`). */
let previousDataset;
async function removePreviousDataset() {
  if (previousDataset) await call('DELETE', `/v1/datasets/${previousDataset}?purge=true`);
  previousDataset = undefined;
}

/** One dataset through the running cluster, first POST until `complete`: seconds and phases. */
async function clusterRun({ compression, layout, local, exporting }) {
  // Names are unique per cluster (they name the output files): the rounds repeat a case.
  const name = `bench-${compression}-${layout}-${exporting ? 's3' : 'volume'}${local ? '-files' : ''}-${++datasets}`;
  await removePreviousDataset();
  settle();
  const started = performance.now();
  const cpu = cpuMeter();
  const ds = await call('POST', '/v1/datasets', { name, setup: { tiles: views }, compression, layout });
  previousDataset = ds.id;
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
  const cpuUsed = cpu();
  if (d.status !== 'complete') throw new Error(`${name}: ${JSON.stringify(d.errors)}`);
  // The finalizer logs after its state is `complete`: its line may reach us after the API's answer.
  for (let waited = 0; waited < 3000 && !loggedComplete(ds.id); waited += 50)
    await new Promise((r) => setTimeout(r, 50));
  const what = `cluster: API + ${local ? 'local files' : 'S3'} + 2 writers, ${layout}, ${exporting ? 'exported to S3' : 'kept on the volume'}`;
  console.error(`${what} ${compression}: ${seconds.toFixed(2)} s`);
  return { what, seconds, cpu: cpuUsed, phases: phasesOf(ds.id, started, ended) };
}

/** Every compression and layout through the running cluster reading S3, once each. */
async function s3Runs(exporting) {
  for (const compression of ['none', 'gzip'])
    for (const layout of ['single', 'partitioned']) {
      const { what, seconds, phases, cpu } = await clusterRun({
        compression,
        layout,
        local: false,
        exporting,
      });
      rows.push({ what, compression, seconds, runs: [seconds], phases, cpu });
    }
}

/** A row of several runs: the median's seconds (and, for a cluster run, that run's phases). */
function medianRow(compression, results) {
  const seconds = median(results.map((r) => r.seconds));
  const mid = results.find((r) => r.seconds === seconds);
  const { what, phases, cpu } = mid;
  return { what, compression, seconds, runs: results.map((r) => r.seconds), phases, cpu };
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
  settle();
  const t = performance.now();
  const cpu = cpuMeter();
  const r = spawnSync(join(root, 'apps/cli/bin/bdv'), [
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
  // The machine's CPU: the child's threads, with the idle cluster's timers (a few ms) beside them.
  return { what, seconds, cpu: cpu() };
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
  settle();
  const t = performance.now();
  const cpu = cpuMeter();
  const r = spawnSync(join(root, 'apps/cli/bin/bdv'), [
    'verify',
    join(work, `local-jobs-${compression}.xml`),
    '--jobs',
    '2',
  ]);
  if (r.status !== 0) throw new Error(r.stdout.toString() + r.stderr.toString());
  verifySeconds[compression] = (performance.now() - t) / 1000;
  verifyCpu[compression] = cpu().machine;
  console.error(`bdv verify --jobs 2 ${compression}: ${verifySeconds[compression].toFixed(2)} s`);
}
/** `bdv verify --jobs 2` of the partitioned local output, by compression. */
const verifySeconds = {};
/** The machine's CPU seconds during each of those. */
const verifyCpu = {};

let s3Read;
try {
  s3Read = await s3Reads();
  await s3Runs(true);
  // Its pages freed now, for the next cluster's first run.
  await removePreviousDataset();
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

const f = (x) => (Number.isFinite(x) ? x.toFixed(2) : '?');
const cores = cpus().length;
const rowOf = (compression, start) =>
  rows.find((r) => r.compression === compression && r.what.startsWith(start));
const secondsOf = (compression, start) => rowOf(compression, start)?.seconds ?? NaN;
const table = [
  '| path | compression | seconds (median) | MB/s | × bdv convert | × bdv convert --jobs 2 | CPU s, all processes | runs (s) |',
  '|---|---|---|---|---|---|---|---|',
];
for (const r of rows) {
  const [one, jobs2] = ['bdv convert (', 'bdv convert --layout'].map((start) => rowOf(r.compression, start));
  table.push(
    `| ${r.what} | ${r.compression} | ${r.seconds.toFixed(2)} | ${(mb / r.seconds).toFixed(0)} | ${(one.seconds / r.seconds).toFixed(2)} | ${(jobs2.seconds / r.seconds).toFixed(2)} | ${r.cpu.machine.toFixed(2)} | ${r.runs.map((x) => x.toFixed(2)).join(', ')} |`,
  );
}
/** The cluster's CPU from local files, this process's share (polling, logs) left out. */
const filesCpu = (compression) => {
  const { cpu } = rowOf(compression, 'cluster: API + local files');
  return cpu.machine - cpu.bench;
};
const jobsCpu = (compression) => rowOf(compression, 'bdv convert --layout').cpu.machine;
// Where every core is busy, time follows CPU: the most the cluster's time can reach against
// `bdv convert --jobs 2` is their CPU's ratio.
const cpuBound = (compression) => jobsCpu(compression) / filesCpu(compression);
// What the S3 runs could take at best on these cores: s3rver's CPU and the client side of its
// reads are spent whatever we do; the rest is the local-files run's work, which needs no s3rver.
const s3Floor = (compression) => (filesCpu(compression) + s3Read.serverCpu + s3Read.clientCpu) / cores;
const phaseTable = [
  '| cluster run | compression | until the first write | writing (first start → last view written) | writers busy (sum of views) | finalize (last view → complete) | of which verify + master + XML | of which export to the output bucket | CPU s of the bench process (s3rver) | cores idle (core-s) |',
  '|---|---|---|---|---|---|---|---|---|---|',
  ...rows
    .filter((r) => r.phases)
    .map(
      ({ what, compression, seconds, phases: p, cpu }) =>
        `| ${what.replace('cluster: API + ', '').replace(' + 2 writers', '')} | ${compression} | ${f(p.beforeFirstWrite)} | ${f(p.writing)} | ${f(p.writerBusy)} | ${f(p.finalize)} | ${f(p.files)} | ${f(p.export)} | ${f(cpu.bench)} | ${f(cores * seconds - cpu.machine)} |`,
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
  median of the rounds, and the phases below are those of the median run. Every run starts with
  the output of the same tool's previous run removed (the cluster's last dataset through
  \`DELETE /v1/datasets/:id?purge=true\`) and a \`sync\`, so that none writes back another's data
  or fills its page cache differently (see \`settle\` in \`bench/cluster.mjs\`).

${table.join('\n')}

"CPU s, all processes" is the CPU time everything on the machine used during the run (from
/proc/stat: ours, Redis's, s3rver's), whatever the cores; "cores idle" below is cores × seconds
minus that. Where the cluster's time went (seconds, from its own log lines): the writers' part,
and the finalizer's (it re-reads every view to check its checksums, writes the master and the
XML, then uploads .h5 and .xml to the output bucket); and this bench process's CPU (s3rver runs in
it; in the "local files" runs what is left is polling the API and reading the logs).

The local S3 server alone — every object read once, two at a time, by a process of its own through
the SDK as the two writers read (\`bench/s3-read.mjs\`) — took ${s3Read.seconds.toFixed(2)} s (${(mb / s3Read.seconds).toFixed(0)} MB/s): s3rver used
${s3Read.serverCpu.toFixed(2)} CPU s to serve the bytes and the reading client ${s3Read.clientCpu.toFixed(2)} CPU s to receive them (the
machine ${s3Read.machineCpu.toFixed(2)}); storing the same inputs (one PUT per object, one after the other, client in this
process) took ${s3PutSeconds.toFixed(2)} s (${(mb / s3PutSeconds).toFixed(0)} MB/s). Both are spent on the writers' ${cores} cores whatever we do, so an S3
run needs about (the local-files run's CPU less this process's share, plus those two) / ${cores}
cores = ${f(s3Floor('none'))} s uncompressed (${f(secondsOf('none', 'bdv convert (') / s3Floor('none'))}× \`bdv convert\` at best) and ${f(s3Floor('gzip'))} s gzip (${f(secondsOf('gzip', 'bdv convert --layout') / s3Floor('gzip'))}×
\`bdv convert --jobs 2\` at best).

The "local files" runs are the cluster without s3rver. Reading the \`--jobs 2\` output back
against its checksums (\`bdv verify --jobs 2\`, the finalizer's verification of a partitioned
dataset alone, process start included) took ${f(verifySeconds.none)} s (${f(verifyCpu.none)} CPU s) uncompressed and
${f(verifySeconds.gzip)} s (${f(verifyCpu.gzip)} CPU s) gzip. Gzip keeps every core busy (see "cores idle"), so there time follows CPU: the cluster from files
used ${f(filesCpu('gzip'))} CPU s (this process's share left out) where \`bdv convert --jobs 2\` used
${f(jobsCpu('gzip'))}: ${f(cpuBound('gzip'))}× is the most its time can reach against \`bdv convert --jobs 2\` on these cores.
Most of the difference is the read-back, which the finalizer runs on warm threads (the
\`bdv verify\` above also starts a process and its threads).

${phaseTable.join('\n')}
`;
const file = join(root, 'BENCHMARKS.md');
writeSection(file, '## Cluster run of', section);
console.error(`wrote ${file}`);
