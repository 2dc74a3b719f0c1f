#!/usr/bin/env node
// Side-by-side benchmark, one command (`npm run bench`): `bdv convert` vs Debian h5py writing the
// same arrays (same chunks, compression, levels) vs a raw disk copy, on 1 GiB and 4 GiB stacks.
// Every run is a separate process timed by GNU time (wall seconds, peak RSS) and includes close +
// fsync. Results and the machine's description go to BENCHMARKS.md.
//   BENCH_SIZES_GIB=1,4  BENCH_REPEAT=3  BENCH_DIR=bench/out  BENCH_CASES=none-1,gzip-1,none-3,gzip-3
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, totalmem, release } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSection } from './report-file.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const PY = '/usr/bin/python3';
const BDV = join(root, 'apps/cli/bin/bdv.js');
const sizes = (process.env.BENCH_SIZES_GIB ?? '1,4').split(',').map(Number);
const repeat = Number(process.env.BENCH_REPEAT ?? 3);
const work = resolve(process.env.BENCH_DIR ?? join(here, 'out'));
const LEVELS = { 1: '1,1,1', 3: '1,1,1:2,2,2:4,4,4' };
const BLOCK = '4,256,256';
const cases = (process.env.BENCH_CASES ?? 'none-1,gzip-1,none-3,gzip-3').split(',').map((c) => {
  const [compression, levels] = c.split('-');
  return { name: c, compression, levels: LEVELS[levels] };
});

function timed(cmd, args) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', cmd, ...args], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stderr}`);
  const [seconds, kb] = r.stderr.trim().split('\n').at(-1).split(' ').map(Number);
  return { seconds, rssMiB: kb / 1024 };
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function runs(n, fn) {
  const results = Array.from({ length: n }, fn);
  return {
    seconds: median(results.map((r) => r.seconds)),
    rssMiB: Math.max(...results.map((r) => r.rssMiB)),
    all: results.map((r) => r.seconds),
  };
}

function machine() {
  const h5py = execFileSync(
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
    `- Node ${process.version}, h5wasm ${h5wasm}; Debian h5py ${h5py[0]} (HDF5 ${h5py[1]}), numpy ${h5py[2]}`,
  ].join('\n');
}

mkdirSync(work, { recursive: true });
const rows = [];
for (const gib of sizes) {
  const nz = 512 * gib;
  const input = join(work, `stack-${gib}g.npy`);
  if (!existsSync(input)) {
    console.error(`making ${input} (${nz}x1024x1024 uint16)`);
    execFileSync(PY, [join(here, 'make_input.py'), input, String(nz), '1024', '1024']);
  }
  const mb = statSync(input).size / 1e6;
  const copy = runs(repeat, () => {
    rmSync(join(work, 'copy.npy'), { force: true });
    return timed('sh', ['-c', `cp '${input}' '${work}/copy.npy' && sync '${work}/copy.npy'`]);
  });
  rmSync(join(work, 'copy.npy'), { force: true });
  rows.push({ gib, name: 'raw copy (cp + sync)', tool: 'cp', mb, ...copy });
  console.error(`${gib} GiB copy: ${copy.seconds}s`);
  for (const c of cases) {
    const ours = join(work, 'ours.h5');
    const theirs = join(work, 'h5py.h5');
    const n = c.compression === 'none' ? repeat : 1;
    const results = { ours: [], h5py: [] };
    for (let i = 0; i < n; i++) {
      // interleaved, so slow phases of the machine hit both sides alike
      rmSync(ours, { force: true });
      results.ours.push(
        timed(process.execPath, [
          BDV,
          'convert',
          input,
          '-o',
          ours,
          '--compression',
          c.compression,
          '--subsampling',
          c.levels,
          '--block',
          BLOCK,
          '--progress',
          'none',
        ]),
      );
      rmSync(theirs, { force: true });
      results.h5py.push(
        timed(PY, [join(here, 'h5py_writer.py'), input, theirs, c.compression, c.levels, BLOCK]),
      );
    }
    // h5diff reads both files element by element (minutes at 4 GiB): check the 1 GiB runs only.
    const same = gib <= 1 ? spawnSync('h5diff', [ours, theirs, '/t00000/s00']).status === 0 : undefined;
    for (const tool of ['ours', 'h5py']) {
      const r = results[tool];
      rows.push({
        gib,
        name: `${c.compression}, ${c.levels.split(':').length} level(s)`,
        tool: tool === 'ours' ? 'bdv convert' : 'h5py',
        mb,
        seconds: median(r.map((x) => x.seconds)),
        rssMiB: Math.max(...r.map((x) => x.rssMiB)),
        all: r.map((x) => x.seconds),
        same,
      });
    }
    console.error(
      `${gib} GiB ${c.name}: ours ${median(results.ours.map((r) => r.seconds))}s, h5py ${median(results.h5py.map((r) => r.seconds))}s, same data: ${same ?? 'not checked'}`,
    );
    rmSync(ours, { force: true });
    rmSync(theirs, { force: true });
  }
}

const table = [
  '| stack | case | tool | seconds (median) | MB/s | × h5py | peak RSS MiB | identical to h5py (h5diff) | runs (s) |',
  '|---|---|---|---|---|---|---|---|---|',
];
for (const r of rows) {
  const h5py = rows.find((x) => x.gib === r.gib && x.name === r.name && x.tool === 'h5py');
  const ratio = h5py && r.tool !== 'h5py' ? (h5py.seconds / r.seconds).toFixed(2) : '';
  table.push(
    `| ${r.gib} GiB | ${r.name} | ${r.tool} | ${r.seconds.toFixed(2)} | ${(r.mb / r.seconds).toFixed(0)} | ${ratio} | ${r.rssMiB.toFixed(0)} | ${r.same === undefined ? (r.tool === 'cp' ? '' : 'not checked') : r.same ? 'yes' : 'NO'} | ${r.all.map((s) => s.toFixed(2)).join(', ')} |`,
  );
}
const report = `## Writer run of ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC

${machine()}
- Input: camera-like uint16 (offset 100 + smooth signal + shot noise), shape (512·GiB, 1024, 1024), \`.npy\`;
  block ${BLOCK} (npy2bdv's default); gzip = level 4 (npy2bdv's default); levels 3 = 1,1,1 : 2,2,2 : 4,4,4.
- Each row is a separate process (\`/usr/bin/time\`), wall time including start-up, close and fsync;
  uncompressed cases are the median of ${repeat} interleaved runs, gzip cases one run each.
- h5py reads the input through a memory map, so its peak RSS counts the mapped input pages.

${table.join('\n')}
`;
const file = join(root, 'BENCHMARKS.md');
writeSection(file, '## Writer run of', report);
console.error(`wrote ${file}`);
