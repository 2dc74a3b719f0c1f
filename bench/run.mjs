#!/usr/bin/env node
// Side-by-side benchmark, one command (`npm run bench`): `bdv convert` vs Debian h5py writing the
// same arrays (same chunks, compression, levels) vs a raw disk copy, on camera-like stacks of
// 2048 x 2048 planes (512 MiB, 1 GiB, 4 GiB), plus one 512 MiB acquisition as 8 views of 64 MiB
// (per-view overhead; several cores for gzip). Every run is a separate process timed by GNU time
// (wall seconds including start-up, close and fsync; peak RSS); the tools alternate run by run,
// and each run waits for the machine to be quiet first. Results go to BENCHMARKS.md.
//   BENCH_SIZES_MIB=512,1024,4096  BENCH_CASES=none-1,none-3,gzip-1,gzip-3
//   BENCH_REPEAT=3 (timed runs of a gzip case)  BENCH_REPEAT_FAST=5 (of a copy or uncompressed case,
//   whose runs last seconds and so vary most with the disk)  BENCH_WARMUP=1 (untimed runs of each
//   tool before a copy or uncompressed case: the first run after an input is made or another case
//   ran was the slowest of both tools, by up to 2x)
//   BENCH_LARGE_CASES=none-1,none-3 (stacks above 1 GiB: gzip at 4 GiB is ~2 min a run and a tool;
//   set it to BENCH_CASES' value to run them too)
//   BENCH_MULTI=8 (views; 0 skips)  BENCH_JOBS=<cores>  BENCH_DIR=bench/out  BENCH_QUIET=1
//   BENCH_WAIT_S=300 (longest wait for a quiet machine before a run)  BENCH_BDV=apps/cli/bin/bdv
//   BENCH_KEEP_INPUTS=0 (1 keeps the generated inputs)  BENCH_REPORT=BENCHMARKS.md (where to write)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { busyCpuSeconds, CORES, loadAverage, waitUntilQuiet } from './machine-load.mjs';
import { median, writeSection } from './report-file.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const env = process.env;
const PY = '/usr/bin/python3';
// The `bdv` command as a user runs it (its launcher, apps/cli/bin/bdv), not `node bdv.js`.
const BDV = resolve(env.BENCH_BDV ?? join(root, 'apps/cli/bin/bdv'));
const PLANE = 2048; // y and x of every plane: a 4-megapixel sCMOS camera
const BLOCK = '4,256,256'; // npy2bdv's default
const LEVELS = { 1: '1,1,1', 3: '1,1,1:2,2,2:4,4,4' };
const sizes = (env.BENCH_SIZES_MIB ?? '512,1024,4096').split(',').map(Number);
const repeat = Number(env.BENCH_REPEAT ?? 3);
const repeatFast = Number(env.BENCH_REPEAT_FAST ?? 5);
const warmups = Number(env.BENCH_WARMUP ?? 1);
/** How a case is run: gzip runs last long enough that 3 cold runs suffice; short runs get more. */
const runsFor = (compression) =>
  compression === 'gzip' ? { runs: repeat, warmup: 0 } : { runs: repeatFast, warmup: warmups };
const multiViews = Number(env.BENCH_MULTI ?? 8);
const jobs = Number(env.BENCH_JOBS ?? CORES);
const gateQuiet = env.BENCH_QUIET !== '0';
const waitS = Number(env.BENCH_WAIT_S ?? 300);
const work = resolve(env.BENCH_DIR ?? join(here, 'out'));
const caseList = (names) =>
  names.split(',').map((name) => {
    const [compression, levels] = name.split('-');
    return { name, compression, levels: LEVELS[levels] };
  });
const cases = caseList(env.BENCH_CASES ?? 'none-1,none-3,gzip-1,gzip-3');
const largeCases = caseList(env.BENCH_LARGE_CASES ?? 'none-1,none-3');
const startedAt = new Date();
const quietLog = [];
const loads = [];

/** One process, timed by GNU time after the machine has gone quiet; also what others used meanwhile. */
async function timed(cmd, args) {
  // Dirty pages of whatever ran before (a freshly made 4 GiB input, the previous tool's deleted
  // output) are written back now, not during the timed run: otherwise the first runs after an
  // input is made pay for its writeback (seen: 12.4 s vs 6.0 s for the same 4 GiB case).
  execFileSync('sync');
  if (gateQuiet) quietLog.push(await waitUntilQuiet({ timeoutS: waitS }));
  const load = loadAverage();
  loads.push(load);
  const busyBefore = busyCpuSeconds();
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M %U %S', cmd, ...args], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const busy = busyCpuSeconds() - busyBefore;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stderr}`);
  const [seconds, kb, user, sys] = r.stderr.trim().split('\n').at(-1).split(' ').map(Number);
  // CPU others used during our run, in cores (GNU time's user+sys is ours, children included).
  const others = Math.max(0, (busy - user - sys) / seconds);
  return { seconds, rssMiB: kb / 1024, others, load };
}

function bdvConvert(inputs, output, c, extra = []) {
  return [
    'convert',
    ...inputs,
    '-o',
    output,
    '--compression',
    c.compression,
    '--subsampling',
    c.levels,
    '--block',
    BLOCK,
    '--progress',
    'none',
    ...extra,
  ];
}

function removeOutput(h5) {
  const base = h5.replace(/\.h5$/, '');
  rmSync(dirname(h5), { recursive: true, force: true });
  mkdirSync(dirname(h5), { recursive: true });
  return base;
}

/** The same pixels in every level (h5diff reads both files element by element; external links followed). */
function sameAsH5py(ours, theirs) {
  return spawnSync('h5diff', ['--follow-symlinks', ours, theirs, '/t00000', '/t00000']).status === 0;
}

function makeStack(path, planes) {
  if (existsSync(path)) return;
  console.error(`making ${path} (${planes}x${PLANE}x${PLANE} uint16)`);
  execFileSync(PY, [join(here, 'make_input.py'), path, String(planes), String(PLANE), String(PLANE)]);
}

/** `views` .npy files, consecutive z-ranges of `stack`: one acquisition written as several views. */
function splitStack(stack, views) {
  const folder = join(work, `views-${views}`);
  mkdirSync(folder, { recursive: true });
  const files = Array.from({ length: views }, (_, v) => join(folder, `v${v}.npy`));
  if (files.every((f) => existsSync(f))) return files;
  execFileSync(PY, [
    '-c',
    'import sys, numpy as np\na = np.load(sys.argv[1], mmap_mode="r")\nn = len(sys.argv) - 2\nfor i, f in enumerate(sys.argv[2:]): np.save(f, a[i * len(a) // n:(i + 1) * len(a) // n])',
    stack,
    ...files,
  ]);
  return files;
}

/**
 * Runs every tool of one case `runs` times, alternating tools run by run so that slow phases
 * of the machine hit all of them alike, after `warmup` untimed runs of each (alternating too).
 */
async function alternate(tools, { runs, warmup }) {
  for (let i = 0; i < warmup; i++) {
    for (const tool of tools) {
      tool.before?.();
      await timed(tool.cmd, tool.args);
    }
  }
  const results = tools.map(() => []);
  for (let i = 0; i < runs; i++) {
    for (const [t, tool] of tools.entries()) {
      tool.before?.();
      results[t].push(await timed(tool.cmd, tool.args));
    }
  }
  return results.map((runs) => ({
    seconds: median(runs.map((r) => r.seconds)),
    rssMiB: Math.max(...runs.map((r) => r.rssMiB)),
    others: Math.max(...runs.map((r) => r.others)),
    all: runs.map((r) => r.seconds),
  }));
}

function machine() {
  const [h5pyVersion, hdf5, numpy] = execFileSync(
    PY,
    ['-c', 'import h5py, numpy; print(h5py.__version__, h5py.version.hdf5_version, numpy.__version__)'],
    { encoding: 'utf8' },
  )
    .trim()
    .split(' ');
  const h5wasm = JSON.parse(readFileSync(join(root, 'node_modules/h5wasm/package.json'), 'utf8')).version;
  const disk = execFileSync('df', ['-h', work], { encoding: 'utf8' }).trim().split('\n').at(-1).split(/\s+/);
  return [
    `- CPU: ${cpus()[0]?.model} × ${cpus().length} cores; memory ${(totalmem() / 2 ** 30).toFixed(0)} GiB; Linux ${release()}`,
    `- Disk: ${disk[0]} (${disk[1]}, ${disk[3]} free) mounted at ${disk[5]}`,
    `- Node ${process.version}, h5wasm ${h5wasm}; Debian h5py ${h5pyVersion} (HDF5 ${hdf5}), numpy ${numpy}`,
  ].join('\n');
}

mkdirSync(work, { recursive: true });
const rows = [];
const multiRows = [];
const inputs = [];
for (const mib of sizes) {
  const planes = (mib * 2 ** 20) / (PLANE * PLANE * 2);
  const input = join(work, `stack-${mib}m.npy`);
  makeStack(input, planes);
  inputs.push(input);
  const mb = statSync(input).size / 1e6;
  const label = mib >= 1024 ? `${mib / 1024} GiB` : `${mib} MiB`;
  const copyTo = join(work, 'copy', 'copy.npy');
  const [copy] = await alternate(
    [
      {
        before: () => removeOutput(copyTo),
        cmd: 'sh',
        args: ['-c', `cp '${input}' '${copyTo}' && sync '${copyTo}'`],
      },
    ],
    runsFor('none'),
  );
  rows.push({ label, mib, name: 'raw copy (cp + sync)', tool: 'cp', mb, ...copy });
  for (const c of mib > 1024 ? largeCases : cases) {
    const ours = join(work, 'ours', 'out.h5');
    const theirs = join(work, 'h5py', 'out.h5');
    const [o, h] = await alternate(
      [
        { before: () => removeOutput(ours), cmd: BDV, args: bdvConvert([input], ours, c) },
        {
          before: () => removeOutput(theirs),
          cmd: PY,
          args: [join(here, 'h5py_writer.py'), input, theirs, c.compression, c.levels, BLOCK],
        },
      ],
      runsFor(c.compression),
    );
    // h5diff compares element by element (minutes at 4 GiB): the 512 MiB and 1 GiB runs only.
    const same = mib <= 1024 ? sameAsH5py(ours, theirs) : undefined;
    const name = `${c.compression}, ${c.levels.split(':').length} level(s)`;
    rows.push({ label, mib, name, tool: 'bdv convert', mb, ...o, same });
    rows.push({ label, mib, name, tool: 'h5py', mb, ...h, same });
    console.error(
      `${label} ${c.name}: ours ${o.seconds}s, h5py ${h.seconds}s, same: ${same ?? 'not checked'}`,
    );
  }
  rmSync(join(work, 'ours'), { recursive: true, force: true });
  rmSync(join(work, 'h5py'), { recursive: true, force: true });
  rmSync(join(work, 'copy'), { recursive: true, force: true });
}

// One acquisition as several views: per-view overhead (vs. the same bytes as one view) and gzip
// on every core (partitions on worker threads) vs h5py writing the views into one file.
if (multiViews > 0 && sizes.length > 0) {
  const mib = sizes[0];
  const views = splitStack(join(work, `stack-${mib}m.npy`), multiViews);
  const mb = views.reduce((s, f) => s + statSync(f).size, 0) / 1e6;
  const pattern = ['-p', 'v{tile}.npy'];
  const folder = dirname(views[0]);
  for (const compression of ['none', 'gzip']) {
    const c = { compression, levels: LEVELS[1] };
    const one = join(work, 'one', 'out.h5');
    const single = join(work, 'single', 'out.h5');
    const parted = join(work, 'parted', 'out.h5');
    const theirs = join(work, 'h5py', 'out.h5');
    const tools = [
      {
        tool: `bdv convert, 1 view of ${mib} MiB`,
        before: () => removeOutput(one),
        cmd: BDV,
        args: bdvConvert([join(work, `stack-${mib}m.npy`)], one, c),
      },
      {
        tool: `bdv convert, ${multiViews} views, one file`,
        before: () => removeOutput(single),
        cmd: BDV,
        args: bdvConvert([folder, ...pattern], single, c),
      },
      {
        tool: `bdv convert --layout partitioned --jobs ${jobs}`,
        before: () => removeOutput(parted),
        cmd: BDV,
        args: bdvConvert([folder, ...pattern], parted, c, [
          '--layout',
          'partitioned',
          '--jobs',
          String(jobs),
        ]),
      },
      {
        tool: `h5py, ${multiViews} views, one file`,
        before: () => removeOutput(theirs),
        cmd: PY,
        args: [join(here, 'h5py_writer.py'), views.join(','), theirs, compression, c.levels, BLOCK],
      },
    ];
    const results = await alternate(tools, runsFor(compression));
    const same = sameAsH5py(single, theirs) && sameAsH5py(parted, theirs);
    tools.forEach((t, i) =>
      multiRows.push({ compression, tool: t.tool, mb, ...results[i], same: i === 0 ? undefined : same }),
    );
    console.error(`${multiViews} views ${compression}: ${results.map((r) => r.seconds).join(' / ')} s`);
    for (const dir of ['one', 'single', 'parted', 'h5py'])
      rmSync(join(work, dir), { recursive: true, force: true });
  }
}
if (env.BENCH_KEEP_INPUTS !== '1') {
  for (const input of inputs) rmSync(input, { force: true });
  rmSync(join(work, `views-${multiViews}`), { recursive: true, force: true });
}

const fmt = (x, digits = 2) => x.toFixed(digits);
const sameText = (r) =>
  r.same === undefined ? (r.tool === 'cp' ? '' : 'not checked') : r.same ? 'yes' : 'NO';
const table = [
  "| stack | case | tool | seconds (median) | MB/s | × h5py | peak RSS MiB | others' CPU (cores) | same pixels as h5py | runs (s) |",
  '|---|---|---|---|---|---|---|---|---|---|',
];
for (const r of rows) {
  const h5py = rows.find((x) => x.mib === r.mib && x.name === r.name && x.tool === 'h5py');
  const ratio = h5py && r.tool === 'bdv convert' ? `**${fmt(h5py.seconds / r.seconds)}**` : '';
  table.push(
    `| ${r.label} | ${r.name} | ${r.tool} | ${fmt(r.seconds)} | ${fmt(r.mb / r.seconds, 0)} | ${ratio} | ${fmt(r.rssMiB, 0)} | ${fmt(r.others)} | ${sameText(r)} | ${r.all.map((s) => fmt(s)).join(', ')} |`,
  );
}
const multiTable = [
  "| compression | tool | seconds (median) | MB/s | × h5py | × one view | peak RSS MiB | others' CPU (cores) | same pixels as h5py | runs (s) |",
  '|---|---|---|---|---|---|---|---|---|---|',
];
for (const r of multiRows) {
  const group = multiRows.filter((x) => x.compression === r.compression);
  const h5py = group.at(-1);
  const one = group[0];
  const ratio = r === h5py ? '' : `**${fmt(h5py.seconds / r.seconds)}**`;
  const perView = r === one || r === h5py ? '' : fmt(r.seconds / one.seconds);
  multiTable.push(
    `| ${r.compression} | ${r.tool} | ${fmt(r.seconds)} | ${fmt(r.mb / r.seconds, 0)} | ${ratio} | ${perView} | ${fmt(r.rssMiB, 0)} | ${fmt(r.others)} | ${r.same === undefined ? '' : r.same ? 'yes' : 'NO'} | ${r.all.map((s) => fmt(s)).join(', ')} |`,
  );
}
const waited = quietLog.filter((q) => !q.quiet).length;
const quietText = gateQuiet
  ? `Before each run the script waited until other processes used < 0.25 cores for 3 s (${waited === 0 ? 'reached every time' : `not reached within ${waitS} s before ${waited} of ${quietLog.length} runs, which then ran anyway`}).`
  : 'Runs did not wait for a quiet machine (BENCH_QUIET=0).';
const maxOthers = Math.max(0, ...rows.map((r) => r.others), ...multiRows.map((r) => r.others));
const report = `## Writer run of ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC

${machine()}
- Input: camera-like uint16 (offset 100 + smooth signal + shot noise), planes of ${PLANE}×${PLANE}, \`.npy\`;
  block ${BLOCK} (npy2bdv's default); gzip = level 4 (npy2bdv's default); 3 levels = 1,1,1 : 2,2,2 : 4,4,4.
- Each run is a separate process (\`/usr/bin/time\`): wall time including start-up, close and fsync;
  the tools alternating run by run; median of ${repeatFast} run(s) for a copy or an uncompressed case, each
  tool having run ${warmups} time(s) untimed first, and of ${repeat} run(s) for a gzip case (no warm-up). ${quietText}
  "others' CPU" is the most that other processes used during a case's runs (${fmt(maxOthers)} cores at worst);
  the 1-minute load average before the runs was ${fmt(Math.min(...loads), 1)}–${fmt(Math.max(...loads), 1)}${Math.max(...loads) > 0.5 ? ' (the machine was shared with other work: the numbers carry that noise)' : ''}.
- h5py reads the input through a memory map (its peak RSS counts the mapped input pages) and writes
  several views into one file one after the other (HDF5 runs on one core).
- × h5py = h5py's time / ours (above 1: we are faster). Pixels compared with \`h5diff\` up to 1 GiB.

${table.join('\n')}
${multiRows.length > 0 ? multiSection() : ''}`;
/** The several-views table (left out when BENCH_MULTI=0 skipped those runs). */
function multiSection() {
  return `
### ${multiViews} views of ${sizes[0]} MiB / ${multiViews} (the same bytes as the ${sizes[0]} MiB stack)

× one view = this run's time / the same bytes written as one view (the per-view overhead).

${multiTable.join('\n')}
`;
}

const file = env.BENCH_REPORT ? resolve(env.BENCH_REPORT) : join(root, 'BENCHMARKS.md');
writeSection(file, '## Writer run of', report);
console.error(`wrote ${file}`);
