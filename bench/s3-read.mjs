#!/usr/bin/env node
// Reads S3 objects as the cluster's writers do — in a process of its own, through the AWS SDK,
// `concurrency` at once — and drops the bytes: what the S3 server and the client side of the
// reads cost with nothing of ours in between.
//   node bench/s3-read.mjs ENDPOINT BUCKET CONCURRENCY KEY...   (S3RVER's credentials)
// Prints "ready" once the SDK is loaded and has made one request (a writer pays that once per
// process, not per byte), reads when a line arrives on stdin, then prints
// {seconds, cpuSeconds, bytes} as JSON: the reads alone.
import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { once } from 'node:events';

const [endpoint, bucket, concurrency, ...keys] = process.argv.slice(2);
const s3 = new S3Client({
  endpoint,
  region: 'us-east-1',
  forcePathStyle: true,
  credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
});
await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: keys[0] }));
console.log('ready');
await once(process.stdin, 'data');

const started = performance.now();
const cpuBefore = process.cpuUsage();
let bytes = 0;
const next = [...keys];
const reader = async () => {
  for (let key = next.shift(); key !== undefined; key = next.shift()) {
    const { Body } = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    for await (const chunk of Body) bytes += chunk.length;
  }
};
await Promise.all(Array.from({ length: Number(concurrency) }, reader));
const cpu = process.cpuUsage(cpuBefore);
s3.destroy();
console.log(
  JSON.stringify({
    seconds: (performance.now() - started) / 1000,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    bytes,
  }),
);
process.stdin.destroy();
