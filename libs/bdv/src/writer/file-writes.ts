import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { SpimDataDescription } from '../xml/spimdata-model.js';
import { assertReadableXml } from '../xml/parse-back.js';
import { buildSpimDataXml } from '../xml/spimdata-xml.js';
import { fsyncFolderOf } from './dataset-file.js';

/**
 * The SpimData XML for `description`, parsed back by a real XML parser first (a file no reader
 * opens is never written), then written atomically (temp file, fsync, rename).
 */
export function writeXmlFile(xmlPath: string, description: SpimDataDescription): string {
  const xml = buildSpimDataXml(description);
  assertReadableXml(xml, 'SpimData');
  writeFileAtomically(xmlPath, xml);
  return xmlPath;
}

/**
 * Writes a small text file whole: temporary name, fsync, rename, and (unless told not to) fsync of
 * the folder, so that the rename itself survives a power failure.
 */
export function writeFileAtomically(path: string, text: string, { fsyncFolder = true } = {}): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, text);
    const fd = openSync(tmp, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (error) {
    // A full disk fails the write with no file named ("ENOSPC …, write"): the file meant is named,
    // and its half-written temporary is not left behind.
    rmSync(tmp, { force: true });
    const e = error as NodeJS.ErrnoException;
    if (typeof e.code === 'string' && e.path === undefined) e.path = path;
    throw error;
  }
  if (fsyncFolder) fsyncFolderOf(path);
}
