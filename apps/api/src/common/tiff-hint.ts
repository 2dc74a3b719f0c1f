import { extname } from 'node:path';

/** A TIFF's first four bytes (classic and BigTIFF, either byte order), as a message shows them. */
const TIFF_MAGICS: readonly { bytes: readonly number[]; shown: string }[] = [
  { bytes: [0x49, 0x49, 0x2a, 0x00], shown: 'II*\\0' },
  { bytes: [0x4d, 0x4d, 0x00, 0x2a], shown: 'MM\\0*' },
  { bytes: [0x49, 0x49, 0x2b, 0x00], shown: 'II+\\0, a BigTIFF' },
  { bytes: [0x4d, 0x4d, 0x00, 0x2b], shown: 'MM\\0+, a BigTIFF' },
];

/** How a TIFF's first bytes start, if `head` starts like one. */
export function tiffMagicOf(head: Uint8Array): string | undefined {
  return TIFF_MAGICS.find(({ bytes }) => bytes.every((b, i) => head[i] === b))?.shown;
}

/**
 * Why a stack that is read as .npy (and is none) is a TIFF — its bytes start with a TIFF's magic,
 * or its name ends in .tif/.tiff — ending with `how` to say so (e.g. `upload it with
 * ?format=tiff`); undefined when neither says TIFF.
 */
export function tiffReadAsNpy(
  head: Uint8Array | undefined,
  name: string | undefined,
  how: string,
): string | undefined {
  const magic = head && tiffMagicOf(head);
  const extension = name === undefined ? '' : extname(name.replace(/[?#].*$/, '')).toLowerCase();
  if (magic) return `not a .npy file: its bytes are a TIFF (they start with ${magic}); ${how}`;
  if (extension === '.tif' || extension === '.tiff')
    return `not a .npy file: its name says TIFF (${extension}) and its bytes are no .npy; ${how}`;
  return undefined;
}
