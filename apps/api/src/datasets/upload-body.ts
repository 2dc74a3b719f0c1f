import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';

/** What a refused body is read and dropped up to, so that a client still sending hears the answer. */
const DRAIN_BYTES = 16 * 1024 * 1024;
/** … and for how long at most. */
const DRAIN_MS = 10_000;
/** An accepted upload whose client sends nothing for this long is ended (Node's requestTimeout is off). */
export const UPLOAD_IDLE_MS = 120_000;
/**
 * Every body must have arrived within this (Node's own requestTimeout, per request) unless it is
 * an upload its handler accepted, which then has UPLOAD_IDLE_MS between bytes instead.
 */
export const REQUEST_BODY_MS = 300_000;

const UPLOAD_PATH = /^\/v1\/datasets\/[^/]+\/views\/[^/]+\/data$/;

/** PUT …/views/:viewKey/data: a stack's bytes, streamed to the raw bucket. */
export function isUploadRequest(req: IncomingMessage): boolean {
  if (req.method !== 'PUT') return false;
  try {
    // The path as the router sees it (an absolute-form target, a query or a fragment aside).
    return UPLOAD_PATH.test(new URL(req.url ?? '', 'http://api.invalid').pathname);
  } catch {
    return false;
  }
}

/** The body deadline of each request that has one, until its body ends or an upload is accepted. */
const bodyDeadlines = new WeakMap<IncomingMessage, NodeJS.Timeout>();

/** Uploads whose client waits for `100 Continue` before it sends the body: not told yet. */
const waitingForContinue = new WeakSet<IncomingMessage>();

/**
 * `Expect: 100-continue`: Node answers `100 Continue` before any handler runs, so a client sends
 * the whole body of an upload the API then refuses (a bad token, a view that does not fit, a
 * declared size past UPLOAD_MAX_BYTES). An upload's `100` waits for `acceptBody` instead; any
 * answer before it closes the connection (the client sent no body to read). Other requests are
 * told to go on at once, as before.
 */
export function continueUploadsOnceAccepted(server: Server): void {
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (isUploadRequest(req)) {
      waitingForContinue.add(req);
      res.setHeader('Connection', 'close');
    } else {
      res.writeContinue();
    }
    server.emit('request', req, res);
  });
}

/**
 * The upload is accepted: its client may send the body now (`100 Continue` where it waits for
 * it), and one that stops sending for UPLOAD_IDLE_MS is ended. Returns the undo of the idle
 * timeout, for when the body has been read.
 */
export function acceptBody(
  req: IncomingMessage,
  res: ServerResponse | undefined,
  idleMs = UPLOAD_IDLE_MS,
): () => void {
  if (waitingForContinue.delete(req) && res && !res.headersSent) {
    res.removeHeader('Connection');
    res.writeContinue();
  }
  clearTimeout(bodyDeadlines.get(req));
  bodyDeadlines.delete(req);
  req.setTimeout(idleMs, () => req.destroy(new Error(`no body bytes for ${idleMs / 1000} s`)));
  // Off once the body is in: what the server does with it after (storing, checking, queueing)
  // may take longer than the client's silence is allowed to.
  const stop = () => req.setTimeout(0);
  req.once('end', stop);
  return stop;
}

/**
 * Before a refused upload is answered: the rest of its body is read and dropped — up to
 * DRAIN_BYTES or DRAIN_MS — so that a client that sends it all before it reads (Python's
 * `requests`, `http.client`) hears the answer instead of a broken pipe. Past either, or for a
 * client still waiting for `100 Continue` (it sends nothing), the answer closes the connection.
 */
export async function refuseBody(
  req: IncomingMessage,
  res: ServerResponse | undefined,
  piped?: NodeJS.WritableStream,
): Promise<void> {
  if (piped) req.unpipe(piped);
  // A client still waiting for 100 Continue sends nothing (curl sends anyway after a second:
  // then its bytes are here, and drained).
  if (waitingForContinue.has(req) && req.readableLength === 0) return;
  if (req.complete || req.destroyed) return;
  const closeAfter = () => res?.setHeader('Connection', 'close');
  await new Promise<void>((resolve) => {
    let dropped = 0;
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      closeAfter();
      done();
    }, DRAIN_MS);
    req.on('data', (chunk: Buffer) => {
      // Past the bound the rest is still dropped while the answer goes out; then the socket closes.
      if ((dropped += chunk.length) <= DRAIN_BYTES) return;
      closeAfter();
      done();
    });
    req.once('end', done);
    req.once('close', done);
    req.once('error', done);
    (req as Readable).resume();
  });
}

/**
 * Node's requestTimeout (300 s to receive a whole request) is off, or no upload could take
 * longer than 300 s (30 GB at 100 MB/s). Every request with a body keeps that deadline here —
 * also once it has been answered (a refused body Node goes on reading and dropping, and
 * unauthenticated trickles must end) — until its body has arrived, or until an upload is
 * accepted (acceptBody: then UPLOAD_IDLE_MS between bytes).
 */
export function bodyDeadline(ms = REQUEST_BODY_MS) {
  return (req: IncomingMessage, _res: ServerResponse, next: () => void): void => {
    const hasBody =
      Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
    if (hasBody && !req.complete) {
      const socket = req.socket;
      const timer = setTimeout(() => socket.destroy(), ms);
      bodyDeadlines.set(req, timer);
      // Not on the request's 'close' nor the answer's 'finish': Node 20 emits those once the
      // answer is out, and then goes on reading a refused body for as long as it trickles in.
      const clear = () => {
        clearTimeout(timer);
        socket.off('close', clear);
      };
      req.once('end', clear);
      socket.once('close', clear);
    }
    next();
  };
}
