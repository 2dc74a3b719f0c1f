// Free TCP ports for local servers started by scripts, benchmarks and tests.
import { createServer } from 'node:net';

/** Ports this process has handed out: never handed out twice. */
const handedOut = new Set();

/** Tries before giving up: each is a port the OS offered that this process had already taken. */
const MAX_TRIES = 1000;

/** A port the OS picks that nothing listens on now. */
function unusedPort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * A port nothing listens on now (a stale stack from a crashed run must not answer for a new one)
 * and that this process has not handed out before: once closed, a port may be offered again
 * before its first taker binds it, and two clusters started at once in one test process then got
 * the same API port — one's client was answered by the other's API (401, unknown token).
 */
export async function freePort() {
  for (let i = 0; i < MAX_TRIES; i++) {
    const port = await unusedPort();
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free TCP port this process has not used in ${MAX_TRIES} tries`);
}
