import { createHash } from 'node:crypto';
import { closeSync, fdatasyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { BdvError } from '../errors.js';
import { CHECKSUM_ALGORITHM, type LevelChecksum } from '../model/checksums.js';
import type { ViewRecord } from '../model/view-metadata.js';
import { writeFileAtomically } from './file-writes.js';

/** The checksums of one written view: which file holds it, and what each level must read back as. */
export interface ViewChecksums {
  time: number;
  setupId: number;
  /** The .h5 holding the view's cells, relative to the XML (a partition, or the single file). */
  file: string;
  levels: LevelChecksum[];
  /** The view as the XML describes it (lets a resumed conversion write the same XML). */
  record?: ViewRecord;
}

/** `<name>.checksums.json` beside the XML. `complete: false` while a conversion is under way. */
export interface ChecksumFile {
  format: 'bdv-cluster checksums';
  version: 1;
  algorithm: typeof CHECKSUM_ALGORITHM;
  complete: boolean;
  /**
   * SHA-256 of the XML written with a complete record (`bdv convert`): lets a later run tell the
   * XML it wrote from one saved over it since (BigStitcher's registrations), which it must keep.
   */
  xmlSha256?: string;
  views: ViewChecksums[];
}

export function checksumPathFor(xmlPath: string): string {
  return xmlPath.replace(/\.xml$/i, '') + '.checksums.json';
}

/**
 * The record as text: a header line, one view per line, a closing line. Still one JSON document,
 * laid out so that a view can be added with one write over the closing line (PendingChecksumFile)
 * instead of rewriting every view recorded so far after each one.
 */
function checksumText(views: readonly ViewChecksums[], complete: boolean, xmlSha256?: string): string {
  return headerLine(complete, xmlSha256) + views.map((v, i) => viewLine(v, i === 0)).join('') + CLOSING_LINE;
}

function headerLine(complete: boolean, xmlSha256?: string): string {
  const head = {
    format: 'bdv-cluster checksums',
    version: 1,
    algorithm: CHECKSUM_ALGORITHM,
    complete,
    ...(xmlSha256 ? { xmlSha256 } : {}),
  };
  return `${JSON.stringify(head).slice(0, -1)},"views":[\n`;
}

function viewLine(view: ViewChecksums, first: boolean): string {
  return `${first ? '' : ','}${JSON.stringify(view)}\n`;
}

const CLOSING_LINE = ']}\n';

/** Writes the checksums record whole (temporary file, fsync, rename, fsync of the folder). */
export function writeChecksumFile(
  path: string,
  views: readonly ViewChecksums[],
  complete: boolean,
  xmlSha256?: string,
): void {
  const sorted = [...views].sort((a, b) => a.time - b.time || a.setupId - b.setupId);
  writeFileAtomically(path, checksumText(sorted, complete, xmlSha256));
}

/**
 * The record of a conversion under way (`complete: false`), open for appending: each commit costs
 * one positioned write and one fdatasync, whatever the number already recorded. A write cut short
 * by a power failure leaves a record `readChecksumFile` still reads up to the last whole view: the
 * view that was being recorded is written again on resume.
 */
export class PendingChecksumFile {
  private constructor(
    private readonly fd: number,
    private closingAt: number,
    private count: number,
  ) {}

  /** Writes the record of `views` whole, then keeps it open for `append`. */
  static start(path: string, views: readonly ViewChecksums[]): PendingChecksumFile {
    const text = checksumText(views, false);
    writeFileAtomically(path, text);
    const fd = openSync(path, 'r+');
    return new PendingChecksumFile(fd, Buffer.byteLength(text) - CLOSING_LINE.length, views.length);
  }

  /** Records views (a commit group's, in one write and one fdatasync). */
  append(views: readonly ViewChecksums[]): void {
    if (views.length === 0) return;
    const lines = views.map((view, i) => viewLine(view, this.count + i === 0)).join('');
    const bytes = Buffer.from(lines + CLOSING_LINE);
    let written = 0;
    while (written < bytes.length)
      written += writeSync(this.fd, bytes, written, bytes.length - written, this.closingAt + written);
    fdatasyncSync(this.fd);
    this.closingAt += bytes.length - CLOSING_LINE.length;
    this.count += views.length;
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** Reads and checks a checksum file; a missing or malformed one is a BdvError naming it. */
export function readChecksumFile(path: string): ChecksumFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new BdvError('INVALID_ARGUMENT', `${path}: ${reason}`, 'checksums');
  }
  let parsed: Partial<ChecksumFile>;
  try {
    parsed = JSON.parse(text) as Partial<ChecksumFile>;
  } catch (error) {
    const recovered = wholeViewsOfCutRecord(text);
    if (!recovered)
      throw new BdvError('INVALID_ARGUMENT', `${path}: ${(error as Error).message}`, 'checksums');
    parsed = recovered;
  }
  const wellFormed =
    typeof parsed === 'object' &&
    parsed !== null &&
    parsed.format === 'bdv-cluster checksums' &&
    parsed.version === 1 &&
    parsed.algorithm === CHECKSUM_ALGORITHM &&
    Array.isArray(parsed.views) &&
    parsed.views.every(
      (v) =>
        Number.isInteger(v.time) &&
        Number.isInteger(v.setupId) &&
        typeof v.file === 'string' &&
        Array.isArray(v.levels) &&
        v.levels.every((l) => /^[0-9a-f]{8}$/.test(l.crc32) && Array.isArray(l.shapeZyx)),
    );
  if (!wellFormed)
    throw new BdvError(
      'INVALID_ARGUMENT',
      `${path}: not a bdv-cluster checksum file (version 1)`,
      'checksums',
    );
  return parsed as ChecksumFile;
}

/**
 * A pending record whose last append was cut short (power failure): its header and the views on
 * the lines before the cut. Anything else that does not parse is not ours to guess at.
 */
function wholeViewsOfCutRecord(text: string): Partial<ChecksumFile> | undefined {
  const [header, ...lines] = text.split('\n');
  if (header !== headerLine(false).slice(0, -1)) return undefined;
  const views: ViewChecksums[] = [];
  for (const [i, line] of lines.entries()) {
    if (i > 0 && !line.startsWith(',')) break; // the closing line, or the cut
    try {
      views.push(JSON.parse(i === 0 ? line : line.slice(1)) as ViewChecksums);
    } catch {
      break;
    }
  }
  return { ...(JSON.parse(`${header}]}`) as Partial<ChecksumFile>), views };
}

/** SHA-256 (hex) of a file's bytes, as `xmlSha256` records an XML. */
export function sha256Of(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}
