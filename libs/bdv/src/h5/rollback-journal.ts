import {
  closeSync,
  fstatSync,
  fsyncSync,
  openSync,
  readFileSync,
  realpathSync,
  ftruncateSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, resolve } from 'node:path';
import { crc32 } from 'node:zlib';
import type { EmscriptenFs, EmscriptenStream } from './emscripten-fs.js';
import { readFully } from './read-fully.js';
import { combinesWrites, WriteCombiner } from './write-combiner.js';

/**
 * A rollback journal under h5wasm's file layer (SQLite's approach; HDF5 has none). Appending a
 * view to an existing .h5 rewrites metadata in place (B-tree nodes, object headers, the
 * superblock), so a writer killed mid-flush can break every view already in the file. Here,
 * before the first overwrite of any byte range inside the file's length at open, the old bytes go
 * to `<file>.journal`, fsynced before the overwrite proceeds. A clean close fsyncs the .h5 and
 * deletes the journal (the commit); a journal found on the next open means the append never
 * committed, and `rollBack` restores the old bytes and length — the file is exactly what it was.
 * Savepoints inside one append (`markSavepoint`, after HDF5 flushed) let a live process undo only
 * its last part from memory (`undoToSavepointAtClose`); a crash still rolls back to the commit.
 *
 * Layout: header = magic(8) original length(u64) page size(u32) reserved(u32) crc32(u32)
 * padding(4); then records = offset(u64) length(u32) crc32(u32) old bytes. A torn last record is
 * dropped on rollback: its overwrite never ran, because each record is durable before it does.
 */

const MAGIC = Buffer.from('BDVJRNL1');
const HEADER_BYTES = 32;
const RECORD_HEAD = 16;
const PAGE = 4096;
const O_ACCMODE = 3;
const O_TRUNC = 512;
const O_APPEND = 1024;

export function journalPathOf(h5Path: string): string {
  return `${h5Path}.journal`;
}

/**
 * writeSync may write less than asked on a filling volume, without an error: a short journal
 * record would be a torn one, so loop until all is written, and call a write of 0 bytes ENOSPC.
 */
function writeFully(fd: number, bytes: Uint8Array, position: number): void {
  for (let done = 0; done < bytes.length;) {
    const n = writeSync(fd, bytes, done, bytes.length - done, position + done);
    if (n === 0) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    done += n;
  }
}

function fsyncFolderOf(path: string): void {
  const fd = openSync(dirname(path), 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Restores a file from its hot journal (a crashed append), if there is one. Call it only while
 * holding the file's WriterFence: rolling back under a live writer would destroy its work.
 * Returns true if a journal was found (and applied, or discarded when its header never became
 * durable — then the .h5 was never touched). Applying it twice is harmless.
 */
export function rollBack(h5Path: string): boolean {
  const journalPath = journalPathOf(h5Path);
  let journal: Buffer;
  try {
    journal = readFileSync(journalPath);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  const headerIntact =
    journal.length >= HEADER_BYTES &&
    journal.subarray(0, 8).equals(MAGIC) &&
    crc32(journal.subarray(0, 24)) === journal.readUInt32LE(24);
  if (headerIntact) {
    const originalLength = Number(journal.readBigUInt64LE(8));
    const fd = openSync(h5Path, 'r+');
    try {
      // The appended tail goes first: on a full volume that frees the room the old pages need.
      ftruncateSync(fd, originalLength);
      for (let at = HEADER_BYTES; at + RECORD_HEAD <= journal.length;) {
        const offset = Number(journal.readBigUInt64LE(at));
        const length = journal.readUInt32LE(at + 8);
        const bytes = journal.subarray(at + RECORD_HEAD, at + RECORD_HEAD + length);
        if (
          bytes.length !== length ||
          crc32(bytes, crc32(journal.subarray(at, at + 12))) !== journal.readUInt32LE(at + 12)
        )
          break;
        writeFully(fd, bytes, offset);
        at += RECORD_HEAD + length;
      }
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
  unlinkSync(journalPath);
  fsyncFolderOf(journalPath);
  return true;
}

interface OpenJournal {
  path: string;
  journalFd: number;
  journalEnd: number;
  originalLength: number;
  pages: Set<number>;
  rollBackOnClose: boolean;
  savepoint?: Savepoint;
  undoToSavepointOnClose: boolean;
  /** A write or truncation of the file failed: what HDF5 wrote may be half a flush. */
  writeFailed: boolean;
}

/**
 * The file as it was at a savepoint (HDF5 flushed, nothing fsynced): its length and the bytes of
 * every page overwritten since, kept in memory. Undoing to it is for a live process (a view
 * failed or was interrupted after earlier views of the same commit group): the page cache still
 * holds everything written, so no durability is needed. A crash rolls back from the journal on
 * disk instead, to the last commit: every page inside the committed length that the undo could
 * rewrite was saved there before its first overwrite.
 */
interface Savepoint {
  length: number;
  undo: Map<number, Buffer> | undefined;
  undoBytes: number;
}

/** Past this, a savepoint is given up (undoing falls back to the last commit): memory stays bounded. */
const SAVEPOINT_UNDO_LIMIT = 64 * 1024 * 1024;

/** Why the last write to a file failed (ENOSPC, EROFS…): HDF5 only says "write request failed". */
export interface IoFailure {
  path: string;
  code: string;
}

/**
 * The hooks of one thread's HDF5 (each worker thread has its own module and FS). Only files
 * `arm`ed just before they are opened for writing are journaled; every file's write failures
 * are remembered for error messages.
 */
export class JournalHooks {
  private readonly armed = new Set<string>();
  private readonly open = new Map<number, OpenJournal>();
  private readonly streams = new Map<string, Set<number>>();
  lastFailure?: IoFailure;

  private constructor(private readonly fs: EmscriptenFs) {}

  private static readonly installed = new WeakMap<object, JournalHooks>();

  /** Joins small adjacent writes above these hooks (write-combiner.ts); absent when switched off. */
  private combiner: WriteCombiner | undefined;

  static on(fs: object): JournalHooks {
    let hooks = JournalHooks.installed.get(fs);
    if (!hooks) {
      hooks = new JournalHooks(fs as EmscriptenFs);
      hooks.install();
      // Over the journal, never under it: the journal must see a write when it reaches the file.
      if (combinesWrites()) hooks.combiner = WriteCombiner.over(fs as EmscriptenFs);
      JournalHooks.installed.set(fs, hooks);
    }
    return hooks;
  }

  /** The next writable open of `path` (not truncating) is journaled. */
  arm(path: string): void {
    this.armed.add(realpathSync(path));
  }

  /** At close, roll the file back instead of committing (a view that failed half-way). */
  rollBackAtClose(path: string): void {
    for (const [, journal] of this.journalsOf(path)) journal.rollBackOnClose = true;
  }

  /**
   * Marks the state of `path` (journaled, HDF5 just flushed it) as a savepoint: a later
   * `undoToSavepointAtClose` brings the file back to it instead of to the last commit. Each
   * savepoint replaces the one before.
   */
  markSavepoint(path: string): void {
    this.combiner?.flushAll();
    for (const [fd, journal] of this.journalsOf(path)) {
      const length = fstatSync(this.fs.getStream(fd)!.nfd).size;
      journal.savepoint = { length, undo: new Map(), undoBytes: 0 };
    }
  }

  /**
   * At close, undo what was written since the savepoint, then commit (fsync, journal deleted):
   * what came before the savepoint stays. Without a usable savepoint (none marked, or given up)
   * the file is rolled back to the last commit instead (returns false); if undoing fails, the
   * close throws and the journal is left for the caller to roll back.
   */
  undoToSavepointAtClose(path: string): boolean {
    const journals = this.journalsOf(path);
    const usable = journals.length > 0 && journals.every(([, j]) => j.savepoint?.undo !== undefined);
    for (const [, journal] of journals) {
      if (usable) journal.undoToSavepointOnClose = true;
      else journal.rollBackOnClose = true;
    }
    return usable;
  }

  /** The journaled descriptors of `path`, with their journals. */
  private journalsOf(path: string): [number, OpenJournal][] {
    return [...(this.streams.get(resolve(path)) ?? [])].flatMap((fd) => {
      const journal = this.open.get(fd);
      return journal ? [[fd, journal] as [number, OpenJournal]] : [];
    });
  }

  /**
   * Closes whatever descriptors of `path` HDF5 left open (a close that failed half-way), so
   * they are not leaked for the life of the process.
   */
  closeLeftovers(path: string): void {
    for (const fd of [...(this.streams.get(resolve(path)) ?? [])]) {
      const stream = this.fs.getStream(fd);
      try {
        if (stream) this.fs.close(stream);
      } catch {
        // Closed all the same (a lost joined write throws after the close); the caller reports
        // the error that brought it here, and the next descriptor is closed too.
      }
    }
  }

  /** Writes what the combiner holds (see write-combiner.ts): every HDF5 call ends with it. */
  writeHeld(): void {
    this.combiner?.flushAll();
  }

  /**
   * h5wasm's throwing error handler prints HDF5's diagnostic into a tmpfile and throws before
   * closing it: one descriptor leaked per HDF5 error (and after ~2,500 the module aborts). Close
   * them after every error.
   */
  closeDiagnosticFiles(): void {
    for (const path of [...this.streams.keys()].filter((p) => /\/tmpfile_[^/]*$/.test(p)))
      this.closeLeftovers(path);
  }

  private install(): void {
    const fs = this.fs;
    const original = { open: fs.open, write: fs.write, ftruncate: fs.ftruncate, close: fs.close };
    fs.open = (path, flags, mode) => {
      let stream: EmscriptenStream;
      try {
        stream = original.open.call(fs, path, flags, mode);
      } catch (error) {
        // Only opens for writing say something about the output volume (HDF5 also probes its
        // plugin folders, which are allowed to be missing).
        if ((flags & O_ACCMODE) !== 0) this.lastFailure = { path: resolve(path), code: errnoName(error) };
        throw error;
      }
      this.track(stream);
      const real = resolve(stream.path);
      if (this.armed.delete(real) && (flags & O_ACCMODE) !== 0 && (flags & O_TRUNC) === 0)
        this.asFsError(real, () => this.begin(stream, real));
      return stream;
    };
    fs.write = (stream, buffer, offset, length, position) => {
      const journal = this.open.get(stream.fd);
      if (journal) {
        let at = position ?? stream.position;
        if (stream.flags & O_APPEND) at = fstatSync(stream.nfd).size;
        try {
          this.asFsError(stream.path, () => {
            this.keepForUndo(journal, stream.nfd, at, at + length);
            this.save(journal, stream.nfd, at, at + length);
          });
        } catch (error) {
          journal.writeFailed = true;
          throw error;
        }
      }
      try {
        return original.write.call(fs, stream, buffer, offset, length, position);
      } catch (error) {
        this.lastFailure = { path: stream.path, code: errnoName(error) };
        if (journal) journal.writeFailed = true;
        throw error;
      }
    };
    fs.ftruncate = (fd, length) => {
      const journal = this.open.get(fd);
      try {
        if (journal)
          this.asFsError(journal.path, () => {
            const nfd = fs.getStream(fd)!.nfd;
            if (journal.savepoint) this.keepForUndo(journal, nfd, length, journal.savepoint.length);
            if (length < journal.originalLength) this.save(journal, nfd, length, journal.originalLength);
          });
        original.ftruncate.call(fs, fd, length);
      } catch (error) {
        if (journal) journal.writeFailed = true;
        throw error;
      }
    };
    fs.close = (stream) => {
      const journal = this.open.get(stream.fd);
      this.untrack(stream);
      if (!journal) return original.close.call(fs, stream);
      this.open.delete(stream.fd);
      // HDF5 closes its file even when its last flush failed: that half flush is no commit.
      if (journal.writeFailed && !journal.undoToSavepointOnClose) journal.rollBackOnClose = true;
      this.asFsError(journal.path, () => {
        try {
          if (journal.undoToSavepointOnClose) undoToSavepoint(stream.nfd, journal.savepoint!);
          if (!journal.rollBackOnClose) fsyncSync(stream.nfd); // every HDF5 write durable, then commit
        } finally {
          original.close.call(fs, stream);
          closeSync(journal.journalFd);
        }
        if (journal.rollBackOnClose) rollBack(journal.path);
        else {
          unlinkSync(journalPathOf(journal.path));
          fsyncFolderOf(journal.path);
        }
      });
    };
  }

  /**
   * Runs journal I/O inside a file-system call of HDF5: a Node error there (ENOSPC on the journal,
   * EROFS) must reach HDF5 as the file system's own error, as if the write itself had failed —
   * anything else would abort the wasm module.
   */
  private asFsError(path: string, work: () => void): void {
    try {
      work();
    } catch (error) {
      if ((error as Error).name === 'ErrnoError') throw error;
      const code = errnoName(error);
      this.lastFailure = { path, code };
      throw new this.fs.ErrnoError(ERRNO_OF[code] ?? ERRNO_OF.EIO!);
    }
  }

  private begin(stream: EmscriptenStream, path: string): void {
    const journalPath = journalPathOf(path);
    // 'wx': a journal left here means nobody rolled back a crash — refuse to go on over it.
    const journalFd = openSync(journalPath, 'wx');
    const originalLength = fstatSync(stream.nfd).size;
    const header = Buffer.alloc(HEADER_BYTES);
    MAGIC.copy(header, 0);
    header.writeBigUInt64LE(BigInt(originalLength), 8);
    header.writeUInt32LE(PAGE, 16);
    header.writeUInt32LE(crc32(header.subarray(0, 24)), 24);
    writeFully(journalFd, header, 0);
    fsyncSync(journalFd);
    fsyncFolderOf(journalPath);
    this.open.set(stream.fd, {
      path,
      journalFd,
      journalEnd: HEADER_BYTES,
      originalLength,
      pages: new Set(),
      rollBackOnClose: false,
      undoToSavepointOnClose: false,
      writeFailed: false,
    });
  }

  /** Keeps in memory the savepoint's bytes of the pages in [start, end) ∩ [0, its length) not kept yet. */
  private keepForUndo(journal: OpenJournal, nfd: number, start: number, end: number): void {
    const point = journal.savepoint;
    if (!point?.undo) return;
    const stop = Math.min(end, point.length);
    for (let page = Math.floor(start / PAGE); page * PAGE < stop; page++) {
      if (point.undo.has(page)) continue;
      const from = page * PAGE;
      const bytes = Buffer.alloc(Math.min(PAGE, point.length - from));
      readFully(nfd, bytes, from, `${journal.path}: page kept for undo`);
      point.undo.set(page, bytes);
      point.undoBytes += bytes.length;
      if (point.undoBytes > SAVEPOINT_UNDO_LIMIT) {
        point.undo = undefined;
        return;
      }
    }
  }

  /** Saves the old bytes of [start, end) ∩ [0, original length), whole pages not saved before. */
  private save(journal: OpenJournal, nfd: number, start: number, end: number): void {
    const stop = Math.min(end, journal.originalLength);
    if (start >= stop) return;
    const records: Buffer[] = [];
    let runStart = -1;
    const flush = (pageEnd: number) => {
      const from = runStart * PAGE;
      const to = Math.min(pageEnd * PAGE, journal.originalLength);
      const record = Buffer.alloc(RECORD_HEAD + (to - from));
      readFully(nfd, record.subarray(RECORD_HEAD), from, `${journal.path}: old bytes for the journal`);
      record.writeBigUInt64LE(BigInt(from), 0);
      record.writeUInt32LE(to - from, 8);
      record.writeUInt32LE(crc32(record.subarray(RECORD_HEAD), crc32(record.subarray(0, 12))), 12);
      records.push(record);
      runStart = -1;
    };
    const last = Math.floor((stop - 1) / PAGE);
    const saved: number[] = [];
    for (let page = Math.floor(start / PAGE); page <= last; page++) {
      if (journal.pages.has(page)) {
        if (runStart >= 0) flush(page);
        continue;
      }
      saved.push(page);
      if (runStart < 0) runStart = page;
    }
    if (runStart >= 0) flush(last + 1);
    if (records.length === 0) return;
    const bytes = Buffer.concat(records);
    writeFully(journal.journalFd, bytes, journal.journalEnd);
    fsyncSync(journal.journalFd); // durable before the overwrite it protects
    // Only now are these pages safe to overwrite again without saving: if the journal write
    // failed (a full volume), the next try must save them again.
    journal.journalEnd += bytes.length;
    for (const page of saved) journal.pages.add(page);
  }

  private track(stream: EmscriptenStream): void {
    const path = resolve(stream.path);
    const fds = this.streams.get(path) ?? new Set<number>();
    fds.add(stream.fd);
    this.streams.set(path, fds);
  }

  private untrack(stream: EmscriptenStream): void {
    const path = resolve(stream.path);
    this.streams.get(path)?.delete(stream.fd);
    if (this.streams.get(path)?.size === 0) this.streams.delete(path);
  }
}

/** Puts back the savepoint's bytes and length (the process is alive: its page cache holds the rest). */
function undoToSavepoint(fd: number, point: Savepoint): void {
  ftruncateSync(fd, point.length); // first: on a full volume that frees room for the pages
  for (const [page, bytes] of point.undo!) writeFully(fd, bytes, page * PAGE);
}

/** Emscripten's ErrnoError carries WASI errno numbers. */
const ERRNO_OF: Record<string, number> = { ENOSPC: 51, EROFS: 69, EDQUOT: 19, EIO: 29 };
const NAME_OF: Record<number, string> = Object.fromEntries(Object.entries(ERRNO_OF).map(([k, v]) => [v, k]));

function errnoName(error: unknown): string {
  const e = error as { code?: string; errno?: number };
  if (typeof e.code === 'string') return e.code;
  return (e.errno !== undefined && NAME_OF[e.errno]) || 'EIO';
}
