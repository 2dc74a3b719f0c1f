// How busy the machine is with work that is not ours: benchmarks on a shared machine are only
// worth their numbers when nobody else computes meanwhile. /proc/stat gives the CPU time of all
// processes; GNU time gives ours; the difference is everyone else's.
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

const TICK = 100; // USER_HZ: /proc/stat counts in 1/100 s on Linux

/** Seconds of CPU spent so far by everything on the machine (all cores, idle and iowait excluded). */
export function busyCpuSeconds() {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = fields;
  return (user + nice + system + irq + softirq + steal) / TICK;
}

export function loadAverage() {
  return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until the machine has been quiet (others use less than `maxCores` of CPU over a
 * `windowS`-second window), for at most `timeoutS` seconds. Returns what was seen last.
 */
export async function waitUntilQuiet({ maxCores = 0.25, windowS = 3, timeoutS = 300 } = {}) {
  const started = Date.now();
  for (;;) {
    const before = busyCpuSeconds();
    await sleep(windowS * 1000);
    const cores = (busyCpuSeconds() - before) / windowS;
    const waited = (Date.now() - started) / 1000;
    if (cores <= maxCores || waited >= timeoutS) return { cores, waitedS: waited, quiet: cores <= maxCores };
  }
}

export const CORES = cpus().length;
