/**
 * How a dataset's views are spread over files: `single` = one .h5 (npy2bdv's), `partitioned` =
 * one .h5 per view plus a master linking them with HDF5 external links (BDV's partitioned export).
 */
export const LAYOUTS = ['single', 'partitioned'] as const;
export type Layout = (typeof LAYOUTS)[number];
