// Chooses the role of this container: api | writer | finalizer | all | cli [bdv args...].
// The role is the first argument (compose/k8s `command`) or BDV_ROLE; the rest goes to the CLI.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

const [first, ...rest] = process.argv.slice(2);
const role = first ?? process.env.BDV_ROLE ?? 'api';
const targets = {
  api: ['/app/apps/api/dist/main.js', {}],
  writer: ['/app/apps/worker/dist/main.js', { WORKER_ROLE: 'writer' }],
  finalizer: ['/app/apps/worker/dist/main.js', { WORKER_ROLE: 'finalizer' }],
  all: ['/app/apps/worker/dist/main.js', { WORKER_ROLE: 'all' }],
  cli: ['/app/apps/cli/bin/bdv.js', {}],
};
const target = targets[role];
if (!target) {
  process.stderr.write(`unknown role "${role}": use one of ${Object.keys(targets).join(', ')}\n`);
  process.exit(64);
}
const child = spawn(process.execPath, [target[0], ...rest], {
  stdio: 'inherit',
  env: { ...process.env, BDV_ROLE: role, ...target[1] },
});
// Signals go to the role's process, which shuts down gracefully (writers finish their view).
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => child.kill(signal));
// A role killed by a signal exits as a shell reports it (SIGKILL 137, SIGINT 130), so an
// orchestrator's log tells an OOM kill from a stop.
child.on('exit', (code, signal) =>
  process.exit(code ?? (signal ? 128 + (constants.signals[signal] ?? 15) : 1)),
);
