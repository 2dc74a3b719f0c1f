/**
 * CRC-32 (zlib's polynomial) of a concatenation from the CRCs of its parts: what lets a reader
 * sum a level in pieces that are not in C order (a band of chunk rows holds a segment of each of
 * several planes) and still get the CRC the writer computed over the whole level in order. The
 * arithmetic is zlib's crc32_combine: CRC(A‖B) = CRC(A)·x^(8·|B|) mod P xor CRC(B), polynomials
 * over GF(2) in zlib's bit-reflected form. Neither Node's zlib nor libdeflate exports it.
 */

/** P, reflected. */
const POLY = 0xedb88320;
/** x^0 in the reflected form. */
const ONE = 0x80000000;

/** a·b mod P. */
function multModP(a: number, b: number): number {
  let product = 0;
  for (let m = ONE; m !== 0; m >>>= 1) {
    if (a & m) product ^= b;
    b = b & 1 ? (b >>> 1) ^ POLY : b >>> 1;
  }
  return product >>> 0;
}

/** x^(2^k) mod P for k = 0..31; the powers repeat from k = 32 (x^(2^32) = x mod P). */
const X2N: number[] = [];
for (let p = ONE >>> 1, k = 0; k < 32; k++, p = multModP(p, p)) X2N.push(p);

/** x^(8·bytes) mod P: what a CRC is multiplied by when `bytes` more bytes follow its data. */
function shiftOf(bytes: number): number {
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`not a byte count: ${bytes}`);
  let power = ONE;
  // 8·bytes = bytes·2^3: one factor x^(2^k) per set bit of `bytes`, from k = 3.
  for (let n = bytes, k = 3; n > 0; n = Math.floor(n / 2), k++)
    if (n % 2 === 1) power = multModP(X2N[k % 32]!, power);
  return power;
}

/** CRC-32 of A‖B, given CRC(A), CRC(B) and B's length in bytes. */
export function crc32Combine(crcA: number, crcB: number, bytesB: number): number {
  return (multModP(shiftOf(bytesB), crcA >>> 0) ^ crcB) >>> 0;
}

/**
 * crc32Combine for parts B that are all `bytesB` long (a level's planes), its shift computed once:
 * the returned function takes CRC(A) and CRC(B) and gives CRC(A‖B).
 */
export function crc32Appender(bytesB: number): (crcA: number, crcB: number) => number {
  const shift = shiftOf(bytesB);
  return (crcA, crcB) => (multModP(shift, crcA >>> 0) ^ crcB) >>> 0;
}
