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

/** The packages the bundle holds: every library and the CLI (the API and the workers are not in it). */
function bundledPackages() {
  let libs = [];
  try {
    libs = readdirSync(new URL('libs/', root)).map((name) => `libs/${name}`);
  } catch {
    // an installed layout without libs/: only the CLI's own build counts
  }
  return [...libs, 'apps/cli'];
}

function freshBundle() {
  const bundle = mtime(new URL('apps/cli/bundle/bdv.js', root));
  if (bundle < 0) return false;
  const stale = bundledPackages().find((p) => mtime(new URL(`${p}/dist/.tsbuildinfo`, root)) > bundle);
  // Said only when asked: the unbundled CLI starts ~0.1 s slower, which skews a measurement.
  if (stale && process.env.BDV_DEBUG)
    process.stderr.write(
      `bdv: ${stale} was compiled after the bundle: running dist/ (npm run build bundles it)\n`,
    );
  return stale === undefined;
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
