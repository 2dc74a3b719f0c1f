import type { ByteSource } from './byte-source.js';
import { StackError, type StackErrorCode } from './stack-error.js';

/**
 * Called once a consumer is done with the slab of `planes` planes from plane `z`, before it keeps
 * anything of its view: a local file that was truncated or written to since it was opened, or
 * whose mapped pages could not be read (`lost`: zeros were read in their place), fails the view.
 * A truncation inside the file's last page raises no SIGBUS (Linux zeroes the page's tail in
 * place), and an in-place rewrite none at all: only the file's size and modification time tell.
 */
export function assertKept(source: ByteSource, z: number, planes: number, lost: boolean): void {
  const change = source.changedSinceOpen?.();
  if (!change && !lost) return;
  const [code, why] = refusal(source.size, change?.size, `planes ${z}-${z + planes - 1}`, lost);
  throw new StackError(code, `${source.name}: ${why}; the view is refused`, source.name);
}

/** The code and the words for a slab refused: the file's size at open and now (undefined: unchanged). */
function refusal(
  opened: number,
  now: number | undefined,
  range: string,
  lost: boolean,
): [StackErrorCode, string] {
  if (now === undefined)
    return ['TRUNCATED', `the pages of ${range} could not be read (an I/O error on its storage)`];
  if (now < opened)
    return [
      'TRUNCATED',
      `shrank while it was being converted (${now} of ${opened} bytes left${lost ? `; ${range} read as zeros` : ''})`,
    ];
  if (now > opened) return ['CHANGED', `grew from ${opened} to ${now} bytes while it was being converted`];
  return [
    'CHANGED',
    'was written to (or touched) while it was being converted: its modification time changed',
  ];
}
