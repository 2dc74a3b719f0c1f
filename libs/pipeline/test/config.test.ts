import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/index.js';

describe('configuration from the environment', () => {
  it('applies defaults and parses lists', () => {
    const c = loadConfig({
      OUTPUT_DIR: '/out',
      API_TOKENS: 'token-a-0123456789,token-b-0123456789',
      FILE_SOURCE_ROOTS: '/data:/scratch',
    });
    expect(c).toMatchObject({
      REDIS_URL: 'redis://127.0.0.1:6379',
      WORKER_ROLE: 'all',
      WRITER_CONCURRENCY: 1,
      PORT: 3000,
      API_TOKENS: ['token-a-0123456789', 'token-b-0123456789'],
    });
    expect(c.FILE_SOURCE_ROOTS).toEqual(['/data', '/scratch']);
  });

  it('reports one line per bad or missing value, naming the variable', () => {
    try {
      loadConfig(
        {
          REDIS_URL: 'not a url',
          WORKER_ROLE: 'cook',
          WRITER_CONCURRENCY: '0',
          S3_FORCE_PATH_STYLE: 'maybe',
        },
        ['OUTPUT_DIR'],
      );
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const lines = (error as ConfigError).problems;
      expect(lines.map((l) => l.split(':')[0]).sort()).toEqual([
        'OUTPUT_DIR',
        'REDIS_URL',
        'S3_FORCE_PATH_STYLE',
        'WORKER_ROLE',
        'WRITER_CONCURRENCY',
      ]);
    }
    expect(() => loadConfig({ OUTPUT_DIR: '/out' }, ['API_TOKENS'])).toThrow(
      /API_TOKENS: is required for this role/,
    );
  });

  it('leases and the outage budget: defaults, and bounds naming the variable', () => {
    expect(loadConfig({ OUTPUT_DIR: '/out' })).toMatchObject({
      WRITER_LOCK_SECONDS: 15,
      FINALIZER_LOCK_SECONDS: 120,
      OUTAGE_BUDGET_SECONDS: 3600,
    });
    expect(loadConfig({ OUTPUT_DIR: '/out', FINALIZER_LOCK_SECONDS: '10' }).FINALIZER_LOCK_SECONDS).toBe(10);
    expect(() => loadConfig({ OUTPUT_DIR: '/out', FINALIZER_LOCK_SECONDS: '5' })).toThrow(
      /FINALIZER_LOCK_SECONDS: /,
    );
    expect(() => loadConfig({ OUTPUT_DIR: '/out', OUTAGE_BUDGET_SECONDS: '1' })).toThrow(
      /OUTAGE_BUDGET_SECONDS: /,
    );
  });
});
