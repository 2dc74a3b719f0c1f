// What `bdv info` needs and nothing more: reading a BDV file's layout loads HDF5, not the writer,
// the XML machinery or the PNG encoder (a command's start-up pays only for what it uses).
export { inspectBdvFile, type BdvFileSummary, type LevelSummary } from './h5/inspect-bdv-file.js';
export { masterOfPartition, xmlPathFor } from './writer/output-paths.js';
export { checksumPathFor, readChecksumFile } from './writer/checksum-file.js';
