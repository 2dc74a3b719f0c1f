import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The folder of package `name` as Node finds it from `dir` (walking up node_modules), or undefined. */
export function packageFolder(name, dir) {
  for (let d = dir; ; d = dirname(d)) {
    const candidate = join(d, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    if (dirname(d) === d) return undefined;
  }
}
