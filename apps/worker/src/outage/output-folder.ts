import { ViewTaskError } from '@bdv-cluster/convert';
import { mkdirSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

/**
 * Why this writer's OUTPUT_DIR cannot be written into, if it cannot: missing (the volume is not
 * mounted where the setting says) or not a folder. A writer never creates it: a folder created on
 * the node's own disk would take views that the finalizer and the API never see.
 */
export function outputDirProblem(outputDir: string): string | undefined {
  try {
    if (statSync(outputDir).isDirectory()) return undefined;
    return `output folder ${outputDir} is not a folder`;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR')
      return `output folder ${outputDir} missing: is the volume mounted?`;
    return `output folder ${outputDir}: ${code ?? (error as Error).message}`;
  }
}

/**
 * Makes sure a dataset's files, at the absolute path the API recorded when it registered the
 * dataset (`<API's OUTPUT_DIR>/<name>/<name>.h5`), land on this writer's output volume, and
 * creates the dataset's folder if it is not there yet (the API does not create it): only that
 * one folder, never OUTPUT_DIR or anything above it.
 * - OUTPUT_DIR missing (the volume not mounted): an outage — the view waits, saying so, and goes
 *   on once the folder is back (the writer refuses to start without it, see main.ts);
 * - the files not under OUTPUT_DIR, compared as real paths (symbolic links and `..` resolved):
 *   the API and this writer mount the volume at different paths, and what the writer wrote would
 *   land on its own disk, out of the finalizer's sight. The view fails for good, naming both.
 */
export function prepareOutputFolder(outputDir: string, h5Path: string): void {
  const problem = outputDirProblem(outputDir);
  if (problem) throw new ViewTaskError(problem, 'outage');
  const root = realpathSync(outputDir);
  const real = realPathOf(h5Path);
  const inside = relative(root, real);
  if (inside === '' || inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside))
    throw new ViewTaskError(
      `${h5Path} is not under this writer's OUTPUT_DIR ${outputDir}` +
        (root === outputDir ? '' : ` (${root})`) +
        `: the API and every writer must mount the output volume at the same path`,
      'permanent',
    );
  try {
    mkdirSync(dirname(real));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new ViewTaskError(
        `output folder ${dirname(dirname(real))} missing: is the volume mounted?`,
        'outage',
      );
    if (code !== 'EEXIST') throw error;
  }
}

/** The real path of `path`: that of its nearest existing ancestor, the rest of its names after it. */
function realPathOf(path: string): string {
  const absolute = resolve(path);
  try {
    return realpathSync(absolute);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(absolute) === absolute) throw error;
    return join(realPathOf(dirname(absolute)), basename(absolute));
  }
}
