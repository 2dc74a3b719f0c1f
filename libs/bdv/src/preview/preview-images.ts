import type { SetupAttributes } from '../model/setup-model.js';
import {
  contrastWindowOf,
  DEFAULT_HIGH_PERCENT,
  DEFAULT_LOW_PERCENT,
  histogramOf,
  toGray8,
  type ContrastWindow,
} from './contrast.js';
import { drawLabel, GLYPH_HEIGHT, textWidth } from './glyphs.js';
import { fitInto, type GrayImage16 } from './projection.js';
import { encodeGrayPng, type GrayImage8 } from './png.js';
import { sheetLayout, type SheetLayout, type SheetLayoutOptions } from './sheet-layout.js';
import type { ViewProjection } from './view-projection.js';

export interface ContrastOptions {
  /** Percentiles mapped to black and white (0.1 and 99.9). */
  lowPercent?: number;
  highPercent?: number;
}

/** A PNG and what it shows. */
export interface PreviewPng {
  png: Uint8Array;
  width: number;
  height: number;
}

export interface ViewPreviewPng extends PreviewPng {
  level: number;
  window: ContrastWindow;
}

/** A view's projection as an 8-bit PNG, contrast from its own percentiles. */
export function viewPreviewPng(projection: ViewProjection, options: ContrastOptions = {}): ViewPreviewPng {
  const window = contrastWindowOf(
    histogramOf(projection.pixels),
    options.lowPercent ?? DEFAULT_LOW_PERCENT,
    options.highPercent ?? DEFAULT_HIGH_PERCENT,
  );
  const image: GrayImage8 = { ...projection, pixels: toGray8(projection.pixels, window) };
  const png = encodeGrayPng(image, {
    Software: 'bdv-cluster',
    'bdv:projection': `max along ${projection.axis}`,
    'bdv:level': String(projection.level),
    'bdv:window': `${window.low} ${window.high}`,
  });
  return { png, width: image.width, height: image.height, level: projection.level, window };
}

/** One cell of a contact sheet: a view's attributes and its projection, if it could be read. */
export interface SheetCell extends SetupAttributes {
  projection?: GrayImage16;
}

export interface SheetOptions extends ContrastOptions, SheetLayoutOptions {
  /** Text drawn at the sheet's top-left (e.g. `t0`). */
  title?: string;
}

/** Gray of the gaps between cells, and of a cell whose view could not be read. */
const GAP_GRAY = 40;
const MISSING_GRAY = 90;

/**
 * A contact sheet: the views laid out by sheet-layout.ts, each fitted into its square cell,
 * labelled with the attributes that tell them apart; cells without a projection are plain gray.
 * Contrast is shared by the views of one channel (the same stain looks the same across tiles)
 * and taken from the fitted cells, so memory is the sheet's size however large the views.
 */
export function contactSheetPng(
  cells: readonly SheetCell[],
  options: SheetOptions = {},
): PreviewPng & { layout: SheetLayout } {
  const layout = sheetLayout(cells, options);
  const sheet: GrayImage8 = {
    width: layout.width,
    height: layout.height,
    pixels: new Uint8Array(layout.width * layout.height).fill(GAP_GRAY),
  };
  const fitted = cells.map((c) => (c.projection ? fitInto(c.projection, layout.cell) : undefined));
  const histograms = new Map<number, Uint32Array>();
  fitted.forEach((f, i) => {
    if (!f) return;
    const channel = cells[i]!.channel;
    histograms.set(channel, histogramOf(f.pixels, histograms.get(channel)));
  });
  const windows = new Map(
    [...histograms].map(([channel, h]) => [
      channel,
      contrastWindowOf(
        h,
        options.lowPercent ?? DEFAULT_LOW_PERCENT,
        options.highPercent ?? DEFAULT_HIGH_PERCENT,
      ),
    ]),
  );
  const labelScale = layout.cell >= 160 ? 2 : 1;
  cells.forEach((c, i) => {
    const { x, y } = layout.places[i]!;
    const f = fitted[i];
    if (!f) {
      for (let yy = 0; yy < layout.cell; yy++)
        sheet.pixels.fill(MISSING_GRAY, (y + yy) * sheet.width + x, (y + yy) * sheet.width + x + layout.cell);
    } else {
      const gray = toGray8(f.pixels, windows.get(c.channel)!);
      // centred in its cell
      const ox = x + Math.floor((layout.cell - f.width) / 2);
      const oy = y + Math.floor((layout.cell - f.height) / 2);
      for (let yy = 0; yy < f.height; yy++)
        sheet.pixels.set(gray.subarray(yy * f.width, (yy + 1) * f.width), (oy + yy) * sheet.width + ox);
    }
    const label = layout.labels[i]!;
    if (label && layout.cell >= 3 * GLYPH_HEIGHT * labelScale)
      drawLabel(sheet, label, x + 2, y + 2, labelScale);
  });
  if (options.title)
    drawLabel(sheet, options.title, sheet.width - 4 - textWidth(options.title, labelScale), 2, labelScale);
  const png = encodeGrayPng(sheet, { Software: 'bdv-cluster', 'bdv:views': String(cells.length) });
  return { png, width: sheet.width, height: sheet.height, layout };
}
