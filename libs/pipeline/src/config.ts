import { isBucketName, type S3Settings } from '@bdv-cluster/storage';
import { z } from 'zod';
import { allowEntryProblem } from './notify/notify-targets.js';

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const splitOn = (separator: RegExp) =>
  z.string().transform((s) =>
    s
      .split(separator)
      .map((x) => x.trim())
      .filter(Boolean),
  );
/** Folders, PATH-style: `,` or `:` between them. */
const list = splitOn(/[,:]/);

/** Shorter tokens can be guessed; a token may hold any character but `,`. */
export const MIN_TOKEN_LENGTH = 16;
const tokens = splitOn(/,/).pipe(
  z.array(
    z
      .string()
      .min(MIN_TOKEN_LENGTH, `every token must be at least ${MIN_TOKEN_LENGTH} characters (comma-separated)`),
  ),
);
const bucket = z.string().refine(isBucketName, 'is not a valid S3 bucket name');
const buckets = splitOn(/,/).pipe(z.array(bucket));

/** Every setting of every role, from the environment (README's configuration table). */
export const ClusterConfig = z.object({
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  S3_ENDPOINT: z.string().url().optional(),
  S3_REGION: z.string().min(1).default('us-east-1'),
  S3_ACCESS_KEY_ID: z.string().optional(),
  S3_SECRET_ACCESS_KEY: z.string().optional(),
  S3_FORCE_PATH_STYLE: bool.default(true),
  RAW_BUCKET: bucket.default('raw'),
  /** Buckets besides RAW_BUCKET that s3:// sources and batches may read (comma-separated). */
  SOURCE_BUCKETS: buckets.default([]),
  OUTPUT_BUCKET: z.string().min(3).optional(),
  OUTPUT_DIR: z.string().min(1),
  WORKER_ROLE: z.enum(['writer', 'finalizer', 'all']).default('all'),
  WRITER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1),
  /**
   * A write job's lease: renewed every third of it while the writer lives (HDF5 runs on worker
   * threads, so the event loop is free to renew); a dead writer's view is taken over after about
   * this long plus a third.
   */
  WRITER_LOCK_SECONDS: z.coerce.number().int().min(5).max(600).default(15),
  /**
   * A finalize job's lease. The finalizer reads every view back (partitions on worker threads, a
   * single file on its own event loop, giving timers a turn between slabs): keep it well above
   * the longest pause. A dead finalizer's job is taken over after about this long plus a quarter.
   */
  FINALIZER_LOCK_SECONDS: z.coerce.number().int().min(10).max(3600).default(120),
  /**
   * Partition files the finalizer reads back at once, each on a worker thread of its own (one
   * decompresses on one core; each thread holds its own HDF5 heap, ~100 MiB). A single-layout
   * file is read on one thread whatever this says.
   */
  FINALIZER_VERIFY_THREADS: z.coerce.number().int().min(1).max(16).default(2),
  /** How long a view waits for an unreachable source store or a full output volume before failing. */
  OUTAGE_BUDGET_SECONDS: z.coerce
    .number()
    .int()
    .min(10)
    .max(7 * 24 * 3600)
    .default(3600),
  API_TOKENS: tokens.default([]),
  /** 1: a development setup, where the API accepts the published development token (compose sets it). */
  BDV_DEV_TOKEN: bool.default(false),
  /**
   * Where dataset notifications may be sent (comma-separated hosts, IP addresses or networks, each
   * with an optional :port; see notify/notify-targets.ts). Empty: nowhere — deny by default.
   */
  NOTIFY_ALLOWED_HOSTS: splitOn(/,/)
    .pipe(
      z.array(
        z.string().superRefine((entry, ctx) => {
          const problem = allowEntryProblem(entry);
          if (problem) ctx.addIssue({ code: 'custom', message: problem });
        }),
      ),
    )
    .default([]),
  FILE_SOURCE_ROOTS: list.default([]),
  /**
   * The most bytes one upload (PUT …/views/:viewKey/data) may hold: past it the API answers 413
   * and stores no more. Larger stacks are given as s3:// or file:// sources. 1 MiB to 2 TiB.
   */
  UPLOAD_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(2 ** 20)
    .max(2 ** 41)
    .default(256 * 2 ** 30),
  /** Views the API's preview reads may hold queued or in progress at once (more: 503 at once). */
  PREVIEW_QUEUE_VIEWS: z.coerce.number().int().min(1).max(1000).default(32),
  /** Seconds a preview read may wait for its turn before it is dropped (503, try again). */
  PREVIEW_QUEUE_WAIT_SECONDS: z.coerce.number().int().min(1).max(600).default(30),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
  QUEUE_PREFIX: z.string().min(1).default('bdv'),
});
export type ClusterConfig = z.infer<typeof ClusterConfig>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment; one line per bad or missing value, naming the variable. */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  required: (keyof ClusterConfig)[] = [],
): ClusterConfig {
  const parsed = ClusterConfig.safeParse(env);
  // The path's first element names the variable; never the value (it may be a token).
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`);
  if (parsed.success) {
    for (const key of required) {
      const value = parsed.data[key];
      if (value === undefined || (Array.isArray(value) && value.length === 0))
        problems.push(`${key}: is required for this role`);
    }
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  return parsed.data;
}

/** The object-storage part of the configuration, as libs/storage takes it. */
export function s3SettingsOf(c: ClusterConfig): S3Settings {
  return {
    endpoint: c.S3_ENDPOINT,
    region: c.S3_REGION,
    accessKeyId: c.S3_ACCESS_KEY_ID,
    secretAccessKey: c.S3_SECRET_ACCESS_KEY,
    forcePathStyle: c.S3_FORCE_PATH_STYLE,
  };
}

/** The buckets s3:// sources may name: RAW_BUCKET (uploads land there) and SOURCE_BUCKETS. */
export function sourceBucketsOf(c: ClusterConfig): string[] {
  return [...new Set([c.RAW_BUCKET, ...c.SOURCE_BUCKETS])];
}
