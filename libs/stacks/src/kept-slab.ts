import type { ByteSource } from './byte-source.js';
import { StackError } from './stack-error.js';

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
  const range = `planes ${z}-${z + planes - 1}`;
  const [code, why] = !change
    ? (['TRUNCATED', `the pages of ${range} could not be read (an I/O error on its storage)`] as const)
    : change.size < source.size
      ? ([
          'TRUNCATED',
          `shrank while it was being converted (${change.size} of ${source.size} bytes left${lost ? `; ${range} read as zeros` : ''})`,
        ] as const)
      : change.size > source.size
        ? ([
            'CHANGED',
            `grew from ${source.size} to ${change.size} bytes while it was being converted`,
          ] as const)
        : ([
            'CHANGED',
            'was written to (or touched) while it was being converted: its modification time changed',
          ] as const);
  throw new StackError(code, `${source.name}: ${why}; the view is refused`, source.name);
}
