#!/usr/bin/env node
// Fixed costs, one command (`npm run bench:startup`): what a command costs before it does any
// work, side by side with what Node and Python themselves cost to start, and HDF5's module loaded
// three ways (h5wasm's embedded string, the build's .wasm file (docs/adr/014) and its twin that
// starts with HDF5 initialised (docs/adr/026)). Every run is a
// separate process, timed from spawn to exit; the cases alternate run by run, each run waiting
// for a quiet machine first. Results go to BENCHMARKS.md ("Start-up run").
//   BENCH_STARTUP_RUNS=11  BENCH_QUIET=1  BENCH_BDV=apps/cli/bin/bdv  BENCH_REPORT=BENCHMARKS.md
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadAverage, waitUntilQuiet } from './machine-load.mjs';
import { median, writeSection } from './report-file.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const env = process.env;
const PY = '/usr/bin/python3';
const NODE = process.execPath;
// The `bdv` command as a user runs it: its launcher (apps/cli/bin/bdv), which starts bdv.js.
const BDV = resolve(env.BENCH_BDV ?? join(root, 'apps/cli/bin/bdv'));
const runs = Number(env.BENCH_STARTUP_RUNS ?? 11);
const gateQuiet = env.BENCH_QUIET !== '0';
const work = mkdtempSync(join(tmpdir(), 'bdv-startup-'));

const npy = join(work, 'tiny.npy');
const h5 = join(work, 'tiny.h5');
execFileSync(PY, [
  '-c',
  `import numpy as np; np.save(${JSON.stringify(npy)}, np.ones((4, 256, 256), np.uint16))`,
]);
const tiny = (out) => [
  'convert',
  npy,
  '-o',
  out,
  '--compression',
  'none',
  '--subsampling',
  '1,1,1',
  '--block',
  '4,256,256',
  '--progress',
  'none',
];
execFileSync(BDV, tiny(h5));

// HDF5's module, imported and initialised: from h5wasm's package, and from the build's copy.
const prepared = join(root, 'libs/bdv/dist/h5wasm/hdf5_hl.js');
const initialised = join(root, 'libs/bdv/dist/h5wasm/hdf5_hl.initialised.js');
const loadModule = (specifier) =>
  `const { default: h5 } = await import(${JSON.stringify(specifier)}); await h5.ready;`;
const cases = [
  { name: 'node -e 0 (Node itself)', cmd: NODE, args: ['-e', '0'] },
  // Node reads the file NODE_EXTRA_CA_CERTS names as it starts, whatever it then runs: where the
  // environment sets it (as on the reference VMs), the `node` rows pay for it and h5py's do not;
  // the `bdv` launcher unsets it for the commands that open no connection (apps/cli/bin/bdv).
  ...(env.NODE_EXTRA_CA_CERTS
    ? [
        {
          name: 'node -e 0 without NODE_EXTRA_CA_CERTS (set here: the node rows pay for it)',
          cmd: NODE,
          args: ['-e', '0'],
          env: { NODE_EXTRA_CA_CERTS: undefined },
        },
        {
          name: 'bdv convert run as `node bdv.js` (Node reads NODE_EXTRA_CA_CERTS)',
          cmd: NODE,
          args: [join(root, 'apps/cli/bin/bdv.js'), ...tiny(join(work, 'out.h5'))],
        },
      ]
    : []),
  {
    name: 'python3 -c "import h5py, numpy" (the h5py writer before any work)',
    cmd: PY,
    args: ['-c', 'import h5py, numpy'],
  },
  { name: 'bdv --help', cmd: BDV, args: ['--help'] },
  { name: 'bdv info (a 4×256×256 file)', cmd: BDV, args: ['info', h5] },
  { name: 'bdv convert (a 4×256×256 .npy, fsynced)', cmd: BDV, args: tiny(join(work, 'out.h5')) },
  {
    name: 'the same, HDF5 initialised at start (BDV_H5WASM=no-heap-image, docs/adr/026)',
    cmd: BDV,
    args: tiny(join(work, 'out.h5')),
    env: { BDV_H5WASM: 'no-heap-image' },
  },
  {
    name: 'h5py writer (the same .npy)',
    cmd: PY,
    args: [join(here, 'h5py_writer.py'), npy, join(work, 'py.h5'), 'none', '1,1,1', '4,256,256'],
  },
  {
    name: 'HDF5 module: h5wasm/node (embedded string)',
    cmd: NODE,
    args: ['--input-type=module', '-e', loadModule('h5wasm/node')],
    cwd: join(root, 'libs/bdv'),
  },
  {
    name: 'HDF5 module: libs/bdv/dist/h5wasm (.wasm file)',
    cmd: NODE,
    args: ['--input-type=module', '-e', loadModule(pathToFileURL(prepared).href)],
    cwd: join(root, 'libs/bdv'),
  },
  {
    name: 'HDF5 module: its twin, HDF5 initialised by the build (docs/adr/026)',
    cmd: NODE,
    args: ['--input-type=module', '-e', loadModule(pathToFileURL(initialised).href)],
    cwd: join(root, 'libs/bdv'),
  },
];

async function timed(c) {
  rmSync(join(work, 'out.h5'), { force: true });
  rmSync(join(work, 'out.xml'), { force: true });
  rmSync(join(work, 'out.checksums.json'), { force: true });
  rmSync(join(work, 'py.h5'), { force: true });
  if (gateQuiet) await waitUntilQuiet({ windowS: 1, timeoutS: 60 });
  const started = process.hrtime.bigint();
  const r = spawnSync(c.cmd, c.args, {
    cwd: c.cwd ?? work,
    encoding: 'utf8',
    env: c.env ? { ...process.env, ...c.env } : undefined,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (r.status !== 0) throw new Error(`${c.name} failed:\n${r.stderr}`);
  return seconds;
}

const startedAt = new Date();
const loads = [];
const times = new Map(cases.map((c) => [c, []]));
try {
  for (const c of cases) await timed(c); // one untimed run each: files and modules in the page cache
  for (let i = 0; i < runs; i++) {
    loads.push(loadAverage());
    for (const c of cases) times.get(c).push(await timed(c));
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const s = (v) => v.toFixed(3);
const rows = cases.map((c) => {
  const t = times.get(c);
  return `| ${c.name} | ${s(median(t))} | ${s(Math.min(...t))}–${s(Math.max(...t))} |`;
});
const section = `## Start-up run of ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC

- CPU: ${cpus()[0]?.model} × ${cpus().length} cores; memory ${(totalmem() / 2 ** 30).toFixed(0)} GiB; Linux ${release()}; Node ${process.version}
- Each case a separate process, timed from spawn to exit; the cases alternating, ${runs} timed runs each after one
  untimed run; ${gateQuiet ? 'each run waited (at most 60 s) until other processes used < 0.25 cores for 1 s' : 'no wait for a quiet machine'}.
  1-minute load average before the rounds: ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)}.
- The HDF5 rows import h5wasm's API and wait for its module to be ready, nothing else: the
  differences between them are what \`loadH5\` saves in every process and writer thread (it
  loads the twin unless an \`HDF5_*\` variable is set).

| case | seconds (median) | range |
|---|---|---|
${rows.join('\n')}
`;
const file = env.BENCH_REPORT ? resolve(env.BENCH_REPORT) : join(root, 'BENCHMARKS.md');
writeSection(file, '## Start-up run', section);
console.log(section);
