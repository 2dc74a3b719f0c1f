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
}

export interface LocalStack {
  apiUrl: string;
  token: string;
  s3Endpoint: string;
  outputDir: string;
  env: Record<string, string>;
  children: { role: string; child: ChildProcess }[];
  stop(): Promise<void>;
}

export function startLocalStack(o: LocalStackOptions): Promise<LocalStack>;
