#!/usr/bin/env node
// Validates the deployment files without a Docker engine or a cluster:
//   compose  — `docker compose config` (plugin) or Debian's `docker-compose config`: a real Compose
//              implementation parses and validates the file against the Compose schema;
//   k8s      — every kustomization rendered by `kubectl kustomize`, every object validated against
//              the Kubernetes OpenAPI schemas (npm kubernetes-models, + KEDA / Prometheus Operator CRDs);
//   docker   — the Dockerfile parsed (dockerfile-ast): stages, and that every COPY source exists.
// Usage: validate-deploy.mjs [--root DIR] [compose|k8s|docker ...]   Exit code 1 on any problem.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DockerfileParser } from 'dockerfile-ast';
import { parseAllDocuments } from 'yaml';

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

function checkCompose() {
  const compose = composeCommand();
  if (!compose) return problems.push('compose: neither `docker compose` nor `docker-compose` is installed');
  const [cmd, pre] = compose;
  const r = run(cmd, [...pre, '--env-file', '.env.example', '-f', 'docker-compose.yml', 'config', '-q']);
  if (r.status !== 0) problems.push(`compose: ${(r.stderr || r.stdout).trim()}`);
  else console.log(`compose: docker-compose.yml is valid (${cmd} ${pre.join(' ')} config)`);
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
