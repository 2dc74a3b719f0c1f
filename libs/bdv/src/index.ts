// The public face of the format core. HDF5 (h5wasm) stays behind it: callers write views
// through the functions of writer/file-writes.ts or BdvWriter, never through HDF5 objects.
export { BdvError, type BdvErrorCode } from './errors.js';
export * from './model/setup-model.js';
export * from './model/pyramid-spec.js';
export * from './model/propose-mipmaps.js';
export * from './model/fit-blocks.js';
export * from './model/compression.js';
export * from './model/layout.js';
export * from './model/view-metadata.js';
export * from './model/limits.js';
export * from './model/text-field.js';
export { downsampleStack } from './pyramid/block-mean.js';
export { inspectBdvFile, type BdvFileSummary, type LevelSummary } from './h5/inspect-bdv-file.js';
export * from './xml/spimdata-model.js';
export { buildSpimDataXml, DEFAULT_CAMERA_NAME, DEFAULT_MICROSCOPE } from './xml/spimdata-xml.js';
export type {
  SlabStack,
  InMemoryStack,
  StackInput,
  ViewProgress,
  SlabBuffer,
  SlabBufferSource,
} from './writer/stack-input.js';
export { DEFAULT_SLAB_BYTES, writerSlabBuffers, preloadHdf5 } from './writer/stack-input.js';
export { preferredSlabDepth, warmWritingThreads } from './writer/view-writer.js';
export { resolveFormat, type BdvFormat, type BdvFormatOptions } from './writer/bdv-format.js';
export { describeView, type ViewDescription } from './writer/view-record.js';
export { DEFAULT_COMMIT_GROUP, type CommitGroupLimits } from './writer/commit-group.js';
export {
  appendViewToFile,
  stagePartition,
  commitPartition,
  writePartition,
  writePartitionedMaster,
  type AppendOptions,
  type PartitionLink,
} from './writer/view-files.js';
export { writeXmlFile } from './writer/file-writes.js';
export {
  checksumPathFor,
  readChecksumFile,
  sha256Of,
  writeChecksumFile,
  type ChecksumFile,
  type ViewChecksums,
} from './writer/checksum-file.js';
export { CHECKSUM_ALGORITHM, type LevelChecksum } from './model/checksums.js';
export {
  verifyDataset,
  checkFile,
  type FileCheck,
  type FileChecker,
  type VerifyReport,
  type ViewVerdict,
  type VerifyOptions,
} from './verify/verify-dataset.js';
export { fenceFileOf, wantFileOf } from './h5/writer-fence.js';
export { deflateEngine } from './h5/native-deflate.js';
export { threadEntryUrl } from './thread-entry.js';
export { removeDatasetFile } from './writer/remove-output.js';
export { publishVerifiedDataset } from './writer/publish.js';
export {
  xmlPathFor,
  masterOfPartition,
  partitionPathFor,
  partitionNamed,
  partitionFilesBeside,
  isStagedFileOf,
} from './writer/output-paths.js';
export {
  BdvWriter,
  type BdvWriterOptions,
  type AppendViewOptions,
  type WriteXmlOptions,
  type PartitionPlan,
} from './writer/bdv-writer.js';
