import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, delimiter, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { removeDatasetFile } from '@bdv-cluster/bdv';
import { Manifest } from '@bdv-cluster/contract';
import { CliError } from '../cli-error.js';
import { runConversion } from '../convert/run-conversion.js';
import type { ProgressMode } from '../progress/progress-mode.js';
import { humanBytes } from '../progress/byte-units.js';
import { progressFor } from '../progress/progress-reporter.js';
import { makeSyntheticAcquisition } from './synthetic-acquisition.js';

/** `bdv demo`'s options. */
export interface DemoFlags {
  dir: string;
  overwrite?: boolean;
  progress: ProgressMode;
}

const DEMO_FILE = 'demo.h5';
const DEMO_REMOVAL_WAIT_SECONDS = 30;
/** What a demo leaves in its folder: its inputs, manifest, outputs and their fence and temporaries. */
const DEMO_ENTRY =
  /^(raw|manifest\.json|demo\.(h5|xml|checksums\.json)|demo\.h5\.journal|\.demo\.h5\.(lock|want)|\.?demo\..*\.tmp)$/;
const DEMO_INPUT = /^t\d+_c\d+_s\d+\.npy$/;

/** `bdv demo`: a synthetic acquisition converted in this process, and where everything went. */
export async function demo(flags: DemoFlags): Promise<void> {
  let dir = resolve(flags.dir);
  if (existsSync(dir)) {
    // A --dir that is a link to an earlier demo: the demo is replaced where it really is (the
    // link stays), never the link's own name emptied and then refused as a folder.
    dir = realpathSync(dir);
    // An empty folder (made for the demo) is used as it is: there is nothing to replace.
    if (!isEmptyFolder(dir)) {
      // Asked first: --overwrite is suggested only where it would be taken.
      assertEarlierDemo(dir);
      if (!flags.overwrite)
        throw new CliError(`${dir} holds an earlier demo (pass --overwrite to replace it)`);
      // Under the demo file's write fence: a demo still converting into this folder (another
      // terminal) is waited for, not pulled from under its writer.
      await removeDatasetFile(join(dir, DEMO_FILE), DEMO_REMOVAL_WAIT_SECONDS, dir);
    }
  }
  process.stdout.write(`making a synthetic acquisition in ${dir}/raw ...\n`);
  const acquisition = await makeSyntheticAcquisition(dir);
  const result = await runConversion(
    {
      manifest: Manifest.parse(acquisition.manifest),
      output: join(dir, DEMO_FILE),
      overwrite: false,
      baseDir: dir,
    },
    await progressFor(flags.progress),
  );
  process.stdout.write(
    [
      `converted ${result.views} views (${humanBytes(result.bytes)}) in ${result.seconds.toFixed(2)} s`,
      `  HDF5:     ${result.h5}`,
      `  XML:      ${result.xml}`,
      `  manifest: ${acquisition.manifestPath}`,
      'open the XML in Fiji: Plugins > BigDataViewer > Open XML/HDF5 (or BigStitcher)',
      `inspect with: ${bdvCommand()} info ${result.h5}`,
      `check every view against its checksums with: ${bdvCommand()} verify ${result.xml}`,
      '',
    ].join('\n'),
  );
}

/**
 * How to run bdv again from here: `bdv` when it was started by that name (installed on PATH);
 * under npm (`npm run demo`, in the repository) the launcher beside this script by its full path
 * — `npx bdv` copied into another folder would ask the public registry for a package of that
 * name; else node and this script's path.
 */
function bdvCommand(): string {
  // Through the launcher (apps/cli/bin/bdv): as typed — `bdv` where PATH finds it, else its path.
  const typed = process.env.BDV_INVOKED_AS;
  if (typed) {
    const onPath = (process.env.PATH ?? '')
      .split(delimiter)
      .some((dir) => dir && resolve(dir) === resolve(dirname(typed)));
    if (basename(typed) === 'bdv' && onPath) return 'bdv';
    if (!process.env.npm_lifecycle_event) return typed.includes('/') ? resolve(typed) : typed;
  }
  const script = process.argv[1] ?? '';
  if (basename(script) === 'bdv') return 'bdv';
  const launcher = join(dirname(script), 'bdv');
  if (process.env.npm_lifecycle_event) return existsSync(launcher) ? launcher : 'npx bdv';
  const near = relative(process.cwd(), script);
  return `node ${near.startsWith('..') || isAbsolute(near) ? script : near}`;
}

/**
 * `--overwrite` deletes a folder: only one that an earlier demo made (an empty one too). A folder
 * with anything else in it — a mistyped `--dir` pointing at real data — is refused untouched.
 */
function assertEarlierDemo(dir: string): void {
  if (!statSync(dir).isDirectory()) throw new CliError(`${dir} is not a folder: pick another --dir`);
  const entries = readdirSync(dir);
  if (entries.length === 0) return;
  const foreign = entries.filter((name) => !DEMO_ENTRY.test(name));
  const raw = join(dir, 'raw');
  if (entries.includes('raw')) {
    if (!statSync(raw).isDirectory()) foreign.push('raw');
    else
      foreign.push(
        ...readdirSync(raw)
          .filter((name) => !DEMO_INPUT.test(name))
          .map((n) => `raw/${n}`),
      );
  }
  if (foreign.length > 0)
    throw new CliError(
      `${dir} holds ${foreign.length} file(s) a demo does not make (${foreign.slice(0, 3).join(', ')}): not replaced; pick another --dir or remove it yourself`,
    );
  if (!isDemoManifest(join(dir, 'manifest.json')))
    throw new CliError(
      `${dir} has no demo manifest.json: not replaced; pick another --dir or remove it yourself`,
    );
}

function isEmptyFolder(dir: string): boolean {
  return statSync(dir).isDirectory() && readdirSync(dir).length === 0;
}

function isDemoManifest(path: string): boolean {
  try {
    return (
      (JSON.parse(readFileSync(path, 'utf8')) as { dataset?: { name?: unknown } }).dataset?.name === 'demo'
    );
  } catch {
    return false;
  }
}
