/** Parsed response bodies: tests read their fields directly, so they are left untyped on purpose. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Body = any;

/** A tiny client of the v1 API for tests: JSON in, {status, body} out. */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly token?: string,
  ) {}

  async request(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: Body; headers: Headers }> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        ...(body !== undefined && !(body instanceof Uint8Array)
          ? { 'content-type': 'application/json' }
          : {}),
        ...headers,
      },
      body: body === undefined ? undefined : body instanceof Uint8Array ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // XML or plain text
    }
    return { status: res.status, body: parsed, headers: res.headers };
  }

  post = (path: string, body?: unknown) => this.request('POST', path, body ?? {});
  get = (path: string) => this.request('GET', path);
  put = (path: string, bytes: Uint8Array) =>
    this.request('PUT', path, bytes, { 'content-type': 'application/octet-stream' });

  /** Polls a dataset until it reaches one of `states` (or fails the test after `timeoutMs`). */
  async waitForDataset(id: string, states: string[], timeoutMs = 120_000): Promise<Body> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { body } = await this.get(`/v1/datasets/${id}`);
      if (states.includes(body.status)) return body;
      if (Date.now() > deadline)
        throw new Error(`dataset ${id} stayed ${body.status}: ${JSON.stringify(body)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
