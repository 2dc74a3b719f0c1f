import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEV_API_TOKEN } from '../../apps/api/src/common/dev-token.js';
import { ApiClient } from '../support/api-client.js';
import { tempDir } from '../support/oracle.js';
import { startTestCluster, type TestCluster } from '../support/test-cluster.js';

// What `docker compose up` on a fresh clone gives the API, run for real (no Docker engine here:
// the compose file is rendered by Compose itself, `config`, with no .env and a clean environment,
// and the API and workers are started with the token settings it renders).

const repo = join(import.meta.dirname, '..', '..');
const dir = tempDir('bdv-e2e-compose-');
let cluster: TestCluster;
let rendered: Record<string, string>;

function composeApiEnvironment(): Record<string, string> {
  const scratch = mkdtempSync(join(tmpdir(), 'bdv-compose-env-'));
  try {
    const empty = join(scratch, 'empty.env');
    writeFileSync(empty, '');
    const compose =
      spawnSync('docker', ['compose', 'version']).status === 0 ? ['docker', 'compose'] : ['docker-compose'];
    const r = spawnSync(
      compose[0]!,
      [...compose.slice(1), '--env-file', empty, '-f', 'docker-compose.yml', 'config'],
      {
        cwd: repo,
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
      },
    );
    if (r.status !== 0) throw new Error(`compose config failed: ${r.stderr}`);
    return (parse(r.stdout) as { services: { api: { environment: Record<string, string> } } }).services.api
      .environment;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

beforeAll(async () => {
  rendered = composeApiEnvironment();
  cluster = await startTestCluster(dir.path, 1, {
    API_TOKENS: rendered.API_TOKENS!,
    BDV_DEV_TOKEN: String(rendered.BDV_DEV_TOKEN),
  });
});

afterAll(async () => {
  await cluster?.stop();
  dir.remove();
});

describe('docker compose up on a fresh clone (no .env)', () => {
  it('starts the API on the development token, saying so in its start-up log', async () => {
    expect(rendered.API_TOKENS).toBe(DEV_API_TOKEN);
    expect(String(rendered.BDV_DEV_TOKEN)).toBe('1');
    const warning = cluster.logs.find((l) => l.role === 'api' && l.line.includes('DEVELOPMENT token'));
    expect(warning, 'the start-up warning').toBeDefined();
    expect(JSON.parse(warning!.line)).toMatchObject({
      level: 40,
      msg: expect.stringContaining(DEV_API_TOKEN),
    });
  });

  it('takes requests with the development token, and refuses others', async () => {
    const dev = new ApiClient(cluster.stack.apiUrl, DEV_API_TOKEN);
    const created = await dev.post('/v1/datasets', { name: 'e2e-dev-setup' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(
      (await new ApiClient(cluster.stack.apiUrl, 'some-other-token-0123456789').get('/v1/datasets')).status,
    ).toBe(401);
  });
});
