import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  acceptBody,
  bodyDeadline,
  continueUploadsOnceAccepted,
  refuseBody,
} from '../src/datasets/upload-body.js';

// An upload's body against a real HTTP server: a client waiting for 100 Continue sends nothing
// the API refuses, and one that sends its whole body before it reads still hears the refusal.

let server: Server;
let port: number;
const MB = 1024 * 1024;

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      if (req.url!.includes('refuse')) {
        await refuseBody(req, res);
        res.statusCode = 413;
        res.end('refused');
        return;
      }
      const stop = acceptBody(req, res);
      let bytes = 0;
      for await (const chunk of req) bytes += (chunk as Buffer).length;
      stop();
      res.statusCode = 202;
      res.end(String(bytes));
    })();
  });
  continueUploadsOnceAccepted(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** A PUT with `Expect: 100-continue` that sends its body only when told to; what happened. */
function expectingContinue(path: string, bodyBytes: number) {
  return new Promise<{ status: number; told: boolean; sent: number; body: string }>((resolve, reject) => {
    let told = false;
    let sent = 0;
    const req = request({
      host: '127.0.0.1',
      port,
      method: 'PUT',
      path,
      headers: { expect: '100-continue', 'content-length': bodyBytes },
    });
    req.on('continue', () => {
      told = true;
      sent = bodyBytes;
      req.end(Buffer.alloc(bodyBytes));
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, told, sent, body }));
    });
    req.on('error', reject);
  });
}

describe('an upload whose client waits for 100 Continue', () => {
  it('is told to send only once accepted; a refused one sends nothing and hears the refusal', async () => {
    const refused = await expectingContinue('/v1/datasets/d/views/t0-i0-c0-s0-a0/data?refuse', 5 * MB);
    expect(refused).toEqual({ status: 413, told: false, sent: 0, body: 'refused' });
    const taken = await expectingContinue('/v1/datasets/d/views/t0-i0-c0-s0-a0/data', 5 * MB);
    expect(taken).toEqual({ status: 202, told: true, sent: 5 * MB, body: String(5 * MB) });
  });

  it('leaves every other request told to go on at once, as Node does', async () => {
    const other = await expectingContinue('/v1/datasets/d/finalize', 100);
    expect(other).toMatchObject({ status: 202, told: true, body: '100' });
  });
});

describe('a refused upload whose client sends its whole body before it reads', () => {
  it('hears the refusal (the body is read and dropped first), not a broken pipe', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        const bytes = 12 * MB;
        socket.write(
          `PUT /v1/datasets/d/views/t0-i0-c0-s0-a0/data?refuse HTTP/1.1\r\nHost: x\r\nContent-Length: ${bytes}\r\n\r\n`,
        );
        // All of it, as Python's http.client sends, before anything is read.
        socket.write(Buffer.alloc(bytes), () => {
          let text = '';
          socket.on('data', (c: Buffer) => {
            text += c.toString();
            if (text.includes('refused')) {
              socket.destroy();
              resolve(text);
            }
          });
        });
      });
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
  });
});

describe("bodies that stop coming (Node's 300 s requestTimeout is off: uploads may take longer)", () => {
  /** A server whose handler runs `handle`; a client that sends headers and 10 of 100 bytes, then nothing. */
  async function stalled(path: string, handle: (req: IncomingMessage, res: ServerResponse) => void) {
    const stalling = createServer(handle);
    stalling.requestTimeout = 0;
    await new Promise<void>((resolve) => stalling.listen(0, '127.0.0.1', resolve));
    const started = Date.now();
    const closedAfter = await new Promise<number>((resolve) => {
      const socket = connect((stalling.address() as AddressInfo).port, '127.0.0.1', () => {
        socket.write(`PUT ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789`);
      });
      socket.resume(); // an answer left unread would hold back the socket's own 'close'
      socket.on('close', () => resolve(Date.now() - started));
      socket.on('error', () => undefined);
      setTimeout(() => (socket.destroy(), resolve(-1)), 3000);
    });
    await new Promise<void>((resolve) => stalling.close(() => resolve()));
    return closedAfter;
  }

  it('ends any other request whose body has not arrived by its deadline', async () => {
    const deadline = bodyDeadline(200);
    const after = await stalled('/v1/datasets', (req, res) => deadline(req, res, () => req.resume()));
    expect(after).toBeGreaterThanOrEqual(150);
    expect(after).toBeLessThan(2000);
  });

  it('ends a body refused unread (an upload the auth gate answered 401) at the deadline too', async () => {
    const deadline = bodyDeadline(200);
    const uploadPath = '/v1/datasets/d/views/t0-i0-c0-s0-a0/data';
    // Answered at once, the body never read: Node goes on dropping whatever trickles in.
    const after = await stalled(uploadPath, (req, res) =>
      deadline(req, res, () => {
        res.statusCode = 401;
        res.end();
      }),
    );
    expect(after).toBeGreaterThanOrEqual(150);
    expect(after).toBeLessThan(2000);
  });

  it('gives an accepted upload its idle timeout instead: 300 ms here, past the 200 ms deadline', async () => {
    const deadline = bodyDeadline(200);
    const uploadPath = '/v1/datasets/d/views/t0-i0-c0-s0-a0/data';
    const after = await stalled(uploadPath, (req, res) =>
      deadline(req, res, () => {
        acceptBody(req, res, 300);
        req.resume();
      }),
    );
    expect(after).toBeGreaterThanOrEqual(250);
    expect(after).toBeLessThan(2000);
  });

  it('stops the idle timeout once the body is in: storing and checking it may take longer', async () => {
    const answered = await new Promise<string>((resolve, reject) => {
      const slow = createServer((req, res) => {
        acceptBody(req, res, 200);
        req.resume();
        // The server's own work after the last byte, longer than the client's allowed silence.
        req.on('end', () => setTimeout(() => res.end('stored'), 500));
      });
      slow.listen(0, '127.0.0.1', () => {
        const req = request({
          host: '127.0.0.1',
          port: (slow.address() as AddressInfo).port,
          method: 'PUT',
          path: '/v1/datasets/d/views/t0-i0-c0-s0-a0/data',
        });
        req.on('response', (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => slow.close(() => resolve(text)));
        });
        req.on('error', (error) => slow.close(() => reject(error)));
        req.end(Buffer.alloc(1000));
      });
    });
    expect(answered).toBe('stored');
  });
});
