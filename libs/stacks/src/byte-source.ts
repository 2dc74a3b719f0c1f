import { constants, fstatSync, type BigIntStats, type Stats } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { StackError } from './stack-error.js';

/**
 * Random-access bytes of one input object — a local file here; an S3 object in libs/storage.
 * Readers only ever ask for ranges, so a stack never has to be in memory whole.
 */
export interface ByteSource {
  /** Path or URI, for error messages. */
  readonly name: string;
  readonly size: number;
  /**
   * True when read() hands `target` to the operating system in one call and never touches it
   * after an await: the target may then be a view of memory whose ArrayBuffer can be replaced
   * meanwhile (the wasm heap, see SlabBuffer), and readers fill such memory in place.
   */
  readonly readsInOneCall?: boolean;
  /** A local file's descriptor: a reader may map its bytes rather than read them (SlabBuffer.mapFile). */
  readonly fd?: number;
  /**
   * A local file's size now, where it or its modification time differ from when it was opened
   * (something wrote to it, or truncated it, meanwhile); undefined while it is unchanged. Absent
   * where that cannot be known (an object store's object is immutable once read by its ETag).
   */
  changedSinceOpen?(): { size: number } | undefined;
  /** Reads up to target.length bytes at `position`; returns how many were read (short only at the end). */
  read(position: number, target: Uint8Array): Promise<number>;
  close(): Promise<void>;
}

/** Reads into `target` from `position` until it is full or the source ends; how many bytes came. */
export async function readUpTo(source: ByteSource, position: number, target: Uint8Array): Promise<number> {
  let done = 0;
  while (done < target.length) {
    const n = await source.read(position + done, target.subarray(done));
    if (n === 0) break;
    done += n;
  }
  return done;
}

export async function readExactly(
  source: ByteSource,
  position: number,
  target: Uint8Array | (() => Uint8Array),
): Promise<void> {
  // A getter is called again before every read: the memory behind it may have been re-viewed.
  const view = typeof target === 'function' ? target : () => target;
  const length = view().length;
  let done = 0;
  while (done < length) {
    const n = await source.read(position + done, view().subarray(done));
    if (n === 0) {
      throw new StackError(
        'TRUNCATED',
        `${source.name}: ends at byte ${position + done}, ${length - done} bytes short of what its header promises`,
        source.name,
      );
    }
    done += n;
  }
}

export class FileByteSource implements ByteSource {
  readonly readsInOneCall = true;

  private constructor(
    readonly name: string,
    readonly size: number,
    private readonly handle: FileHandle,
    private readonly modifiedNs: bigint,
  ) {}

  /**
   * Opens a regular file; `name` is what messages call it (a URI, not a server path). Opened
   * without blocking: a FIFO or a device would otherwise hold one of libuv's four threads until
   * someone writes to it (every later file read of the process waits behind four such opens).
   */
  static async open(path: string, name = path): Promise<FileByteSource> {
    let handle: FileHandle;
    try {
      // Refused unopened where possible: opening some devices does something (a tape rewinds).
      assertRegularFile(await stat(path), name);
      handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (error) {
      if (error instanceof StackError) throw error;
      throw new StackError('NOT_FOUND', `${name}: ${openReason(error as NodeJS.ErrnoException)}`, name);
    }
    // Checked again on what was opened: the path may have been replaced meanwhile.
    try {
      const stats = await handle.stat({ bigint: true });
      assertRegularFile(stats, name);
      return new FileByteSource(name, Number(stats.size), handle, stats.mtimeNs);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  get fd(): number {
    return this.handle.fd;
  }

  /** One fstat (about a microsecond): readers ask after every slab. */
  changedSinceOpen(): { size: number } | undefined {
    const now = fstatSync(this.handle.fd, { bigint: true });
    const size = Number(now.size);
    return size === this.size && now.mtimeNs === this.modifiedNs ? undefined : { size };
  }

  async read(position: number, target: Uint8Array): Promise<number> {
    const { bytesRead } = await this.handle.read(target, 0, target.length, position);
    return bytesRead;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

/** Why a file could not be opened for reading, in words (a bare "EACCES" said nothing to do). */
export function openReason(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ENOENT':
      return 'no such file';
    case 'ENOTDIR':
      return 'no such file (a parent is not a folder)';
    case 'EISDIR':
      return 'is a directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied (cannot read it)';
    case 'ELOOP':
      return 'too many symbolic links (a loop?)';
    default:
      return String(error.code ?? error.message ?? error);
  }
}

function assertRegularFile(stats: Stats | BigIntStats, name: string): void {
  if (!stats.isFile())
    throw new StackError('NOT_FOUND', `${name}: not a regular file (${kindOf(stats)})`, name);
}

function kindOf(stats: Stats | BigIntStats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a named pipe';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  return 'not a file';
}
