/** A free TCP port on 127.0.0.1 that this process has not handed out before. */
export function freePort(): Promise<number>;
