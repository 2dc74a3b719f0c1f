import { appendFileSync } from 'node:fs';

export async function load(url, context, nextLoad) {
  if (process.env.IMPORT_LOG) appendFileSync(process.env.IMPORT_LOG, `${url}\n`);
  return nextLoad(url, context);
}
