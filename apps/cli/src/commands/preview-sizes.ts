/** The smallest projection the previewer makes (libs/bdv's projectView refuses smaller). */
export const MIN_PREVIEW_SIZE = 16;

/** A contact sheet's views are drawn at most this big, whatever --size says: a sheet of many stays readable in size. */
export const SHEET_CELL_MAX = 256;
