import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { RequestFilteringHttpAgent, RequestFilteringHttpsAgent } from 'request-filtering-agent';

export interface PostOutcome {
  status: number;
  /** The first bytes of the answer, for the delivery note. */
  snippet: string;
}

/** Refused before connecting: the target resolved to an address nobody allowed. */
export class TargetRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TargetRefused';
  }
}

/**
 * POSTs one notification. Where it may connect is checked on the address it actually connects to
 * (request-filtering-agent: after the DNS lookup the socket uses, so a name cannot be re-pointed
 * between check and connect): public addresses, or the addresses and networks of the allow-list
 * (`allowedNetworks`). Redirects are never followed (node's http does not), so a 3xx is just a
 * status; the answer is read up to 1 KiB and then dropped. One fresh agent per call: no pooled
 * socket outlives its check.
 */
export function postNotification(
  url: string,
  body: string,
  headers: Record<string, string>,
  allowedNetworks: readonly string[],
  timeoutMs: number,
): Promise<PostOutcome> {
  const target = new URL(url);
  const https = target.protocol === 'https:';
  const filter = { allowIPAddressList: [...allowedNetworks], keepAlive: false };
  const agent = https ? new RequestFilteringHttpsAgent(filter) : new RequestFilteringHttpAgent(filter);
  const send = https ? httpsRequest : httpRequest;
  return new Promise<PostOutcome>((resolve, reject) => {
    const req = send(
      target,
      {
        method: 'POST',
        agent,
        timeout: timeoutMs,
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      },
      (res: IncomingMessage) => {
        let snippet = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (snippet.length < 1024) snippet += chunk.slice(0, 1024 - snippet.length);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, snippet }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    req.on('error', (error: Error) =>
      reject(/is not allowed\. Because/.test(error.message) ? new TargetRefused(error.message) : error),
    );
    req.end(body);
  }).finally(() => agent.destroy());
}
