/** Group and dataset names of the BDV HDF5 layout (same as bdv.img.hdf5.Util). */

export function setupGroupName(setupId: number): string {
  return `s${String(setupId).padStart(2, '0')}`;
}

export function timeGroupName(time: number): string {
  return `t${String(time).padStart(5, '0')}`;
}

export function viewGroupPath(time: number, setupId: number): string {
  return `/${timeGroupName(time)}/${setupGroupName(setupId)}`;
}

export function cellsPath(time: number, setupId: number, level: number): string {
  return `${viewGroupPath(time, setupId)}/${level}/cells`;
}
