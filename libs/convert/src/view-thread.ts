import { checkFile, preloadHdf5 } from '@bdv-cluster/bdv';
import { parentPort } from 'node:worker_threads';
import { cancelCheckOf } from './cancellation.js';
import { failureKindOf } from './task-errors.js';
import type { ThreadReply, ThreadRequest } from './thread-messages.js';
import { runViewTask } from './view-task.js';

/**
 * Thread entry: HDF5 (wasm, synchronous), the pyramid and compression run here, so the caller's
 * event loop stays free (a queue worker keeps renewing its job locks during a multi-GB view;
 * the CLI keeps its progress bar moving). One task at a time; the thread is reused (loading the
 * wasm module costs ~0.3 s). Each thread has its own wasm heap, so files compress (and
 * decompress, when a finalizer checks written partitions) on as many cores as there are threads.
 */
const port = parentPort!;
// Started before its first task (ViewThreadPool.warm): HDF5 compiles now, on this thread's core.
// A failure here surfaces again, as a task error, at the first real load.
preloadHdf5().catch(() => undefined);
const reply = (message: ThreadReply) => port.postMessage(message);
port.on('message', (request: ThreadRequest) => {
  const work =
    'check' in request
      ? checkFile(request.check)
      : runViewTask(
          request.task,
          (progress) => reply({ type: 'progress', progress }),
          cancelCheckOf(request.cancel),
        );
  work
    .then((result) => reply({ type: 'done', result }))
    .catch((error: unknown) => {
      const e = error instanceof Error ? error : new Error(String(error));
      reply({ type: 'error', message: e.message, kind: failureKindOf(error) });
    });
});
