import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalS3 } from '../../../test/support/local-s3.js';
import { tempDir } from '../../../test/support/oracle.js';
import {
  allowedLocalPath,
  claimExportPrefix,
  createS3Client,
  EXPORT_CLAIM,
  headObject,
  listObjects,
  parseSourceUri,
  S3ByteSource,
  StorageError,
  uploadFile,
  uploadStream,
} from '../src/index.js';
import { readExactly } from '@bdv-cluster/stacks';
import { sameEtag } from '../src/s3-objects.js';

const dir = tempDir('bdv-storage-');
let server: S3rver;
let client: S3Client;

beforeAll(async () => {
  const s3 = await startLocalS3(dir.path);
  server = s3.server;
  client = createS3Client(s3.settings);
  await client.send(new CreateBucketCommand({ Bucket: 'raw' }));
});

afterAll(async () => {
  client.destroy();
  await server.close();
  dir.remove();
});

const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

describe('S3 storage against a real S3-protocol server', () => {
  it('reads any range of an object, sequentially and after seeks', async () => {
    const body = bytes(3_000_000, 1);
    await client.send(new PutObjectCommand({ Bucket: 'raw', Key: 'a/stack.raw', Body: body }));
    const source = await S3ByteSource.open(client, 'raw', 'a/stack.raw');
    expect(source.size).toBe(body.length);
    const chunk = new Uint8Array(700_000);
    for (const position of [0, 700_000, 1_400_000, 100, 2_999_000 - 699_000]) {
      await readExactly(source, position, chunk);
      expect(Buffer.compare(chunk, body.subarray(position, position + chunk.length))).toBe(0);
    }
    const tail = new Uint8Array(10);
    expect(await source.read(body.length - 4, tail)).toBe(4);
    await source.close();
  });

  it('never mixes two uploads of a key: a read after the object was written again is CHANGED', async () => {
    const first = bytes(2_000_000, 2);
    await client.send(new PutObjectCommand({ Bucket: 'raw', Key: 'a/rewritten.raw', Body: first }));
    const source = await S3ByteSource.open(client, 'raw', 'a/rewritten.raw');
    const chunk = new Uint8Array(500_000);
    await readExactly(source, 0, chunk);
    expect(Buffer.compare(chunk, first.subarray(0, chunk.length))).toBe(0);
    // Uploaded again (same size, other bytes) while it is read; the next seek opens a new GET.
    await client.send(
      new PutObjectCommand({ Bucket: 'raw', Key: 'a/rewritten.raw', Body: bytes(2_000_000, 3) }),
    );
    const failure = readExactly(source, 1_200_000, chunk);
    await expect(failure).rejects.toBeInstanceOf(StorageError);
    await expect(failure).rejects.toMatchObject({
      code: 'CHANGED',
      message:
        's3://raw/a/rewritten.raw: was written again while it was being read (its ETag changed); give it again once it is complete',
    });
    await source.close();
    // Opened again, it reads the new upload.
    const again = await S3ByteSource.open(client, 'raw', 'a/rewritten.raw');
    await readExactly(again, 1_200_000, chunk);
    expect(Buffer.compare(chunk, bytes(2_000_000, 3).subarray(1_200_000, 1_700_000))).toBe(0);
    await again.close();
  });

  it('takes ETags as equal whatever quotes or weak prefix a server puts on them', () => {
    for (const [a, b] of [
      ['"abc-2"', 'abc-2'],
      ['W/"abc"', '"abc"'],
      [' "abc" ', 'w/abc'],
    ])
      expect(sameEtag(a!, b!), `${a} ${b}`).toBe(true);
    expect(sameEtag('"abc"', '"abd"')).toBe(false);
    expect(sameEtag('"abc-2"', '"abc"')).toBe(false);
  });

  it('names a missing object, and HEADs existing ones', async () => {
    await expect(headObject(client, 'raw', 'nope.npy')).rejects.toThrow(
      /s3:\/\/raw\/nope\.npy: no such object/,
    );
    await expect(S3ByteSource.open(client, 'raw', 'nope.npy')).rejects.toBeInstanceOf(StorageError);
    expect(await headObject(client, 'raw', 'a/stack.raw')).toBe(3_000_000);
  });

  it('lists every page of a large prefix', async () => {
    const keys = Array.from({ length: 2_100 }, (_, i) => `many/obj-${String(i).padStart(5, '0')}`);
    for (let i = 0; i < keys.length; i += 100) {
      await Promise.all(
        keys
          .slice(i, i + 100)
          .map((Key) => client.send(new PutObjectCommand({ Bucket: 'raw', Key, Body: 'x' }))),
      );
    }
    const listed = await listObjects(client, 'raw', 'many/');
    expect(listed.map((o) => o.key).sort()).toEqual(keys);
  });

  it('streams an upload in parts without knowing its size', async () => {
    const body = bytes(40 * 1024 * 1024 + 123, 7);
    const stream = Readable.from(
      (function* () {
        for (let i = 0; i < body.length; i += 1 << 20) yield Buffer.from(body.subarray(i, i + (1 << 20)));
      })(),
    );
    expect(await uploadStream(client, 'raw', 'up/big.bin', stream)).toBe(body.length);
    const source = await S3ByteSource.open(client, 'raw', 'up/big.bin');
    const back = new Uint8Array(body.length);
    await readExactly(source, 0, back);
    expect(Buffer.compare(back, body)).toBe(0);
    await source.close();
  });

  it('copies a file in one PUT up to the limit and through the multipart uploader above it, byte for byte', async () => {
    const body = bytes(6 * 1024 * 1024 + 5, 3);
    const path = join(dir.path, 'upload.h5');
    writeFileSync(path, body);
    // one PUT (below the limit), then the multipart uploader (a limit below the size)
    for (const [key, limit] of [
      ['up/one.h5', 1 << 30],
      ['up/parts.h5', 1 << 20],
    ] as const) {
      expect(await uploadFile(client, 'raw', key, path, 'application/x-hdf5', limit)).toBe(body.length);
      const source = await S3ByteSource.open(client, 'raw', key);
      const back = new Uint8Array(body.length);
      await readExactly(source, 0, back);
      expect(Buffer.compare(back, body), key).toBe(0);
      await source.close();
    }
    await expect(uploadFile(client, 'no-such-bucket', 'x', path)).rejects.toThrow(
      /s3:\/\/no-such-bucket\/x: no such bucket/,
    );
  });
});

describe('export claims', () => {
  const claimOf = async (prefix: string) =>
    (
      await (
        await client.send(new GetObjectCommand({ Bucket: 'raw', Key: `${prefix}${EXPORT_CLAIM}` }))
      ).Body!
    ).transformToString();
  const claim = (owner: string, name: string, adoptUnclaimed = false) => ({
    owner,
    completeKey: `${name}/${name}.xml`,
    adoptUnclaimed,
  });

  it('claims an empty prefix, lets its owner export again, and refuses another over a complete export', async () => {
    await claimExportPrefix(client, 'raw', 'run2/', claim('dataset-a', 'run2'));
    expect(await claimOf('run2/')).toBe('dataset-a');
    await client.send(new PutObjectCommand({ Bucket: 'raw', Key: 'run2/run2.xml', Body: '<SpimData/>' }));
    await claimExportPrefix(client, 'raw', 'run2/', claim('dataset-a', 'run2'));
    await expect(claimExportPrefix(client, 'raw', 'run2/', claim('dataset-b', 'run2'))).rejects.toMatchObject(
      {
        code: 'CONFLICT',
        message: expect.stringMatching(
          /s3:\/\/raw\/run2\/ holds the export of another dataset \(dataset-a\): not overwritten/,
        ),
      },
    );
    expect(await claimOf('run2/')).toBe('dataset-a');
  });

  it("takes over another's claim whose export never completed (no XML: failed, or cancelled mid-way)", async () => {
    await claimExportPrefix(client, 'raw', 'half/', claim('dataset-e', 'half'));
    await client.send(new PutObjectCommand({ Bucket: 'raw', Key: 'half/half.h5', Body: bytes(10, 4) }));
    await claimExportPrefix(client, 'raw', 'half/', claim('dataset-f', 'half'));
    expect(await claimOf('half/')).toBe('dataset-f');
  });

  it('refuses a prefix holding objects nobody claimed, unless its owner exported there before', async () => {
    await client.send(new PutObjectCommand({ Bucket: 'raw', Key: 'kept/kept.h5', Body: bytes(10, 3) }));
    await expect(claimExportPrefix(client, 'raw', 'kept/', claim('dataset-c', 'kept'))).rejects.toMatchObject(
      {
        code: 'CONFLICT',
        message: expect.stringMatching(/already holds kept\.h5, which no dataset of this cluster exported/),
      },
    );
    await expect(claimOf('kept/')).rejects.toThrow();
    await claimExportPrefix(client, 'raw', 'kept/', claim('dataset-c', 'kept', true));
    expect(await claimOf('kept/')).toBe('dataset-c');
    // A prefix is a folder: "kept-more/" is not "kept/".
    await claimExportPrefix(client, 'raw', 'kept-more/', claim('dataset-d', 'kept-more'));
  });

  it('takes a missing bucket for an error, not for a free prefix', async () => {
    await expect(
      claimExportPrefix(client, 'no-such-bucket', 'x/', claim('dataset-h', 'x')),
    ).rejects.toMatchObject({
      code: 'TRANSIENT',
      message: expect.stringMatching(
        /s3:\/\/no-such-bucket\/x\/\.bdv-export: could not read the export claim/,
      ),
    });
  });

  it('names the permissions when the store refuses (not retried as an outage)', async () => {
    // A store that answers every request as S3 does credentials without the permissions.
    const refusing = createServer((_req, res) => {
      res.writeHead(403, { 'content-type': 'application/xml' });
      res.end(
        '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>',
      );
    });
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    const denied = createS3Client({
      endpoint: `http://127.0.0.1:${(refusing.address() as AddressInfo).port}`,
      region: 'us-east-1',
      accessKeyId: 'write-only',
      secretAccessKey: 'write-only',
      forcePathStyle: true,
    });
    try {
      await expect(
        claimExportPrefix(denied, 'out', 'locked/', claim('dataset-g', 'locked')),
      ).rejects.toMatchObject({
        code: 'DENIED',
        message: expect.stringMatching(
          /s3:\/\/out\/locked\/\.bdv-export: access denied, could not read the export claim .*s3:GetObject, s3:ListBucket, s3:PutObject and s3:DeleteObject/,
        ),
      });
    } finally {
      denied.destroy();
      refusing.close();
    }
  });
});

describe('source URIs', () => {
  it('accepts s3:// and file:// under the allowed roots only (no .., no symlink escape)', () => {
    const root = join(dir.path, 'allowed');
    mkdirSync(join(root, 'sub'), { recursive: true });
    writeFileSync(join(root, 'sub', 'x.npy'), '');
    symlinkSync('/etc', join(root, 'escape'));
    expect(parseSourceUri('s3://raw/a/b.npy', [])).toMatchObject({
      kind: 's3',
      bucket: 'raw',
      key: 'a/b.npy',
    });
    expect(parseSourceUri(`file://${root}/sub/x.npy`, [root])).toMatchObject({
      kind: 'file',
      path: join(root, 'sub', 'x.npy'),
    });
    expect(() => allowedLocalPath(`file://${root}/../outside.npy`, [root])).toThrow(
      /outside the allowed folders/,
    );
    expect(() => allowedLocalPath(`file://${root}/escape/passwd`, [root])).toThrow(
      /outside the allowed folders/,
    );
    expect(() => allowedLocalPath(`file://${root}/sub/x.npy`, [])).toThrow(/FILE_SOURCE_ROOTS is empty/);
    expect(() => parseSourceUri('http://example.org/x.npy', [root])).toThrow(
      /expected an s3:\/\/ or file:\/\/ URI/,
    );
  });
});
