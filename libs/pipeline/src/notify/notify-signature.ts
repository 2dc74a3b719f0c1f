import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-bdv-signature';
export const TIMESTAMP_HEADER = 'x-bdv-timestamp';

/**
 * The signature of one notification: HMAC-SHA256, keyed with the dataset's secret, over
 * `<timestamp>.<body>` (the timestamp in Unix seconds, as sent in X-BDV-Timestamp), as
 * `sha256=<hex>`. Signing the timestamp with the body lets a receiver refuse replays: it checks
 * the signature, then that the timestamp is recent (docs/operations.md "Notifications").
 */
export function notificationSignature(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * What a receiver does (and the tests): true when `signature` is the body's and the timestamp is
 * within `toleranceSeconds` of `nowSeconds`.
 */
export function verifyNotification(
  secret: string,
  headers: { timestamp: string | undefined; signature: string | undefined },
  body: string,
  nowSeconds = Math.floor(Date.now() / 1000),
  toleranceSeconds = 300,
): boolean {
  const timestamp = Number(headers.timestamp);
  if (!Number.isInteger(timestamp) || !headers.signature) return false;
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) return false;
  const expected = Buffer.from(notificationSignature(secret, timestamp, body));
  const given = Buffer.from(headers.signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
