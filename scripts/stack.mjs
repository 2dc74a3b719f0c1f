#!/usr/bin/env node
// `npm run stack`: api + writer + finalizer + a local S3 (s3rver), against the local Redis.
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { startLocalStack } from './local-stack.mjs';

const workDir = resolve(process.env.STACK_DIR ?? '.stack');
const token = process.env.API_TOKENS ?? `dev-${randomBytes(12).toString('hex')}`;
const stack = await startLocalStack({
  workDir,
  token,
  writers: Number(process.env.WRITERS ?? 1),
  fileRoots: (process.env.FILE_SOURCE_ROOTS ?? process.cwd()).split(','),
  onLog: (role, line) => process.stdout.write(`${role.padEnd(9)} | ${line}\n`),
});
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
