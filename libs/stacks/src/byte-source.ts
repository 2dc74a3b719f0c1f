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
  /** Reads up to target.length bytes at `position`; returns how many were read (short only at the end). */
  read(position: number, target: Uint8Array): Promise<number>;
  close(): Promise<void>;
}

export async function readExactly(source: ByteSource, position: number, target: Uint8Array): Promise<void> {
  let done = 0;
  while (done < target.length) {
    const n = await source.read(position + done, target.subarray(done));
    if (n === 0) {
      throw new StackError(
        'TRUNCATED',
        `${source.name}: ends at byte ${position + done}, ${target.length - done} bytes short of what its header promises`,
        source.name,
      );
    }
    done += n;
  }
}

export class FileByteSource implements ByteSource {
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

  async read(position: number, target: Uint8Array): Promise<number> {
    const { bytesRead } = await this.handle.read(target, 0, target.length, position);
    return bytesRead;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
