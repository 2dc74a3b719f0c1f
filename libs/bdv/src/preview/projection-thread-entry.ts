import { parentPort } from 'node:worker_threads';
import type { ProjectionReply, ProjectionRequest } from './projection-thread.js';
import { projectViewsOfFile } from './view-projection.js';
import type { ViewProjection } from './view-projection.js';

/**
 * Thread entry of ProjectionThread: the previews' HDF5 reads (synchronous wasm calls of up to
 * hundreds of ms per slab) run here, so the server that asked keeps answering meanwhile. The
 * projections go back transferred, not copied.
 */
const port = parentPort!;

function send(id: number, projections: ViewProjection[]): void {
  // Each buffer once; pixels that do not span their whole buffer go as a copy that does.
  const own = projections.map((p) =>
    p.pixels.byteOffset === 0 && p.pixels.byteLength === p.pixels.buffer.byteLength
      ? p
      : { ...p, pixels: p.pixels.slice() },
  );
  const reply: ProjectionReply = { id, projections: own };
  port.postMessage(reply, [...new Set(own.map((p) => p.pixels.buffer as ArrayBuffer))]);
}

function sendError(id: number, error: unknown): void {
  const e = error instanceof Error ? error : new Error(String(error));
  const { code, field } = e as Error & { code?: string; field?: string };
  const reply: ProjectionReply = {
    id,
    error: { name: e.name, message: e.message, stack: e.stack, code, field },
  };
  port.postMessage(reply);
}

port.on('message', (request: ProjectionRequest) => {
  projectViewsOfFile(request.sources, request.options)
    .then((projections) => send(request.id, projections))
    .catch((error: unknown) => sendError(request.id, error));
});
