import { execFileSync } from 'node:child_process';

/** Bytes of `path` in the page cache, seen from outside this process (util-linux's fincore). */
export function residentBytes(path: string): number {
  return Number(
    execFileSync('fincore', ['--bytes', '--noheadings', '--output', 'RES', path], { encoding: 'utf8' }),
  );
}

/** True where `path` lives on tmpfs, whose pages are the files: nothing is ever dropped there. */
export function onTmpfs(path: string): boolean {
  return execFileSync('findmnt', ['-n', '-o', 'FSTYPE', '-T', path], { encoding: 'utf8' }).trim() === 'tmpfs';
}
