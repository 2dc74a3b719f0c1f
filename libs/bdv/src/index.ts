export { BdvError, type BdvErrorCode } from './errors.js';
export * from './model/setup-model.js';
export * from './model/pyramid-spec.js';
export * from './model/compression.js';
export * from './model/view-metadata.js';
export { addPlaneBlockSums, takeBlockMeans, downsampleStack } from './pyramid/block-mean.js';
export { LevelStream, type SlabSink } from './pyramid/level-stream.js';
export { cellsPath, setupGroupName, timeGroupName, viewGroupPath } from './h5/hdf5-paths.js';
export { BdvH5File, type CreateFileOptions } from './h5/bdv-h5-file.js';
export { inspectBdvFile, type BdvFileSummary, type LevelSummary } from './h5/inspect-bdv-file.js';
export { loadH5 } from './h5/h5wasm-runtime.js';
export * from './xml/spimdata-model.js';
export { buildSpimDataXml, DEFAULT_CAMERA_NAME, DEFAULT_MICROSCOPE } from './xml/spimdata-xml.js';
export { formatNumber } from './xml/format-number.js';
export * from './writer/stack-input.js';
export { writeViewLevels, preferredSlabDepth, type ViewTarget } from './writer/view-writer.js';
export { xmlPathFor, partitionPathFor } from './writer/output-paths.js';
export {
  BdvWriter,
  type BdvWriterOptions,
  type AppendViewOptions,
  type WriteXmlOptions,
  type Layout,
  type PartitionPlan,
  writePartitionFile,
} from './writer/bdv-writer.js';
