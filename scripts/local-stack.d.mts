import type { ChildProcess } from 'node:child_process';

export interface LocalStackOptions {
  workDir: string;
  s3Port?: number;
  apiPort?: number;
  redisUrl?: string;
  token?: string;
  prefix?: string;
  writers?: number;
  fileRoots?: string[];
  onLog?: (role: string, line: string) => void;
  s3Endpoint?: string;
  s3Credentials?: { accessKeyId: string; secretAccessKey: string };
  env?: Record<string, string>;
  startTimeoutMs?: number;
}

export interface LocalStack {
  apiUrl: string;
  token: string;
  s3Endpoint: string;
  outputDir: string;
  env: Record<string, string>;
  children: { role: string; child: ChildProcess }[];
  /** The live process of a role ('api', 'writer-N', 'finalizer'). */
  child(role: string): ChildProcess | undefined;
  /** Starts a role again (after a kill), or a new one (e.g. 'writer-3'). */
  startRole(role: string): ChildProcess;
  /** Stops the local S3 server, cutting its open connections (no-op with an external S3). */
  stopS3(): Promise<void>;
  /** Starts it again on the same port and folder. */
  startS3(): Promise<void>;
  stop(): Promise<void>;
}

export function startLocalStack(o: LocalStackOptions): Promise<LocalStack>;
