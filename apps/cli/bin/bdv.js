#!/usr/bin/env node
// Runs the compiled CLI (npm install builds it through the root "prepare" script): the bundle
// (apps/cli/bundle, scripts/bundle-cli.mjs: fewer modules, faster start) when it is at least as
// new as the last compile of every package, otherwise dist/ — a bare `tsc -b` leaves the bundle
// behind, and a stale bundle would run yesterday's code.
import { readdirSync, statSync } from 'node:fs';

const root = new URL('../../../', import.meta.url);
const mtime = (url) => {
  try {
    return statSync(url).mtimeMs;
  } catch {
    return -1;
  }
};

function freshBundle() {
  const bundle = mtime(new URL('apps/cli/bundle/bdv.js', root));
  if (bundle < 0) return false;
  for (const group of ['libs', 'apps']) {
    let names = [];
    try {
      names = readdirSync(new URL(`${group}/`, root));
    } catch {
      continue;
    }
    for (const name of names) {
      if (mtime(new URL(`${group}/${name}/dist/.tsbuildinfo`, root)) > bundle) return false;
    }
  }
  return true;
}

import(freshBundle() ? '../bundle/bdv.js' : '../dist/main.js').catch((error) => {
  if (error && error.code === 'ERR_MODULE_NOT_FOUND') {
    process.stderr.write(
      'bdv: not built yet; run `npm install` (or `npm run build`) in the repository root\n',
    );
    process.exit(1);
  }
  throw error;
});
