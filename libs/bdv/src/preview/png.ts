import { encode } from 'fast-png';

/** An 8-bit gray image, row-major. */
export interface GrayImage8 {
  width: number;
  height: number;
  pixels: Uint8Array;
}

/**
 * An 8-bit grayscale PNG (fast-png's encoder). `text` goes into tEXt chunks (keys of 1..79
 * Latin-1 characters), so a preview carries the level and contrast window it was made with.
 *
 * Why 8 bits and not 16: browsers, the README and image viewers show a 16-bit PNG by mapping
 * 0..65535 to the screen, so a camera's 100..3000 counts look black; the percentile window is
 * what makes a thumbnail readable, and it needs only 8 bits (and half the bytes). The raw
 * window is kept in the `bdv:window` text chunk for anyone who wants the numbers.
 */
export function encodeGrayPng(image: GrayImage8, text: Record<string, string> = {}): Uint8Array {
  return encode({
    width: image.width,
    height: image.height,
    data: image.pixels,
    depth: 8,
    channels: 1,
    text,
  });
}
