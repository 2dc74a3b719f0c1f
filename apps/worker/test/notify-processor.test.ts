import { verifyNotification, type NotifyJob } from '@bdv-cluster/pipeline';
import { UnrecoverableError } from 'bullmq';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { notifyProcessor, type NotifyJobLike } from '../src/notify/notify-processor.js';

// The notifier against a real local HTTP receiver: what it sends, how it signs, when it retries.

const log = pino({ level: 'silent' });
const SECRET = 'a-secret-of-enough-length';
interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}
const received: Received[] = [];
/** What the receiver answers next (status; Location for a redirect). */
let answer = { status: 200, location: undefined as string | undefined };
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body });
      res.writeHead(answer.status, answer.location ? { location: answer.location } : {});
      res.end('receiver says hi');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function deps(allowList: string[], secret?: string) {
  const noteDelivery = vi.fn(async () => undefined);
  return {
    d: { store: { notifySecret: async () => secret, noteDelivery }, allowList, log, timeoutMs: 3000 },
    noteDelivery,
  };
}
const job = (url: string, attemptsMade = 0): NotifyJobLike => ({
  id: 'notify.d1.1.complete',
  data: {
    datasetId: 'd1',
    generation: 1,
    status: 'complete',
    url,
    body: '{"id":"d1","status":"complete"}',
  } as NotifyJob,
  attemptsMade,
  opts: { attempts: 10 },
});

describe('notifications to a local receiver', () => {
  it('POSTs the status JSON, signed with HMAC-SHA256 over timestamp.body, and notes the delivery', async () => {
    received.length = 0;
    answer = { status: 204, location: undefined };
    const { d, noteDelivery } = deps([`127.0.0.1:${new URL(base).port}`], SECRET);
    await expect(notifyProcessor(d)(job(`${base}/hook?x=1`))).resolves.toBe('delivered');
    expect(received).toHaveLength(1);
    const r = received[0]!;
    expect(r.path).toBe('/hook?x=1');
    expect(r.body).toBe('{"id":"d1","status":"complete"}');
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.headers['x-bdv-event']).toBe('dataset.complete');
    expect(r.headers['x-bdv-delivery']).toBe('notify.d1.1.complete');
    expect(
      verifyNotification(
        SECRET,
        {
          timestamp: r.headers['x-bdv-timestamp'] as string,
          signature: r.headers['x-bdv-signature'] as string,
        },
        r.body,
      ),
    ).toBe(true);
    expect(noteDelivery).toHaveBeenCalledWith('d1', expect.stringMatching(/^delivered: HTTP 204/));
  });

  it('sends no signature without a secret', async () => {
    received.length = 0;
    answer = { status: 200, location: undefined };
    const { d } = deps(['127.0.0.1']);
    await notifyProcessor(d)(job(`${base}/plain`));
    expect(received[0]!.headers['x-bdv-signature']).toBeUndefined();
    expect(received[0]!.headers['x-bdv-timestamp']).toBeUndefined();
  });

  it('retries a 5xx (BullMQ backs off), fails a 4xx at once, never follows a redirect', async () => {
    const { d, noteDelivery } = deps(['127.0.0.1']);
    answer = { status: 503, location: undefined };
    const retried = await notifyProcessor(d)(job(`${base}/x`, 2)).catch((e: unknown) => e);
    expect(retried).toBeInstanceOf(Error);
    expect(retried).not.toBeInstanceOf(UnrecoverableError);
    expect(noteDelivery).toHaveBeenLastCalledWith(
      'd1',
      expect.stringMatching(/^failed \(attempt 3\/10\): HTTP 503/),
    );

    answer = { status: 410, location: undefined };
    await expect(notifyProcessor(d)(job(`${base}/x`))).rejects.toBeInstanceOf(UnrecoverableError);

    received.length = 0;
    answer = { status: 302, location: 'http://169.254.169.254/latest/meta-data' };
    const redirected = await notifyProcessor(d)(job(`${base}/x`)).catch((e: unknown) => e);
    expect(redirected).toBeInstanceOf(UnrecoverableError);
    expect((redirected as Error).message).toMatch(/HTTP 302.*redirects are not followed/);
    expect(received).toHaveLength(1); // the redirect target was never asked
  });

  it('refuses a target the allow-list does not name, and a name that resolves to an unlisted private address', async () => {
    received.length = 0;
    const { d } = deps(['hooks.example.org']);
    await expect(notifyProcessor(d)(job(`${base}/x`))).rejects.toThrow(/not in NOTIFY_ALLOWED_HOSTS/);
    // `localhost` allowed by name, but it resolves to 127.0.0.1, which no entry lists (rebinding)
    const port = new URL(base).port;
    const { d: byName, noteDelivery } = deps(['localhost']);
    const refused = await notifyProcessor(byName)(job(`http://localhost:${port}/x`)).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(UnrecoverableError);
    expect((refused as Error).message).toMatch(/private IP address.*not in NOTIFY_ALLOWED_HOSTS/);
    expect(noteDelivery).toHaveBeenCalledWith('d1', expect.stringMatching(/^refused: /));
    expect(received).toHaveLength(0);
    // listed by address too: allowed
    answer = { status: 200, location: undefined };
    const { d: both } = deps(['localhost', '127.0.0.1']);
    await expect(notifyProcessor(both)(job(`http://localhost:${port}/x`))).resolves.toBe('delivered');
  });

  it('retries when nobody answers (connection refused)', async () => {
    const { d } = deps(['127.0.0.1']);
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const error = await notifyProcessor(d)(job(`http://127.0.0.1:${port}/x`)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(UnrecoverableError);
  });
});
