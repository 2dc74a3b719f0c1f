/** Injection tokens of the non-class providers. */
export const CONFIG = Symbol('ClusterConfig');
/** The request-time state client: fails fast while Redis is down (state-store.ts). */
export const REDIS = Symbol('Redis');
export const S3 = Symbol('S3Client');
