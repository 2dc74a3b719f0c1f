import { checksumPathFor, xmlPathFor } from '@bdv-cluster/bdv';
import { accessSync, constants, lstatSync, statSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { CliError, systemReason } from '../cli-error.js';

/**
 * Where the output is to go, checked before any input is read or anything written: a folder at
 * the output's name, a file among its parents, a folder this user cannot write into. Found late,
 * these came out as the writer's words about files the user never named (a temporary `.x.h5.….tmp`
 * HDF5 could not create, a lock file, `rm` refusing a directory after --overwrite), or as a raw
 * ENOTDIR/EACCES with a stack-trace hint; and a missing folder under an unwritable one made Node's
 * recursive mkdir spin on some file systems (procfs).
 */
export function assertOutputPlace(output: string): void {
  const problem = outputPlaceProblem(output);
  if (problem) throw new CliError(problem);
}

/** What keeps `output` from being written, said with what to do, or undefined. */
function outputPlaceProblem(output: string): string | undefined {
  // First: without .h5, the .xml and record names below are not the dataset's.
  if (!/\.h5$/i.test(output) && !isDirectory(output))
    return `${output}: the output must end in .h5 (the .xml goes beside it), e.g. -o ${output}.h5`;
  const xml = xmlPathFor(output);
  for (const file of [output, xml, checksumPathFor(xml)]) {
    if (!isDirectory(file)) continue;
    return file === output
      ? `${output} is a directory, not an .h5 file: give a file name, e.g. -o ${output}/<name>.h5 (nothing was changed)`
      : `${file} is a directory, where the dataset's ${file === xml ? '.xml' : 'checksum record'} would go: move it away or choose another -o (nothing was changed)`;
  }
  return folderProblem(output);
}

/**
 * The nearest folder of `output` that exists (the writer creates the ones below it) must be one
 * this user can write into; a parent that is a file can hold nothing.
 */
function folderProblem(output: string): string | undefined {
  for (let folder = dirname(output); ; folder = dirname(folder)) {
    const stats = statOf(folder);
    if (stats && !stats.isDirectory())
      return `${output}: a parent (${folder}) is not a folder; choose another -o`;
    if (stats) {
      const denied = accessProblem(folder);
      return denied && `cannot write into ${folder}: ${denied}; choose another -o`;
    }
    if (isDanglingLink(folder))
      return `${output}: a parent (${folder}) is a symbolic link to nothing; choose another -o`;
    // Missing, or under a file or a folder this user may not search: the next one up says which.
    if (dirname(folder) === folder) return undefined;
  }
}

/** Why this user cannot create files in `folder`, in words; undefined when it can. */
function accessProblem(folder: string): string | undefined {
  try {
    accessSync(folder, constants.W_OK | constants.X_OK);
    return undefined;
  } catch (error) {
    return systemReason(error as NodeJS.ErrnoException);
  }
}

/** A link whose target does not exist (mkdir would fail on it with ENOENT, naming neither). */
function isDanglingLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

function isDirectory(path: string): boolean {
  return statOf(path)?.isDirectory() ?? false;
}

/** undefined where nothing can be seen: missing, or under a file or a folder this user may not search. */
function statOf(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}
