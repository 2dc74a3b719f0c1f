import type { SetupAttributes } from '../model/setup-model.js';

/**
 * Where each view of a contact sheet goes: one row per (angle, illumination, channel) that
 * occurs, one column per tile that occurs, so a microscopist reads channels down and tiles
 * across. Chosen over placing views by their affine: a grid shows every view whole and the same
 * size (overlapping tiles would hide each other), needs no registration to be right, and is what
 * a check of an overnight batch wants; BigStitcher is the place for stitched views.
 */
export interface SheetLayoutOptions {
  /** Longest side of the whole sheet, px. */
  maxSide?: number;
  /** Largest cell, px (a cell never shows a view larger than its own preview would be). */
  maxCell?: number;
  /** Smallest cell that still says something; a grid that needs smaller cells is refused. */
  minCell?: number;
}

export interface SheetLayout {
  columns: number;
  rows: number;
  /** Side of each square cell, px. */
  cell: number;
  /** Gap between cells and around the sheet, px. */
  gap: number;
  width: number;
  height: number;
  /** Top-left corner of each entry's cell, in the order the entries were given. */
  places: { x: number; y: number }[];
  /** Per entry, the attributes that tell it apart from the others (`c1 s0`); empty if one view. */
  labels: string[];
}

export const SHEET_MAX_SIDE = 2048;
export const SHEET_MAX_CELL = 256;
export const SHEET_MIN_CELL = 16;
const GAP = 2;

const LETTER: Record<keyof SetupAttributes, string> = {
  illumination: 'i',
  channel: 'c',
  tile: 's',
  angle: 'a',
};
const ROW_ORDER: (keyof SetupAttributes)[] = ['angle', 'illumination', 'channel'];
const LABEL_ORDER: (keyof SetupAttributes)[] = ['channel', 'tile', 'illumination', 'angle'];
const rowKey = (e: SetupAttributes) => ROW_ORDER.map((a) => e[a]);

/** Rows, columns and cell size of a sheet of `entries`; a RangeError if cells would be too small. */
function sheetGrid(entries: readonly SetupAttributes[], options: SheetLayoutOptions) {
  const maxSide = options.maxSide ?? SHEET_MAX_SIDE;
  const maxCell = options.maxCell ?? SHEET_MAX_CELL;
  const minCell = options.minCell ?? SHEET_MIN_CELL;
  const rowKeys = distinctSorted(entries.map(rowKey));
  const tiles = distinctSorted(entries.map((e) => [e.tile]));
  const columns = Math.max(1, tiles.length);
  const rows = Math.max(1, rowKeys.length);
  const cell = Math.min(
    maxCell,
    Math.floor((maxSide - GAP) / columns) - GAP,
    Math.floor((maxSide - GAP) / rows) - GAP,
  );
  if (cell < minCell)
    throw new RangeError(
      `a contact sheet of ${rows} x ${columns} views needs cells of ${cell} px, less than ${minCell}: preview the views one by one`,
    );
  return { rowKeys, tiles, columns, rows, cell };
}

/**
 * Why `entries` do not fit one sheet (cells under `minCell`), or undefined, without placing them:
 * for a caller that only decides whether to draw (the status page, a sheet request before it
 * reads any view).
 */
export function sheetProblem(
  entries: readonly SetupAttributes[],
  options: SheetLayoutOptions = {},
): string | undefined {
  try {
    sheetGrid(entries, options);
    return undefined;
  } catch (error) {
    if (error instanceof RangeError) return error.message;
    throw error;
  }
}

export function sheetLayout(
  entries: readonly SetupAttributes[],
  options: SheetLayoutOptions = {},
): SheetLayout {
  const { rowKeys, tiles, columns, rows, cell } = sheetGrid(entries, options);
  const varying = LABEL_ORDER.filter((a) => new Set(entries.map((e) => e[a])).size > 1);
  const index = (keys: number[][], key: number[]) => keys.findIndex((k) => k.join() === key.join());
  return {
    columns,
    rows,
    cell,
    gap: GAP,
    width: GAP + columns * (cell + GAP),
    height: GAP + rows * (cell + GAP),
    places: entries.map((e) => ({
      x: GAP + index(tiles, [e.tile]) * (cell + GAP),
      y: GAP + index(rowKeys, rowKey(e)) * (cell + GAP),
    })),
    labels: entries.map((e) => varying.map((a) => `${LETTER[a]}${e[a]}`).join(' ')),
  };
}

function distinctSorted(keys: number[][]): number[][] {
  const seen = new Map(keys.map((k) => [k.join(), k]));
  return [...seen.values()].sort((a, b) => {
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
    return 0;
  });
}
