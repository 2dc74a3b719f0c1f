import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../src/api/api-client.js';
import { CliError } from '../src/cli-error.js';

// The API sends long lists as it reads them (apps/api/src/common/json-array-reply.ts): a real
// server here starts such an answer and cuts the connection, as the API does when Redis fails
// mid-list; the CLI must say the answer was cut, not print a parser's word.

let server: Server;
let url = '';
beforeAll(async () => {
  server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    res.write('[{"viewKey":"t0-i0-c0-s0-a0","state":"failed"},');
    setTimeout(() => res.destroy(), 20);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((r) => server.close(r)));

describe('an answer cut mid-way', () => {
  it('is a CliError saying so, naming the request', async () => {
    const api = new ApiClient({ url, token: 'x'.repeat(16) });
    const error = await api.json('GET', '/v1/datasets/d1/views?state=failed').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    expect((error as Error).message).toMatch(
      /^GET \/v1\/datasets\/d1\/views\?state=failed: the answer was cut short .*ask again$/,
    );
  });
});
