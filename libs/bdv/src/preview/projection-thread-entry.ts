import { parentPort } from 'node:worker_threads';
import type { ProjectionReply, ProjectionRequest } from './projection-thread.js';
import { projectViewsOfFile } from './view-projection.js';

/**
 * Thread entry of ProjectionThread: the previews' HDF5 reads (synchronous wasm calls of up to
 * hundreds of ms per slab) run here, so the server that asked keeps answering meanwhile. The
 * projections go back transferred, not copied.
 */
const port = parentPort!;
port.on('message', (request: ProjectionRequest) => {
  projectViewsOfFile(request.sources, request.options).then(
    (projections) => {
      const reply: ProjectionReply = { id: request.id, projections };
      port.postMessage(
        reply,
        projections.map((p) => p.pixels.buffer as ArrayBuffer),
      );
    },
    (error: unknown) => {
      const e = error instanceof Error ? error : new Error(String(error));
      const { code, field } = e as Error & { code?: string; field?: string };
      const reply: ProjectionReply = {
        id: request.id,
        error: { name: e.name, message: e.message, code, field },
      };
      port.postMessage(reply);
    },
  );
});
