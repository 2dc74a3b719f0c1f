/** Injection tokens of the non-class providers. */
export const CONFIG = Symbol('ClusterConfig');
export const REDIS = Symbol('Redis');
export const S3 = Symbol('S3Client');
