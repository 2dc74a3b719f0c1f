import { parentPort } from 'node:worker_threads';
import { isPermanent, writeViewTask, type WriteViewTaskInput } from './write-view-task.js';

/**
 * Thread entry: HDF5 (wasm, synchronous), pyramid and compression run here, so the BullMQ worker's
 * event loop stays free to renew job locks during a multi-GB view. The thread takes one task at a
 * time and is reused (loading the wasm module costs ~0.3 s).
 */
const port = parentPort!;
port.on('message', (input: WriteViewTaskInput) => {
  writeViewTask(input, (progress) => port.postMessage({ type: 'progress', progress }))
    .then((result) => port.postMessage({ type: 'done', result }))
    .catch((error: unknown) => {
      const e = error instanceof Error ? error : new Error(String(error));
      port.postMessage({
        type: 'error',
        error: { name: e.name, message: e.message, permanent: isPermanent(error) },
      });
    });
});
