import { z } from 'zod';
import { MAX_NOTIFY_SECRET_LENGTH, MAX_NOTIFY_URL_LENGTH, MIN_NOTIFY_SECRET_LENGTH } from './limits.js';

/** Why a notification URL is refused by its form (which hosts are allowed is the cluster's call). */
export function notifyUrlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'is not an absolute URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an http:// or https:// URL';
  // Credentials in the URL would be shown back by GET; a fragment never reaches the server.
  if (url.username || url.password) return 'must not carry a user name or password (use notify.secret)';
  if (url.hash) return 'must not have a #fragment';
  return undefined;
}

/**
 * `notify`: where to POST a dataset's status when it becomes complete or failed. With `secret`,
 * each POST is signed (HMAC-SHA256, docs/operations.md "Notifications"); the secret is stored
 * apart from the dataset and never shown back.
 */
export const NotifySpec = z
  .object({
    url: z
      .string()
      .min(1)
      .max(MAX_NOTIFY_URL_LENGTH)
      .superRefine((url, ctx) => {
        const problem = notifyUrlProblem(url);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }),
    secret: z
      .string()
      .min(MIN_NOTIFY_SECRET_LENGTH)
      .max(MAX_NOTIFY_SECRET_LENGTH)
      .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
      .optional(),
  })
  .strict();
export type NotifySpec = z.output<typeof NotifySpec>;
