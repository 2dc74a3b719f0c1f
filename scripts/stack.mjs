#!/usr/bin/env node
// `npm run stack`: api + writer + finalizer + a local S3 (s3rver), against the local Redis.
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { startLocalStack } from './local-stack.mjs';

/** A port from the first of `names` set in the environment, else `fallback`; a bad value ends here. */
function portFromEnv(names, fallback) {
  const name = names.find((n) => (process.env[n] ?? '') !== '');
  if (!name) return fallback;
  const value = process.env[name];
  if (!/^\d{1,5}$/.test(value) || Number(value) < 1 || Number(value) > 65535) {
    process.stderr.write(`stack: ${name}=${value} is not a port (1-65535)\n`);
    process.exit(1);
  }
  return Number(value);
}

const apiPort = portFromEnv(['API_PORT', 'PORT'], 3000);
const s3Port = portFromEnv(['S3_PORT'], 9000);
const workDir = resolve(process.env.STACK_DIR ?? '.stack');
const token = process.env.API_TOKENS ?? `dev-${randomBytes(12).toString('hex')}`;
let stack;
try {
  stack = await startLocalStack({
    workDir,
    token,
    apiPort,
    s3Port,
    prefix: process.env.QUEUE_PREFIX || undefined,
    writers: Number(process.env.WRITERS ?? 1),
    fileRoots: (process.env.FILE_SOURCE_ROOTS ?? process.cwd()).split(','),
    onLog: (role, line) => process.stdout.write(`${role.padEnd(9)} | ${line}\n`),
  });
} catch (error) {
  const taken = error.code === 'EADDRINUSE' ? `port ${s3Port} is taken` : error.message;
  process.stderr.write(`stack: ${taken} (API_PORT=${apiPort}, S3_PORT=${s3Port}: set them to free ports)\n`);
  process.exit(1);
}
process.stdout.write(
  [
    '',
    `bdv-cluster is up:`,
    `  API        ${stack.apiUrl}   (OpenAPI: ${stack.apiUrl}/docs)`,
    `  token      ${stack.token}`,
    `  S3         ${stack.s3Endpoint}   buckets raw, output (key/secret S3RVER/S3RVER)`,
    `  outputs    ${stack.outputDir}`,
    `  try:       curl -H "Authorization: Bearer ${stack.token}" ${stack.apiUrl}/v1/datasets`,
    'Ctrl-C stops everything (writers finish the view in hand first).',
    '',
  ].join('\n'),
);
const stop = async () => {
  await stack.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
