/**
 * A 5 x 7 pixel font for the few characters of a view label (`c1 s12 i0 a3`, `t0`), so a
 * contact sheet says which view is which without a font renderer.
 */
const FONT: Record<string, string[]> = {
  '0': ['01110', '10001', '10011', '10101', '11001', '10001', '01110'],
  '1': ['00100', '01100', '00100', '00100', '00100', '00100', '01110'],
  '2': ['01110', '10001', '00001', '00010', '00100', '01000', '11111'],
  '3': ['11110', '00001', '00001', '01110', '00001', '00001', '11110'],
  '4': ['00010', '00110', '01010', '10010', '11111', '00010', '00010'],
  '5': ['11111', '10000', '11110', '00001', '00001', '10001', '01110'],
  '6': ['00110', '01000', '10000', '11110', '10001', '10001', '01110'],
  '7': ['11111', '00001', '00010', '00100', '01000', '01000', '01000'],
  '8': ['01110', '10001', '10001', '01110', '10001', '10001', '01110'],
  '9': ['01110', '10001', '10001', '01111', '00001', '00010', '01100'],
  a: ['00000', '00000', '01110', '00001', '01111', '10001', '01111'],
  c: ['00000', '00000', '01110', '10000', '10000', '10001', '01110'],
  i: ['00100', '00000', '01100', '00100', '00100', '00100', '01110'],
  s: ['00000', '00000', '01111', '10000', '01110', '00001', '11110'],
  t: ['01000', '01000', '11100', '01000', '01000', '01001', '00110'],
  ' ': ['00000', '00000', '00000', '00000', '00000', '00000', '00000'],
  '?': ['01110', '10001', '00001', '00010', '00100', '00000', '00100'],
};

export const GLYPH_WIDTH = 5;
export const GLYPH_HEIGHT = 7;

/** Width in pixels of `text` at `scale` (one column of space between characters). */
export function textWidth(text: string, scale = 1): number {
  return text.length === 0 ? 0 : (text.length * (GLYPH_WIDTH + 1) - 1) * scale;
}

/**
 * Draws `text` into an 8-bit gray image at (x, y) on a dark box (readable on any data), clipped
 * to the image. Characters the font lacks are drawn as `?`.
 */
export function drawLabel(
  image: { width: number; height: number; pixels: Uint8Array },
  text: string,
  x: number,
  y: number,
  scale = 1,
): void {
  const pad = scale;
  fillBox(image, x, y, textWidth(text, scale) + 2 * pad, GLYPH_HEIGHT * scale + 2 * pad, 0);
  [...text].forEach((ch, n) => {
    const rows = FONT[ch] ?? FONT['?']!;
    const left = x + pad + n * (GLYPH_WIDTH + 1) * scale;
    rows.forEach((bits, r) => {
      for (let c = 0; c < GLYPH_WIDTH; c++)
        if (bits[c] === '1') fillBox(image, left + c * scale, y + pad + r * scale, scale, scale, 255);
    });
  });
}

function fillBox(
  image: { width: number; height: number; pixels: Uint8Array },
  x: number,
  y: number,
  w: number,
  h: number,
  value: number,
): void {
  for (let yy = Math.max(0, y); yy < Math.min(image.height, y + h); yy++)
    image.pixels.fill(
      value,
      yy * image.width + Math.max(0, x),
      yy * image.width + Math.min(image.width, x + w),
    );
}
