import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
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
  for (const entry of ['docker-compose.yml', '.env.example', 'k8s', 'Dockerfile'])
    cpSync(join(repo, entry), join(root, entry), { recursive: true });
  writeFileSync(join(root, file), edit(readFileSync(join(root, file), 'utf8')));
  return root;
}

describe('deployment files (checked without a Docker engine)', () => {
  it('compose, every kustomization and the Dockerfile are valid', () => {
    const r = validate(repo);
    expect(r.output).toContain('compose: docker-compose.yml is valid');
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
    expect(r.output).toMatch(/invalid: compose: .*replica_count/s);
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
});
