import { npyHeader } from '@bdv-cluster/stacks';
import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { declaredUploadBound, limitedBody, UploadLimit } from '../src/datasets/upload-limit.js';

// The upload bound, as a stream: what passes, what is refused and when, in any chunking.

type Source = Parameters<typeof declaredUploadBound>[0];
const source = (extra: Partial<Source> = {}): Source =>
  ({ uri: 's3://raw/x', format: 'npy', ...extra }) as Source;

/** Feeds `body` in chunks of `size` bytes; how many bytes came out, and the refusal if any. */
async function through(limit: UploadLimit, body: Buffer, size = 64 * 1024) {
  let out = 0;
  limit.on('data', (chunk: Buffer) => (out += chunk.length));
  const ended = new Promise<Error | undefined>((resolve) => {
    limit.on('end', () => resolve(undefined));
    limit.on('error', resolve);
  });
  for (let at = 0; at < body.length && !limit.destroyed; at += size) {
    limit.write(body.subarray(at, at + size));
    await new Promise((resolve) => setImmediate(resolve));
  }
  if (!limit.destroyed) limit.end();
  const error = await ended;
  return { out, status: limit.refusal?.getStatus(), message: limit.refusal?.message ?? error?.message };
}

/** A .npy of `descr` and `shape` as text (the writer's header, any shape), then `data` bytes. */
function npyWith(descr: string, shape: string, data: number, version = 2): Buffer {
  const text = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`.padEnd(118, ' ') + '\n';
  const prefix = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const length = Buffer.alloc(version === 1 ? 2 : 4);
  if (version === 1) length.writeUInt16LE(text.length);
  else length.writeUInt32LE(text.length);
  return Buffer.concat([prefix, length, Buffer.from(text, 'latin1'), Buffer.alloc(data)]);
}

describe('the upload bound of a .npy body: its own header', () => {
  it('passes exactly what the header says, in any chunking and header version, and refuses one byte more', async () => {
    for (const version of [1, 2, 3])
      for (const size of [1, 7, 64 * 1024]) {
        const body = npyWith('<u2', '(2, 8, 8)', 256, version);
        const exact = await through(new UploadLimit(source()), body, size);
        expect(exact, `v${version}, chunks of ${size}`).toMatchObject({
          out: body.length,
          status: undefined,
        });
        const over = await through(new UploadLimit(source()), Buffer.concat([body, Buffer.alloc(1)]), size);
        expect(over.status).toBe(413);
        expect(over.message).toBe(
          `body: more than the ${body.length} bytes its .npy header (2x8x8 uint16) says it holds`,
        );
      }
    const written = Buffer.concat([npyHeader([2, 8, 8]), Buffer.alloc(256)]);
    expect((await through(new UploadLimit(source()), written)).out).toBe(written.length);
  });

  it('bounds uint8 by one byte a sample where it is declared', async () => {
    const body = npyWith('|u1', '(2, 8, 8)', 128);
    expect(await through(new UploadLimit(source({ dtype: 'uint8' })), body)).toMatchObject({
      out: body.length,
    });
    const over = await through(
      new UploadLimit(source({ dtype: 'uint8' })),
      Buffer.concat([body, Buffer.alloc(2)]),
    );
    expect(over.status).toBe(413);
  });

  it('refuses at once, as a 400, a header bdv would refuse: never trusting its shape or dtype for the bound', async () => {
    const claim = Buffer.alloc(12);
    Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0]).copy(claim);
    claim.writeUInt32LE(700 * 1024 * 1024, 8);
    const cases: [Buffer, RegExp][] = [
      [claim, /header of 734003200 bytes/],
      [
        npyWith('<u2', '(9999999999999999, 9999999999999999, 9999999999999999)', 0),
        /larger than a stack bdv writes/,
      ],
      [npyWith('<u9999999999999999', '(1,)', 0), /dtype '<u9999999999999999' is not uint16/],
      [npyWith('<U100', '(1000, 1000, 1000)', 0), /dtype '<U100' is not uint16/],
      [npyWith('<u2', '(2, 8, 8)', 0), /shape \(z,y,x\) is \(2, 8, 8\), expected \(2, 8, 9\)/],
    ];
    for (const [head, why] of cases) {
      const tail = Buffer.alloc(4 * 1024 * 1024);
      const declared = why.source.includes('expected') ? { shapeZyx: [2, 8, 9] } : {};
      const r = await through(
        new UploadLimit(source(declared as Partial<Source>)),
        Buffer.concat([head, tail]),
      );
      expect(r.status, why.source).toBe(400);
      expect(r.message).toMatch(why);
      expect(r.out).toBeLessThan(128 * 1024);
    }
  });

  it('holds at most the header while it waits for it, and joins it once or twice, not once a byte', async () => {
    const body = npyWith('<u2', '(2, 8, 8)', 256);
    const started = process.cpuUsage();
    expect((await through(new UploadLimit(source()), body, 1)).out).toBe(body.length);
    expect(process.cpuUsage(started).user).toBeLessThan(2e6);
  });
});

describe('a TIFF uploaded without ?format=tiff (read as .npy)', () => {
  it('is refused as the TIFF it is, naming ?format=tiff, before anything past its first bytes', async () => {
    const starts = {
      'II*\\0': [0x49, 0x49, 0x2a, 0x00],
      'MM\\0*': [0x4d, 0x4d, 0x00, 0x2a],
      'II+\\0, a BigTIFF': [0x49, 0x49, 0x2b, 0x00],
      'MM\\0+, a BigTIFF': [0x4d, 0x4d, 0x00, 0x2b],
    };
    for (const [shown, magic] of Object.entries(starts)) {
      const body = Buffer.concat([Buffer.from(magic), Buffer.alloc(4096)]);
      const refused = await through(new UploadLimit(source()), body, 7);
      expect(refused.status, shown).toBe(400);
      expect(refused.message).toBe(
        `body: the upload is not a .npy file: its bytes are a TIFF (they start with ${shown}); upload it with ?format=tiff (without ?format an upload is read as .npy)`,
      );
      expect(refused.out).toBeLessThan(12);
    }
    // anything else that is no .npy keeps the .npy reader's own reason
    const other = await through(new UploadLimit(source()), Buffer.alloc(4096, 1));
    expect(other).toMatchObject({ status: 400, message: expect.stringMatching(/missing \\x93NUMPY magic/) });
  });
});

describe('the bound of raw and TIFF bodies, as declared', () => {
  it("is a raw body's header and samples exactly", () => {
    expect(declaredUploadBound(source({ format: 'raw', shapeZyx: [2, 8, 8], headerBytes: 64 }))).toBe(
      64 + 256,
    );
    expect(declaredUploadBound(source({ format: 'raw', shapeZyx: [2, 8, 8], dtype: 'uint8' }))).toBe(128);
  });

  it('leaves a TIFF with one strip per row room for its strip table (tifffile rowsperstrip=1, BigTIFF)', () => {
    // 70 pages of 8192 x 64 uint16 written so: 79,152,752 bytes.
    expect(declaredUploadBound(source({ format: 'tiff', shapeZyx: [70, 8192, 64] }))).toBeGreaterThan(
      79_152_752,
    );
  });
});

describe("the operator's UPLOAD_MAX_BYTES", () => {
  const MAX = 4096;
  const past = `UPLOAD_MAX_BYTES (${MAX}) allows an upload to hold; give a larger stack as an s3:// or file:// source`;

  it('bounds a TIFF without a declared shape (else only the largest stack bounds it: 2 TiB)', async () => {
    const tiff = source({ format: 'tiff' });
    expect(declaredUploadBound(tiff)).toBeGreaterThan(2 ** 40);
    expect(UploadLimit.refusedUpFront(tiff, MAX)).toBeUndefined(); // its size is in its bytes only
    expect(await through(new UploadLimit(tiff, MAX), Buffer.alloc(MAX))).toMatchObject({ out: MAX });
    const over = await through(new UploadLimit(tiff, MAX), Buffer.alloc(MAX + 1), 1000);
    expect(over).toMatchObject({ status: 413, message: `body: more than the ${MAX} bytes ${past}` });
    expect(over.out).toBeLessThanOrEqual(MAX);
  });

  it('bounds a .npy whose header is larger than the bound, once the header is read', async () => {
    const body = npyWith('<u2', '(2, 64, 64)', 2 * 64 * 64 * 2);
    const over = await through(new UploadLimit(source(), MAX), body, 1000);
    expect(over).toMatchObject({ status: 413, message: `body: more than the ${MAX} bytes ${past}` });
    const small = npyWith('<u2', '(2, 8, 8)', 256);
    expect(await through(new UploadLimit(source(), MAX), small)).toMatchObject({ out: small.length });
  });

  it('refuses up front, before any byte is read, what the declaration alone says is larger', () => {
    const raw = source({ format: 'raw', shapeZyx: [2, 64, 64] }); // 16 KiB exactly
    expect(UploadLimit.refusedUpFront(raw, MAX)?.getStatus()).toBe(413);
    expect(UploadLimit.refusedUpFront(raw, MAX)?.message).toBe(
      `body: its declared format and shape need 16384 bytes, more than ${past}`,
    );
    expect(UploadLimit.refusedUpFront(raw, 16384)).toBeUndefined();
    // Not a TIFF: compressed, it may be far smaller than its samples (a 4x1024x1024 zlib TIFF of
    // 12 KB was refused as needing 8 MiB); its bytes bound it as they come.
    expect(
      UploadLimit.refusedUpFront(source({ format: 'tiff', shapeZyx: [2, 64, 64] }), MAX),
    ).toBeUndefined();
  });
});

describe('a client that goes away mid-body', () => {
  it("fails the limited body (the store's upload would otherwise wait for it for ever)", async () => {
    let outcome: Promise<string> | undefined;
    const server = createServer((req: IncomingMessage) => {
      const limited = limitedBody(
        req as never,
        new UploadLimit(source({ format: 'raw', shapeZyx: [64, 1024, 1024] })),
      );
      outcome = (async () => {
        try {
          for await (const _ of limited) void _;
          return 'ended';
        } catch (error) {
          return `failed: ${(error as Error).message}`;
        }
      })();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const client = request({ port, method: 'PUT', path: '/', headers: { 'content-length': 1024 * 1024 } });
    client.on('error', () => undefined);
    client.write(Buffer.alloc(64 * 1024));
    await new Promise((resolve) => setTimeout(resolve, 100));
    client.destroy();
    for (let i = 0; i < 100 && !outcome; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    const result = await Promise.race([
      outcome!,
      new Promise((resolve) => setTimeout(() => resolve('hung'), 3000)),
    ]);
    server.close();
    expect(result).toMatch(/^failed: /);
  });
});
