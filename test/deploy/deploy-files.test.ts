import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEV_API_TOKEN, judgeTokens } from '../../apps/api/src/common/dev-token.js';
import { tempDir } from '../support/oracle.js';

const repo = join(import.meta.dirname, '..', '..');
const validator = join(repo, 'scripts', 'validate-deploy.mjs');
const dir = tempDir('bdv-deploy-');
afterAll(() => dir.remove());

function validate(root: string, ...checks: string[]) {
  const r = spawnSync(process.execPath, [validator, '--root', root, ...checks], { encoding: 'utf8' });
  return { status: r.status, output: r.stdout + r.stderr };
}

/** A copy of the deployment files with one edit, to show the check fails on a broken file. */
function brokenCopy(name: string, file: string, edit: (text: string) => string): string {
  const root = join(dir.path, name);
  for (const entry of [
    'docker-compose.yml',
    '.env.example',
    'k8s',
    'Dockerfile',
    'apps/api/src/common/dev-token.ts',
  ])
    cpSync(join(repo, entry), join(root, entry), { recursive: true });
  writeFileSync(join(root, file), edit(readFileSync(join(root, file), 'utf8')));
  return root;
}

describe('deployment files (checked without a Docker engine)', () => {
  it('compose, every kustomization and the Dockerfile are valid', () => {
    const r = validate(repo);
    expect(r.output).toContain('compose: docker-compose.yml is valid without a .env');
    expect(r.output).toContain('compose: docker-compose.yml is valid with .env.example');
    expect(r.output).toMatch(/k8s: k8s\/overlays\/production renders \d+ objects/);
    expect(r.output).toMatch(/docker: 2 stages, \d+ COPY sources checked/);
    expect(r.status, r.output).toBe(0);
  });

  it('fails on a compose file with an unknown service key', () => {
    const root = brokenCopy('compose', 'docker-compose.yml', (t) =>
      t.replace("    command: ['writer']", "    command: ['writer']\n    replica_count: 4"),
    );
    const r = validate(root, 'compose');
    expect(r.status).toBe(1);
    expect(r.output).toMatch(/invalid: compose \(no \.env\): .*replica_count/s);
  });

  it('fails on a manifest that breaks the Kubernetes schema', () => {
    const root = brokenCopy('k8s', 'k8s/base/writer.yaml', (t) =>
      t.replace('  replicas: 2', '  replicas: two'),
    );
    const r = validate(root, 'k8s');
    expect(r.status).toBe(1);
    expect(r.output).toMatch(/invalid: k8s k8s\/base: Deployment\/bdv-writer: .*replicas/);
  });

  it('fails on a Dockerfile that copies a path the repository lacks', () => {
    const root = brokenCopy('docker', 'Dockerfile', (t) =>
      t.replace('COPY libs libs', 'COPY libs libs\nCOPY assets assets'),
    );
    const r = validate(root, 'docker');
    expect(r.status).toBe(1);
    expect(r.output).toMatch(/invalid: docker: line \d+: COPY assets: not in the repository/);
  });

  it('fails on a Dockerfile that leaves out a workspace (npm ci or an import would fail in the image)', () => {
    const root = brokenCopy('docker-workspace', 'Dockerfile', (t) =>
      t
        .split('\n')
        .filter((line) => !line.includes('libs/convert'))
        .join('\n'),
    );
    for (const ws of ['libs/bdv', 'libs/convert', 'apps/cli'])
      cpSync(join(repo, ws, 'package.json'), join(root, ws, 'package.json'));
    const r = validate(root, 'docker');
    expect(r.status).toBe(1);
    expect(r.output).toContain('invalid: docker: the build stage does not copy libs/convert/package.json');
    expect(r.output).toContain('invalid: docker: the runtime stage does not copy libs/convert/dist');
    expect(r.output).not.toContain('libs/bdv/');
  });

  it('fails when a fresh clone cannot start: API_TOKENS demanded again', () => {
    const root = brokenCopy('compose-token', 'docker-compose.yml', (t) =>
      t.replace(/API_TOKENS: \$\{API_TOKENS:-[^}]+\}/, 'API_TOKENS: ${API_TOKENS:?set API_TOKENS}'),
    );
    const r = validate(root, 'compose');
    expect(r.status).toBe(1);
    expect(r.output).toMatch(/invalid: compose \(no \.env\): .*API_TOKENS/s);
  });

  it('fails when a port is published on every address by default', () => {
    const root = brokenCopy('compose-bind', 'docker-compose.yml', (t) =>
      t.replace("'${API_BIND:-127.0.0.1}:${API_PORT:-3000}:3000'", "'${API_PORT:-3000}:3000'"),
    );
    const r = validate(root, 'compose');
    expect(r.status).toBe(1);
    expect(r.output).toMatch(/invalid: compose \(no \.env\): api publishes .* on "every address"/);
  });

  it('fails when the production example would run on the development token', () => {
    const root = brokenCopy('compose-prod', '.env.example', (t) =>
      t.replace(/^BDV_DEV_TOKEN=0$/m, 'BDV_DEV_TOKEN=1'),
    );
    const r = validate(root, 'compose');
    expect(r.status).toBe(1);
    expect(r.output).toMatch(/invalid: compose \(\.env\.example\): api BDV_DEV_TOKEN is 1, expected 0/);
  });

  it("compose defaults to the API's own development token", () => {
    const compose = readFileSync(join(repo, 'docker-compose.yml'), 'utf8');
    expect(compose).toContain(`API_TOKENS: \${API_TOKENS:-${DEV_API_TOKEN}}`);
    expect(compose).toContain('BDV_DEV_TOKEN: ${BDV_DEV_TOKEN:-1}');
  });

  it('k8s keeps needing a real Secret: its example token is refused, no object enables the dev token', () => {
    const docs = readFileSync(join(repo, 'k8s/base/config.yaml'), 'utf8')
      .split(/^---$/m)
      .map((d) => parse(d) as { kind: string; stringData?: Record<string, string> });
    const secret = docs.find((d) => d.kind === 'Secret')!;
    const tokens = secret.stringData!.API_TOKENS!.split(',');
    expect(judgeTokens(tokens, false).problem).toMatch(/API_TOKENS: holds the example token/);
    expect(judgeTokens(tokens, true).problem).toMatch(/API_TOKENS: holds the example token/);

    const root = brokenCopy('k8s-dev', 'k8s/base/config.yaml', (t) =>
      t.replace('  LOG_LEVEL: info\n', "  LOG_LEVEL: info\n  BDV_DEV_TOKEN: '1'\n"),
    );
    const r = validate(root, 'k8s');
    expect(r.status).toBe(1);
    expect(r.output).toMatch(/invalid: k8s k8s\/base: ConfigMap\/bdv-config: enables the development token/);
  });
});
