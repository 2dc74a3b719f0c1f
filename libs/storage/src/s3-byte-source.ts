import type { S3Client } from '@aws-sdk/client-s3';
import type { ByteSource } from '@bdv-cluster/stacks';
import type { Readable } from 'node:stream';
import pRetry from 'p-retry';
import { getObjectStream, objectVersion } from './s3-objects.js';
import { StorageError } from './storage-error.js';

/**
 * An S3 object as a ByteSource. Sequential reads (the common case: header, then slab after slab)
 * are served from one streaming ranged GET; a seek, or a connection that drops mid-object, opens a
 * new ranged GET at the wanted offset (with backoff), so a transient failure costs one request,
 * not the whole stack.
 */
export class S3ByteSource implements ByteSource {
  private stream?: Readable;
  private iterator?: AsyncIterator<Buffer>;
  private streamPosition = -1;
  private leftover: Uint8Array = new Uint8Array(0);

  private constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly key: string,
    readonly size: number,
    private readonly retries: number,
    private readonly ownsClient: boolean,
    /** The version read: every ranged GET asks for it (a reconnect never mixes two uploads). */
    private readonly etag: string | undefined,
  ) {}

  /** `ownsClient`: the source destroys the client when it is closed (a client made just for it). */
  static async open(
    client: S3Client,
    bucket: string,
    key: string,
    { retries = 4, ownsClient = false }: { retries?: number; ownsClient?: boolean } = {},
  ): Promise<S3ByteSource> {
    try {
      const { size, etag } = await objectVersion(client, bucket, key);
      return new S3ByteSource(client, bucket, key, size, retries, ownsClient, etag);
    } catch (error) {
      if (ownsClient) client.destroy();
      throw error;
    }
  }

  get name(): string {
    return `s3://${this.bucket}/${this.key}`;
  }

  async read(position: number, target: Uint8Array): Promise<number> {
    if (position >= this.size || target.length === 0) return 0;
    return pRetry(() => this.readOnce(position, target), {
      retries: this.retries,
      minTimeout: 200,
      factor: 3,
      shouldRetry: ({ error }: { error: Error }) =>
        !(error instanceof StorageError && (error.code === 'NOT_FOUND' || error.code === 'CHANGED')),
      onFailedAttempt: () => this.dropStream(),
    });
  }

  async close(): Promise<void> {
    this.dropStream();
    if (this.ownsClient) this.client.destroy();
  }

  private async readOnce(position: number, target: Uint8Array): Promise<number> {
    if (position !== this.streamPosition || !this.iterator) {
      this.dropStream();
      this.stream = await getObjectStream(this.client, this.bucket, this.key, position, this.etag);
      this.iterator = this.stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
      this.streamPosition = position;
    }
    let done = 0;
    while (done < target.length && this.streamPosition < this.size) {
      if (this.leftover.length === 0) {
        const next = await this.iterator!.next();
        if (next.done) {
          throw new StorageError(
            'TRANSIENT',
            `${this.name}: stream ended at byte ${this.streamPosition} of ${this.size}`,
            this.name,
          );
        }
        this.leftover = next.value;
      }
      const n = Math.min(this.leftover.length, target.length - done);
      target.set(this.leftover.subarray(0, n), done);
      this.leftover = this.leftover.subarray(n);
      done += n;
      this.streamPosition += n;
    }
    return done;
  }

  private dropStream(): void {
    this.stream?.destroy();
    this.stream = undefined;
    this.iterator = undefined;
    this.leftover = new Uint8Array(0);
    this.streamPosition = -1;
  }
}
