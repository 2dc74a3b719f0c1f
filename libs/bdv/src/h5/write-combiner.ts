import { resolve } from 'node:path';
import type { EmscriptenFs, EmscriptenStream } from './emscripten-fs.js';

/** Adjacent small writes held for one `pwrite`, at most this much (one per file written). */
export const COMBINE_BYTES = 1024 * 1024;

/** EIO in Emscripten's numbering (its ERRNO_CODES), not Linux's 5. */
const EIO = 29;

/** Writes this large go through as they come: combining them would only add a copy. */
const SMALL_WRITE_BYTES = COMBINE_BYTES / 4;

interface Pending {
  stream: EmscriptenStream;
  position: number;
  length: number;
  buffer: Buffer;
}

/** `BDV_COMBINE_WRITES=off`: every write goes to the file as HDF5 makes it (for measuring). */
export function combinesWrites(): boolean {
  return process.env.BDV_COMBINE_WRITES !== 'off';
}

/**
 * Joins the small writes HDF5 makes one after the other at adjacent offsets into one write of up
 * to COMBINE_BYTES. HDF5 writes each chunk of a view with a `pwrite` of its own: 8 KiB for the
 * 16,16,16 blocks BigDataViewer proposes (`bdv convert`'s default), ~76,000 writes for a 512 MiB
 * view, each ~20 µs of kernel time on the benchmark VM — 1.5 s of a 3.2 s conversion.
 *
 * Installed over the rollback journal's hooks (rollback-journal.ts installs it), so the journal
 * sees the joined writes, when they reach the file. Held bytes go to the file at the end of every
 * HDF5 call (`hdf5Call` in bdv-h5-file.ts: a failure is that call's, named as any write failure),
 * and within a call before anything that could see the file without them: a read, stat,
 * truncation or close of it, and a write that does not follow on. A write that fails then fails
 * that call; and since HDF5 was told the held writes had succeeded, every later write, read,
 * truncation or close of that descriptor fails too (after the close has run, so the journal
 * still rolls back): nothing can succeed past a lost write.
 */
export class WriteCombiner {
  private readonly pending = new Map<number, Pending>();
  private readonly failed = new Map<number, Error>();
  private spare: Buffer | undefined;

  private constructor(private readonly fs: EmscriptenFs) {}

  private static readonly installed = new WeakMap<object, WriteCombiner>();

  /** The combiner over `fs`'s current hooks, installed on first use. */
  static over(fs: EmscriptenFs): WriteCombiner {
    let combiner = WriteCombiner.installed.get(fs);
    if (!combiner) {
      combiner = new WriteCombiner(fs);
      combiner.install();
      WriteCombiner.installed.set(fs, combiner);
    }
    return combiner;
  }

  /** Writes everything held: at the end of every HDF5 call, and before a savepoint measures the file. */
  flushAll(): void {
    for (const fd of [...this.pending.keys()]) this.flush(fd);
  }

  /** Writes what is held for `fd` through the hooks below (the journal's, then the file's). */
  private flush(fd: number): void {
    const held = this.pending.get(fd);
    if (!held) return;
    this.pending.delete(fd);
    try {
      let done = 0;
      while (done < held.length) {
        const n = this.below.write.call(
          this.fs,
          held.stream,
          held.buffer,
          done,
          held.length - done,
          held.position + done,
        );
        if (n <= 0) throw new this.fs.ErrnoError(EIO); // the file took nothing
        done += n;
      }
    } catch (error) {
      this.failed.set(fd, error as Error);
      throw error;
    } finally {
      this.spare = held.buffer;
    }
  }

  private throwIfFailed(fd: number): void {
    const error = this.failed.get(fd);
    if (error) throw error;
  }

  private below!: Pick<EmscriptenFs, 'write' | 'read' | 'ftruncate' | 'close' | 'stat' | 'fstat'>;

  private install(): void {
    const fs = this.fs;
    this.below = {
      write: fs.write,
      read: fs.read,
      ftruncate: fs.ftruncate,
      close: fs.close,
      stat: fs.stat,
      fstat: fs.fstat,
    };
    const below = this.below;
    fs.write = (stream, buffer, offset, length, position) => {
      this.throwIfFailed(stream.fd);
      const held = this.pending.get(stream.fd);
      const small = length < SMALL_WRITE_BYTES;
      if (
        held &&
        small &&
        position === held.position + held.length &&
        held.length + length <= COMBINE_BYTES
      ) {
        held.buffer.set(buffer.subarray(offset, offset + length), held.length);
        held.length += length;
        return length;
      }
      this.flush(stream.fd);
      if (position === undefined || !small || length === 0)
        return below.write.call(fs, stream, buffer, offset, length, position);
      const into = this.spare ?? Buffer.allocUnsafeSlow(COMBINE_BYTES);
      this.spare = undefined;
      into.set(buffer.subarray(offset, offset + length), 0);
      this.pending.set(stream.fd, { stream, position, length, buffer: into });
      return length;
    };
    fs.read = (stream, buffer, offset, length, position) => {
      this.throwIfFailed(stream.fd);
      this.flush(stream.fd);
      return below.read.call(fs, stream, buffer, offset, length, position);
    };
    fs.ftruncate = (fd, length) => {
      this.throwIfFailed(fd);
      this.flush(fd);
      below.ftruncate.call(fs, fd, length);
    };
    fs.fstat = (fd) => {
      this.throwIfFailed(fd);
      this.flush(fd);
      return below.fstat.call(fs, fd);
    };
    fs.stat = (path, dontFollow) => {
      // Only that file's held bytes: another file's failure is not this stat's.
      const file = resolve(path);
      for (const held of [...this.pending.values()])
        if (resolve(held.stream.path) === file) this.flush(held.stream.fd);
      return below.stat.call(fs, path, dontFollow);
    };
    fs.close = (stream) => {
      let lost: unknown;
      try {
        this.flush(stream.fd);
      } catch (error) {
        lost = error;
      }
      lost ??= this.failed.get(stream.fd);
      this.failed.delete(stream.fd);
      // The close runs even after a lost write: the journal then rolls the file back.
      below.close.call(fs, stream);
      if (lost) throw lost;
    };
  }
}
