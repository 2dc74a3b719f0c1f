#!/usr/bin/env node
// Validates the deployment files without a Docker engine or a cluster:
//   compose  — `docker compose config` (plugin) or Debian's `docker-compose config`: a real Compose
//              implementation parses and validates the file against the Compose schema, twice: as a
//              fresh clone has it (no .env: the development token, ports on 127.0.0.1) and with
//              .env.example (production: BDV_DEV_TOKEN=0);
//   k8s      — every kustomization rendered by `kubectl kustomize`, every object validated against
//              the Kubernetes OpenAPI schemas (npm kubernetes-models, + KEDA / Prometheus Operator CRDs);
//              none may enable the development token (k8s needs a real Secret);
//   docker   — the Dockerfile parsed (dockerfile-ast): stages, and that every COPY source exists.
// Usage: validate-deploy.mjs [--root DIR] [compose|k8s|docker ...]   Exit code 1 on any problem.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DockerfileParser } from 'dockerfile-ast';
import { parse, parseAllDocuments } from 'yaml';

const args = process.argv.slice(2);
const rootIndex = args.indexOf('--root');
const root = resolve(
  rootIndex >= 0 ? args.splice(rootIndex, 2)[1] : join(dirname(fileURLToPath(import.meta.url)), '..'),
);
const checks = args.length > 0 ? args : ['compose', 'k8s', 'docker'];
const problems = [];

function run(cmd, cmdArgs, options = {}) {
  return spawnSync(cmd, cmdArgs, { encoding: 'utf8', cwd: root, ...options });
}

function composeCommand() {
  if (run('docker', ['compose', 'version']).status === 0) return ['docker', ['compose']];
  if (run('docker-compose', ['version']).status === 0) return ['docker-compose', []];
  return undefined;
}

/** The development token as the API defines it (apps/api/src/common/dev-token.ts), if that file is here. */
function devToken() {
  const file = join(root, 'apps/api/src/common/dev-token.ts');
  if (!existsSync(file)) return undefined;
  return /DEV_API_TOKEN = '([^']+)'/.exec(readFileSync(file, 'utf8'))?.[1];
}

/** Host address of a published port, in the long (compose v2) or the short (v1) form. */
function hostIpOf(port) {
  if (typeof port === 'object') return port.host_ip ?? '';
  const parts = String(port).split(':');
  return parts.length >= 3 ? parts.slice(0, -2).join(':') : '';
}

/**
 * `config` of docker-compose.yml with only `envFile` (a clean environment: the caller's variables
 * must not fill in what the file leaves unset). Returns the rendered services, or a problem.
 */
function renderCompose(cmd, pre, envFile, label) {
  const r = run(cmd, [...pre, '--env-file', envFile, '-f', 'docker-compose.yml', 'config'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
  });
  if (r.status !== 0) {
    problems.push(`compose (${label}): ${(r.stderr || r.stdout).trim()}`);
    return undefined;
  }
  return parse(r.stdout)?.services ?? {};
}

/** What a rendered setup must be: every published port on `bind`, the API's token settings. */
function checkRendered(services, label, expected) {
  for (const [name, service] of Object.entries(services)) {
    for (const port of service.ports ?? []) {
      const ip = hostIpOf(port);
      if (ip !== expected.bind)
        problems.push(
          `compose (${label}): ${name} publishes ${JSON.stringify(port)} on "${ip || 'every address'}", expected ${expected.bind}`,
        );
    }
  }
  const env = services.api?.environment ?? {};
  if (String(env.BDV_DEV_TOKEN) !== expected.devFlag)
    problems.push(
      `compose (${label}): api BDV_DEV_TOKEN is ${env.BDV_DEV_TOKEN}, expected ${expected.devFlag}`,
    );
  const token = devToken();
  if (expected.devToken && token && env.API_TOKENS !== token)
    problems.push(`compose (${label}): api API_TOKENS is not the development token of dev-token.ts`);
}

function checkCompose() {
  const compose = composeCommand();
  if (!compose) return problems.push('compose: neither `docker compose` nor `docker-compose` is installed');
  const [cmd, pre] = compose;
  const scratch = mkdtempSync(join(tmpdir(), 'bdv-compose-'));
  try {
    const none = join(scratch, 'empty.env');
    writeFileSync(none, '');
    const fresh = renderCompose(cmd, pre, none, 'no .env');
    if (fresh) {
      checkRendered(fresh, 'no .env', { bind: '127.0.0.1', devFlag: '1', devToken: true });
      console.log(
        'compose: docker-compose.yml is valid without a .env (development token, ports on 127.0.0.1)',
      );
    }
    const production = renderCompose(cmd, pre, join(root, '.env.example'), '.env.example');
    if (production) {
      checkRendered(production, '.env.example', { bind: '127.0.0.1', devFlag: '0', devToken: false });
      console.log(`compose: docker-compose.yml is valid with .env.example (${cmd} ${pre.join(' ')} config)`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function modelFor(apiVersion, kind) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const sources = {
    'keda.sh': () => import(`@kubernetes-models/keda/keda.sh/${version}/${kind}`),
    'monitoring.coreos.com': () =>
      import(`@kubernetes-models/prometheus-operator/monitoring.coreos.com/${version}/${kind}`),
  };
  try {
    const mod = sources[group]
      ? await sources[group]()
      : await import(`kubernetes-models/${group ? `${group}/` : ''}${version}/${kind}`);
    return mod[kind];
  } catch {
    return undefined;
  }
}

async function checkK8s() {
  const dirs = [];
  const walk = (dir) => {
    if (existsSync(join(dir, 'kustomization.yaml'))) dirs.push(dir);
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) walk(join(dir, e.name));
  };
  walk(join(root, 'k8s'));
  if (dirs.length === 0) return problems.push('k8s: no kustomization.yaml under k8s/');
  for (const dir of dirs) {
    const name = dir.slice(root.length + 1);
    const r = run('kubectl', ['kustomize', dir]);
    if (r.status !== 0) {
      problems.push(`k8s ${name}: kustomize failed: ${(r.stderr || r.error?.message || '').trim()}`);
      continue;
    }
    let count = 0;
    for (const doc of parseAllDocuments(r.stdout)) {
      const obj = doc.toJS();
      if (!obj) continue;
      count++;
      const where = `k8s ${name}: ${obj.kind ?? '?'}/${obj.metadata?.name ?? '?'}`;
      const Model = await modelFor(obj.apiVersion ?? '', obj.kind ?? '');
      if (!Model) {
        problems.push(`${where}: no schema for apiVersion ${obj.apiVersion}, kind ${obj.kind}`);
        continue;
      }
      try {
        new Model(obj).validate();
      } catch (error) {
        problems.push(`${where}: ${error.message.split('\n').slice(0, 4).join(' ')}`);
      }
      // The development token is for compose on one machine: a cluster needs a real Secret.
      const text = JSON.stringify(obj);
      const token = devToken();
      if (text.includes('BDV_DEV_TOKEN') || (token && text.includes(token)))
        problems.push(`${where}: enables the development token (k8s needs a real API_TOKENS Secret)`);
    }
    console.log(`k8s: ${name} renders ${count} objects`);
  }
}

/** Top-level .dockerignore patterns (simple names and globs), enough to catch a copied-but-ignored path. */
function ignored(source) {
  const file = join(root, '.dockerignore');
  if (!existsSync(file)) return false;
  const patterns = readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#') && !l.startsWith('!'));
  const first = source.replace(/^\.\//, '').split('/')[0];
  return patterns.some(
    (p) => p === first || p === source || (p.startsWith('**/') && source.split('/').includes(p.slice(3))),
  );
}

/**
 * `npm ci` in the image needs the package.json of every workspace the lock file names, and the
 * runtime needs every workspace's build: a library added to the repository but not to the
 * Dockerfile breaks the image (install fails, or an import fails at run time).
 */
function checkWorkspacesInImage(dockerfile) {
  const workspaces = ['libs', 'apps']
    .flatMap((parent) =>
      existsSync(join(root, parent)) ? readdirSync(join(root, parent)).map((d) => `${parent}/${d}`) : [],
    )
    .filter((d) => existsSync(join(root, d, 'package.json')));
  const copiesByStage = new Map();
  let stage = '';
  for (const instruction of dockerfile.getInstructions()) {
    if (instruction.getKeyword() === 'FROM') stage = instruction.getBuildStage() ?? '';
    if (instruction.getKeyword() !== 'COPY') continue;
    const sources = instruction
      .getArguments()
      .slice(0, -1)
      .map((a) =>
        a
          .getValue()
          .replace(/^\/app\//, '')
          .replace(/\/$/, ''),
      );
    copiesByStage.set(stage, [...(copiesByStage.get(stage) ?? []), ...sources]);
  }
  const [build, runtime] = [...copiesByStage.values()];
  for (const ws of workspaces) {
    if (!build?.includes(`${ws}/package.json`))
      problems.push(`docker: the build stage does not copy ${ws}/package.json`);
    if (!runtime?.includes(`${ws}/package.json`))
      problems.push(`docker: the runtime stage does not copy ${ws}/package.json`);
    if (!runtime?.includes(`${ws}/dist`)) problems.push(`docker: the runtime stage does not copy ${ws}/dist`);
  }
}

function checkDocker() {
  const file = join(root, 'Dockerfile');
  if (!existsSync(file)) return problems.push('docker: no Dockerfile');
  const dockerfile = DockerfileParser.parse(readFileSync(file, 'utf8'));
  const stages = new Set();
  for (const from of dockerfile.getFROMs()) {
    const stage = from.getBuildStage();
    if (stage) stages.add(stage);
  }
  let copies = 0;
  for (const instruction of dockerfile.getInstructions()) {
    if (instruction.getKeyword() !== 'COPY') continue;
    const fromFlag = instruction.getFlags().find((f) => f.getName() === 'from');
    const sources = instruction
      .getArguments()
      .slice(0, -1)
      .map((a) => a.getValue());
    if (fromFlag) {
      if (!stages.has(fromFlag.getValue()))
        problems.push(`docker: COPY --from=${fromFlag.getValue()}: no such stage`);
      continue; // copied from a build stage: produced by the build itself
    }
    for (const source of sources) {
      copies++;
      const line = instruction.getRange().start.line + 1;
      if (!existsSync(join(root, source)))
        problems.push(`docker: line ${line}: COPY ${source}: not in the repository`);
      else if (ignored(source))
        problems.push(`docker: line ${line}: COPY ${source}: excluded by .dockerignore`);
    }
  }
  checkWorkspacesInImage(dockerfile);
  if (!dockerfile.getInstructions().some((i) => i.getKeyword() === 'USER'))
    problems.push('docker: no USER (the image must not run as root)');
  if (!dockerfile.getInstructions().some((i) => i.getKeyword() === 'HEALTHCHECK'))
    problems.push('docker: no HEALTHCHECK');
  console.log(`docker: ${stages.size} stages, ${copies} COPY sources checked`);
}

for (const check of checks) {
  if (check === 'compose') checkCompose();
  else if (check === 'k8s') await checkK8s();
  else if (check === 'docker') checkDocker();
  else problems.push(`unknown check ${check}`);
}
if (problems.length > 0) {
  for (const p of problems) console.error(`invalid: ${p}`);
  process.exit(1);
}
console.log('deployment files are valid');
