import { crc32 } from '../h5/native-deflate.js';
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

/** A CRC-32 as the record writes it: 8 lower-case hex digits. */
export function crc32Hex(value: number): string {
  return (value >>> 0).toString(16).padStart(8, '0');
}

/** A running CRC-32 over a level's slabs, fed in z order. */
export class RunningChecksum {
  private value = 0;

  add(data: Uint16Array | Int16Array): void {
    this.value = crc32(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), this.value);
  }

  get hex(): string {
    return crc32Hex(this.value);
  }
}
