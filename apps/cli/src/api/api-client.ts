import { createReadStream, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { CliError } from '../cli-error.js';

export interface ApiSettings {
  url: string;
  token?: string;
}

/** BDV_API_URL / BDV_API_TOKEN, overridable by --api / --token. */
export function apiSettings(flags: { api?: string; token?: string }): ApiSettings {
  return {
    url: (flags.api ?? process.env.BDV_API_URL ?? 'http://127.0.0.1:3000').replace(/\/$/, ''),
    token: flags.token ?? process.env.BDV_API_TOKEN,
  };
}

/** The v1 API for the CLI: JSON in and out; an error answer becomes a one-line CliError. */
export class ApiClient {
  constructor(private readonly s: ApiSettings) {}

  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    return this.send<T>(method, path, body === undefined ? undefined : JSON.stringify(body), {
      'content-type': 'application/json',
    });
  }

  /** Streams a local file as the body of PUT .../data (never read into memory whole). */
  async upload<T>(path: string, file: string, headers: Record<string, string>): Promise<T> {
    const size = statSync(file).size;
    const body = Readable.toWeb(createReadStream(file, { highWaterMark: 8 << 20 })) as ReadableStream;
    return this.send<T>('PUT', path, body, {
      'content-type': 'application/octet-stream',
      'content-length': String(size),
      ...headers,
    });
  }

  private async send<T>(
    method: string,
    path: string,
    body: RequestInit['body'],
    headers: Record<string, string>,
  ): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.s.url}${path}`, {
        method,
        body,
        headers: { ...headers, ...(this.s.token ? { authorization: `Bearer ${this.s.token}` } : {}) },
        ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
      } as RequestInit);
    } catch (error) {
      throw new CliError(
        `cannot reach the API at ${this.s.url} (${(error as Error).cause ?? (error as Error).message}); set BDV_API_URL`,
      );
    }
    let text: string;
    try {
      text = await res.text();
    } catch (error) {
      // A long list comes as it is read: a connection cut mid-way is not the whole answer.
      throw new CliError(
        `${method} ${path}: the answer was cut short (${(error as Error).cause ?? (error as Error).message}); ask again`,
      );
    }
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // XML or plain text
    }
    if (!res.ok) {
      const message = (parsed as { message?: string }).message ?? text;
      const hint = res.status === 401 ? ' (set BDV_API_TOKEN or --token)' : '';
      throw new CliError(`${method} ${path}: ${res.status} ${message}${hint}`);
    }
    return parsed as T;
  }
}

/** GET /v1/datasets/:id as the CLI reads it (libs/pipeline datasetStatusJson). */
export interface DatasetStatus {
  id: string;
  name: string;
  status: string;
  /** `cancelled` appears once a view was cancelled. */
  views: { queued: number; running: number; done: number; failed: number; cancelled?: number };
  files: { h5: string; xml: string; h5Uri?: string; xmlUri?: string };
  errors: string[];
  /** Whether a finalize was asked for (it runs once every view has settled). */
  finalizeRequested?: boolean;
}
