export { StackError, type StackErrorCode } from './stack-error.js';
export { FileByteSource, readExactly, type ByteSource } from './byte-source.js';
export * from './stack-reader.js';
export {
  readNpyHeader,
  openNpy,
  checkNpyHeader,
  MAX_NPY_HEADER_BYTES,
  type NpyHeader,
  type NpyStack,
} from './npy-reader.js';
export { openRaw, type RawLayout } from './raw-reader.js';
export { openTiff } from './tiff-reader.js';
export {
  openStackFile,
  openStackSource,
  formatOf,
  isStackFileName,
  STACK_EXTENSIONS,
  type OpenStackOptions,
} from './open-stack.js';
export { toUint16 } from './sample-conversion.js';
export { npyHeader, writeNpy } from './npy-writer.js';
