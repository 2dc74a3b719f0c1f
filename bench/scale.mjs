#!/usr/bin/env node
// How `bdv convert` and `bdv verify` scale with the number of setups and views rather than bytes:
// a facility's tile scans have thousands of setups and tens of thousands of views. Tiny views
// (4 x 32 x 32) so that what grows with the count shows, not I/O. Replaces its section of
// BENCHMARKS.md.
//   BENCH_SCALE_VIEWS=500,2000,5000  BENCH_SCALE_SETUPS=1000,4000,10000  BENCH_DIR=bench/out
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitUntilQuiet } from './machine-load.mjs';
import { writeSection } from './report-file.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const BDV = join(root, 'apps/cli/bin/bdv');
const counts = (name, fallback) => (process.env[name] ?? fallback).split(',').map(Number);
const viewCounts = counts('BENCH_SCALE_VIEWS', '500,2000,5000');
const setupCounts = counts('BENCH_SCALE_SETUPS', '1000,4000,10000');
const work = resolve(process.env.BENCH_DIR ?? join(here, 'out'), 'scale');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

// One small stack that every view names: reading it costs next to nothing.
execFileSync('/usr/bin/python3', [
  '-c',
  "import sys, numpy as np; np.save(sys.argv[1], (np.arange(4*32*32) % 1000 + 100).astype('<u2').reshape(4, 32, 32))",
  join(work, 'small.npy'),
]);

/** `views` views: of one setup over as many timepoints (per-view cost alone), or one view. */
function manifest(name, setupTiles, views, layout) {
  const path = join(work, `${name}.json`);
  const dataset = { name, setup: { tiles: setupTiles }, compression: 'none', layout };
  const list = Array.from({ length: views }, (_, time) => ({ time, tile: 0, source: { uri: 'small.npy' } }));
  writeFileSync(path, JSON.stringify({ dataset, views: list }));
  return path;
}

/** One whole process under GNU time: wall seconds and peak RSS. */
function timed(args) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', BDV, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bdv ${args.join(' ')} failed:\n${r.stderr}`);
  const [seconds, kb] = r.stderr.trim().split('\n').at(-1).split(' ').map(Number);
  return { seconds, rssMiB: kb / 1024 };
}

const rows = [];
let busiest = 0;
/** Waits for a quiet machine and remembers how busy the others were at worst. */
async function quiet() {
  const seen = await waitUntilQuiet();
  busiest = Math.max(busiest, seen.cores);
}
const row = (what, count, unit, r) => {
  rows.push({ what, count, unit, ...r });
  console.error(`${what}, ${count} ${unit}: ${r.seconds.toFixed(2)} s, ${r.rssMiB.toFixed(0)} MiB`);
};

// What every row pays whatever the count: a process converting one view of one setup.
await quiet();
const baselineArgs = ['--manifest', manifest('baseline', 1, 1, 'single'), '-o', join(work, 'baseline.h5')];
const baseline = timed(['convert', ...baselineArgs, '--progress', 'none']);
row('`bdv convert`, one view of one setup (start-up and fixed costs)', 1, 'view', baseline);

for (const setups of setupCounts) {
  await quiet();
  const m = manifest(`setups${setups}`, setups, 1, 'single');
  const r = timed(['convert', '--manifest', m, '-o', join(work, `setups${setups}.h5`), '--progress', 'none']);
  row('`bdv convert`, one view in a file with every setup header', setups, 'setups', r);
}
for (const views of viewCounts) {
  for (const layout of ['single', 'partitioned']) {
    const name = `views${views}-${layout}`;
    const h5 = join(work, name, `${name}.h5`);
    await quiet();
    const args = ['convert', '--manifest', manifest(name, 1, views, layout), '-o', h5, '--progress', 'none'];
    row(
      `\`bdv convert\`, ${layout}${layout === 'partitioned' ? ' (threads: one per core)' : ''}`,
      views,
      'views',
      timed(args),
    );
    await quiet();
    row(`\`bdv verify\`, ${layout}`, views, 'views', timed(['verify', h5.replace(/\.h5$/, '.xml')]));
  }
}

const table = [
  '| what | count | seconds | ms each, above the one-view run | peak RSS MiB |',
  '|---|---|---|---|---|',
  ...rows.map((r) => {
    const each = r === rows[0] ? '' : (((r.seconds - baseline.seconds) / r.count) * 1000).toFixed(2);
    return `| ${r.what} | ${r.count.toLocaleString('en')} ${r.unit} | ${r.seconds.toFixed(2)} | ${each} | ${r.rssMiB.toFixed(0)} |`;
  }),
];
const disk = execFileSync('df', ['-h', work], { encoding: 'utf8' }).trim().split('\n').at(-1).split(/\s+/);
const section = `## Scale run of ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC

- CPU: ${cpus()[0]?.model} × ${cpus().length} cores; memory ${(totalmem() / 2 ** 30).toFixed(0)} GiB; Linux ${release()}; Node ${process.version}
- Disk: ${disk[0]} (${disk[1]}, ${disk[3]} free) mounted at ${disk[5]}
- \`npm run bench:scale\`: what grows with the number of setups and views rather than with bytes.
  Every view is the same 4×32×32 uint16 \`.npy\` (uncompressed, one level); in the views rows
  they are one setup over as many timepoints. Each row is one process (\`/usr/bin/time\`), started
  after waiting (up to 5 min) for other processes to use < 0.25 cores over 3 s; before the
  busiest row they used ${busiest.toFixed(2)} cores. "ms each" leaves out what the one-view run costs (start-up). Every view is its own durable
  commit (fsyncs of the file, its journal and the checksum record), which is most of a tiny view's
  cost; \`bdv verify\` re-reads every view against its checksums.

${table.join('\n')}
`;
const file = join(root, 'BENCHMARKS.md');
writeSection(file, '## Scale run of', section);
if (process.env.BENCH_KEEP_INPUTS !== '1') rmSync(work, { recursive: true, force: true });
console.error(`wrote ${file}`);
