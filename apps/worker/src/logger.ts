import { pino, type Logger } from 'pino';

/** Structured JSON logs; every line of a job carries its dataset id, view key and job id. */
export function createLogger(level: string, role: string): Logger {
  return pino({ level, base: { service: 'bdv-worker', role } });
}
