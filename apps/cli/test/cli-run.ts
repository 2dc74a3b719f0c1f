import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'bdv.js');

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `bdv` as a user would (a separate process, no TTY). */
export function bdv(args: string[], cwd?: string): CliRun {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, BDV_DEBUG: '' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export interface RunningBdv {
  child: ChildProcess;
  /** Its stderr so far. */
  stderr: () => string;
  done: Promise<CliRun & { signal: NodeJS.Signals | null }>;
}

/** Starts the built `bdv` without blocking this process (a test acts while it runs). */
export function bdvSpawn(args: string[], env: NodeJS.ProcessEnv = {}): RunningBdv {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, BDV_DEBUG: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliRun & { signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr })),
  );
  return { child, stderr: () => stderr, done };
}

/**
 * Runs the built `bdv` to its end; `watch` sees its stderr so far after each chunk, and the
 * process, to act on what it says.
 */
export function bdvAsync(
  args: string[],
  watch?: (stderr: string, child: ChildProcess) => void,
  env?: NodeJS.ProcessEnv,
): Promise<CliRun & { signal: NodeJS.Signals | null }> {
  const run = bdvSpawn(args, env);
  // Registered after bdvSpawn's own listener: it sees the chunk already appended.
  if (watch) run.child.stderr!.on('data', () => watch(run.stderr(), run.child));
  return run.done;
}

export interface StoppedRun extends CliRun {
  signal: NodeJS.Signals | null;
  /** Whether `line` appeared (and the signal was sent) before the run ended by itself. */
  stopped: boolean;
}

/**
 * Runs the built `bdv` and sends it `signal` as soon as its stderr contains `line` (e.g. the
 * `--progress lines` line of its second written view), as a person's Ctrl-C or a crash would.
 */
export async function bdvStoppedAt(
  args: string[],
  line: string,
  signal: NodeJS.Signals,
  env?: NodeJS.ProcessEnv,
): Promise<StoppedRun> {
  let stopped = false;
  const run = await bdvAsync(
    args,
    (stderr, child) => {
      if (!stopped && stderr.includes(line)) {
        stopped = true;
        child.kill(signal);
      }
    },
    env,
  );
  return { ...run, stopped };
}
