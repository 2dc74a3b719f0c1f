import { HttpStatus } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../../test/support/free-port.js';
import { ApiError } from '../src/common/api-error.js';
import { toHttpError } from '../src/common/domain-errors.js';
import { createStateStoreClient, isStateStoreUnavailable } from '../src/common/state-store.js';

describe('the request-time state client while Redis is unreachable', () => {
  it('fails a call at once, and the error becomes 503 "state store unavailable"', async () => {
    // A real client against a port nothing listens on: what the API sees while Redis is down.
    const client = createStateStoreClient(`redis://127.0.0.1:${await freePort()}`);
    try {
      const started = Date.now();
      const error = await client.hgetall('bdv:ds:x').catch((e: unknown) => e);
      expect(Date.now() - started).toBeLessThan(1000);
      expect(isStateStoreUnavailable(error)).toBe(true);
      const http = toHttpError(error);
      expect(http).toBeInstanceOf(ApiError);
      expect((http as ApiError).getStatus()).toBe(HttpStatus.SERVICE_UNAVAILABLE);
      expect((http as ApiError).getResponse()).toMatchObject({
        message: expect.stringContaining('state store unavailable'),
      });
    } finally {
      client.disconnect();
    }
  });

  it('leaves errors Redis answered (a refused command) and other errors alone', () => {
    expect(isStateStoreUnavailable(new Error('ERR unknown command'))).toBe(false);
    expect(isStateStoreUnavailable(new Error('LOADING Redis is loading the dataset in memory'))).toBe(true);
    expect(isStateStoreUnavailable(new Error('Command timed out'))).toBe(true);
    expect(isStateStoreUnavailable('a string')).toBe(false);
  });
});
