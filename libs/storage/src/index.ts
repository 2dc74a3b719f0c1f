export { StorageError, type StorageErrorCode } from './storage-error.js';
export {
  parseSourceUri,
  parseSourceFolder,
  allowedLocalPath,
  isBucketName,
  unsafeKeyReason,
  type SourceLocation,
  type SourceFolder,
} from './source-uri.js';
export { checkSourceHeader, type SourceHeaderCheck } from './source-header.js';
export { createS3Client, type S3Settings } from './s3-config.js';
export {
  headObject,
  listObjects,
  getObjectStream,
  uploadStream,
  uploadFile,
  type ObjectInfo,
} from './s3-objects.js';
export { S3ByteSource } from './s3-byte-source.js';
export { openSource, sourceSize } from './open-source.js';
export {
  claimExportPrefix,
  exportPrefixProblem,
  EXPORT_CLAIM,
  EXPORT_PERMISSIONS,
  type ExportClaim,
} from './export-claim.js';
export { undoExport } from './export-undo.js';
