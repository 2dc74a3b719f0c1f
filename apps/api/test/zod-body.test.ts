import { BdvError } from '@bdv-cluster/bdv';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ApiError } from '../src/common/api-error.js';
import { parseBody } from '../src/common/zod-body.js';

// A body schema whose refinement throws (a libs/bdv check meeting a value its own field failed)
// is still a bad request naming the field, never a 500; anything else thrown stays what it is.

const throwing = z.object({ depth: z.number() }).superRefine((body) => {
  if (body.depth > 9)
    throw new BdvError(
      'INVALID_ARGUMENT',
      'blockSizeZyx[1]: must be 3 integers in z,y,x order',
      'blockSizeZyx[1]',
    );
  if (body.depth < 0) throw new TypeError('a bug, not the client');
});

describe('parseBody', () => {
  it('answers a BdvError thrown inside the schema as a 400 naming its field', () => {
    const error = (() => {
      try {
        parseBody(throwing, { depth: 10 });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).getStatus()).toBe(400);
    expect((error as ApiError).getResponse()).toMatchObject({
      message: 'blockSizeZyx[1]: must be 3 integers in z,y,x order',
      details: [{ field: 'blockSizeZyx[1]', message: 'blockSizeZyx[1]: must be 3 integers in z,y,x order' }],
    });
  });

  it('lets any other throw through, and lists ordinary problems as before', () => {
    expect(() => parseBody(throwing, { depth: -1 })).toThrow(TypeError);
    expect(() => parseBody(throwing, { depth: 'x' })).toThrow(/depth: Invalid input: expected number/);
    expect(parseBody(throwing, { depth: 3 })).toEqual({ depth: 3 });
  });
});
