import { open, type FileHandle } from 'node:fs/promises';
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
  /** Reads up to target.length bytes at `position`; returns how many were read (short only at the end). */
  read(position: number, target: Uint8Array): Promise<number>;
  close(): Promise<void>;
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
  ) {}

  static async open(path: string): Promise<FileByteSource> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const reason =
        code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : String(code ?? error);
      throw new StackError('NOT_FOUND', `${path}: ${reason}`, path);
    }
    const { size } = await handle.stat();
    return new FileByteSource(path, size, handle);
  }

  get fd(): number {
    return this.handle.fd;
  }

  async read(position: number, target: Uint8Array): Promise<number> {
    const { bytesRead } = await this.handle.read(target, 0, target.length, position);
    return bytesRead;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
