import { crc32 } from 'node:zlib';
import type { Zyx } from './pyramid-spec.js';

/**
 * What a view's pixels must read back as: per pyramid level, its shape and the CRC-32 of its
 * cells as stored (int16 bits, C order). Computed while writing, checked by the finalizer and by
 * `bdv verify`. CRC-32 (zlib's, ~4 GB/s here) rather than a cryptographic hash: it guards
 * against broken or silently empty files, not against an attacker, at little cost per byte.
 */
export interface LevelChecksum {
  level: number;
  shapeZyx: Zyx;
  /** 8 hex digits. */
  crc32: string;
}

export const CHECKSUM_ALGORITHM = 'crc32';

/** A running CRC-32 over a level's slabs, fed in z order. */
export class RunningChecksum {
  private value = 0;

  add(data: Uint16Array | Int16Array): void {
    this.value = crc32(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), this.value);
  }

  get hex(): string {
    return this.value.toString(16).padStart(8, '0');
  }
}
