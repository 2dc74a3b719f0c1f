/** The part of Emscripten's FS (NODERAWFS) that h5wasm's HDF5 reaches files through, as our hooks see it. */
export interface EmscriptenStream {
  fd: number;
  nfd: number;
  path: string;
  flags: number;
  position: number;
}

/** A read or a write: `length` bytes of `buffer` from `offset`, at `position` (the stream's own when absent). */
type Transfer = (
  stream: EmscriptenStream,
  buffer: Uint8Array,
  offset: number,
  length: number,
  position?: number,
) => number;

export interface EmscriptenFs {
  ErrnoError: new (errno: number) => Error;
  open(path: string, flags: number, mode?: number): EmscriptenStream;
  write: Transfer;
  read: Transfer;
  ftruncate(fd: number, length: number): void;
  close(stream: EmscriptenStream): void;
  getStream(fd: number): EmscriptenStream | null;
  stat(path: string, dontFollow?: boolean): unknown;
  fstat(fd: number): unknown;
}
