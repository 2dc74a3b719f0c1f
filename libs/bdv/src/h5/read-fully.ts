import { readSync } from 'node:fs';

/**
 * Fills `target` from `fd` at `position`, however many reads that takes: one `readSync` may return
 * fewer bytes than asked (a signal, a network file system), and a caller that took it as whole
 * would carry zeros as if they were the file's. A file that ends first throws, naming `what`.
 */
export function readFully(fd: number, target: Buffer, position: number, what: string): void {
  for (let done = 0; done < target.length;) {
    const n = readSync(fd, target, done, target.length - done, position + done);
    if (n === 0) throw new Error(`${what} at byte ${position}: the file ended`);
    done += n;
  }
}
