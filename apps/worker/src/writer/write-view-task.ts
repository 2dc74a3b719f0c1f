import {
  BdvError,
  BdvH5File,
  partitionPathFor,
  preferredSlabDepth,
  resolveViewMetadata,
  writePartitionFile,
  writeViewLevels,
  type CompressionSpec,
  type LevelSpec,
  type ViewRecord,
} from '@bdv-cluster/bdv';
import { readOptionsOf, type ViewSpec } from '@bdv-cluster/contract';
import type { ViewResult } from '@bdv-cluster/pipeline';
import { asSlabStack, openStackSource, StackError } from '@bdv-cluster/stacks';
import {
  createS3Client,
  openSource,
  parseSourceUri,
  StorageError,
  type S3Settings,
} from '@bdv-cluster/storage';
import { mkdirSync } from 'node:fs';
import { basename, dirname } from 'node:path';

export interface WriteViewTaskInput {
  h5Path: string;
  layout: 'single' | 'partitioned';
  setupCount: number;
  levels: LevelSpec[];
  compression: CompressionSpec;
  spec: ViewSpec;
  setupId: number;
  s3: S3Settings;
  fileRoots: string[];
  slabBytes?: number;
}

export interface TaskProgress {
  bytesDone: number;
  bytesTotal: number;
}

/** A failure that retrying cannot fix (bad input); the view fails at once with this reason. */
export function isPermanent(error: unknown): boolean {
  if (error instanceof StackError) return true;
  if (error instanceof StorageError) return ['NOT_FOUND', 'BAD_URI', 'FORBIDDEN_PATH'].includes(error.code);
  if (error instanceof BdvError) return error.code !== 'HDF5';
  return false;
}

/**
 * Streams one source into the dataset's file (single layout) or its own partition, then closes
 * and fsyncs: when this returns, the view is durably on disk. Runs inside a worker thread.
 */
export async function writeViewTask(
  input: WriteViewTaskInput,
  onProgress: (p: TaskProgress) => void,
): Promise<ViewResult> {
  const started = performance.now();
  const { spec } = input;
  const client = createS3Client(input.s3);
  const source = await openSource(client, parseSourceUri(spec.source.uri, input.fileRoots));
  const reader = await openStackSource(source, readOptionsOf(spec.source));
  const partitionPath =
    input.layout === 'partitioned' ? partitionPathFor(input.h5Path, spec.time, input.setupId) : undefined;
  const { source: _source, time, illumination: _i, channel: _c, tile: _t, angle: _a, ...metadata } = spec;
  const record: ViewRecord = {
    time,
    setupId: input.setupId,
    shapeZyx: reader.shapeZyx,
    ...resolveViewMetadata(metadata),
  };
  mkdirSync(dirname(input.h5Path), { recursive: true });
  try {
    const stack = asSlabStack(reader, preferredSlabDepth(reader.shapeZyx, input.levels, input.slabBytes));
    const progress = (p: TaskProgress) => onProgress({ bytesDone: p.bytesDone, bytesTotal: p.bytesTotal });
    const { levels, compression, slabBytes } = input;
    if (partitionPath) {
      await writePartitionFile(
        { record, path: partitionPath, levels, compression, slabBytes },
        stack,
        progress,
      );
    } else {
      const file = await BdvH5File.openOrCreate(input.h5Path, input.setupCount, levels);
      try {
        await writeViewLevels(
          { file, time, setupId: input.setupId, levels, compression, slabBytes },
          stack,
          progress,
        );
      } finally {
        file.close();
      }
    }
  } finally {
    await reader.close();
    client.destroy();
  }
  return {
    record,
    partition: partitionPath ? basename(partitionPath) : undefined,
    bytes: reader.dataBytes,
    seconds: (performance.now() - started) / 1000,
  };
}
