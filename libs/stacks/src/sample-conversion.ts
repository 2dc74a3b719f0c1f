import type { ByteOrder, SampleType } from './stack-reader.js';

const nativeLittle = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** True when samples of `byteOrder` need no swap on this machine. */
export function isNativeOrder(byteOrder: ByteOrder): boolean {
  return (byteOrder === 'little') === nativeLittle;
}

/**
 * Turns raw sample bytes into native uint16 in `out`: a view when nothing changes, a byte swap
 * for the other byte order, a widening for 8-bit input.
 */
export function toUint16(
  bytes: Uint8Array,
  sampleType: SampleType,
  byteOrder: ByteOrder,
  out: Uint16Array,
): Uint16Array {
  if (sampleType === 'uint8') {
    for (let i = 0; i < bytes.length; i++) out[i] = bytes[i]!;
    return out.subarray(0, bytes.length);
  }
  const samples = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2);
  if (isNativeOrder(byteOrder)) return samples;
  for (let i = 0; i < samples.length; i++) {
    const v = samples[i]!;
    samples[i] = ((v & 0xff) << 8) | (v >> 8);
  }
  return samples;
}
