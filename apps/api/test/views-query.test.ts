import { describe, expect, it } from 'vitest';
import { MAX_VIEWS_PAGE, nextPageLink, viewsQueryOf } from '../src/datasets/views-query.js';

// GET /v1/datasets/:id/views' query: what a page is asked with, and where the next one is.

const problem = (query: Record<string, unknown>) => {
  try {
    viewsQueryOf(query);
  } catch (error) {
    return (error as { message: string }).message;
  }
  return 'accepted';
};

describe('views listing query', () => {
  it('takes a state, a view-key cursor and a bounded limit; ignores other parameters', () => {
    expect(viewsQueryOf({})).toEqual({});
    expect(viewsQueryOf({ _: '123', offset: 'x' })).toEqual({});
    expect(viewsQueryOf({ state: 'failed', after: 't10-i0-c1-s12-a3', limit: '500' })).toEqual({
      state: 'failed',
      after: 't10-i0-c1-s12-a3',
      limit: 500,
    });
    expect(viewsQueryOf({ limit: String(MAX_VIEWS_PAGE) }).limit).toBe(MAX_VIEWS_PAGE);
  });

  it('names the parameter that does not fit', () => {
    expect(problem({ limit: '0' })).toMatch(/^query\.limit: must be an integer 1\.\.10000/);
    expect(problem({ limit: String(MAX_VIEWS_PAGE + 1) })).toMatch(/^query\.limit/);
    expect(problem({ limit: '-1' })).toMatch(/^query\.limit/);
    expect(problem({ limit: '1e3' })).toMatch(/^query\.limit/);
    expect(problem({ limit: '' })).toMatch(/^query\.limit/);
    expect(problem({ after: 'x' })).toMatch(/^query\.after: must be a view key/);
    expect(problem({ after: '../t0-i0-c0-s0-a0' })).toMatch(/^query\.after/);
    expect(problem({ after: `t${'9'.repeat(70)}-i0-c0-s0-a0` })).toMatch(/^query\.after/);
    expect(problem({ after: '' })).toMatch(/^query\.after/);
    expect(problem({ after: 't01-i0-c0-s0-a0' })).toMatch(/^query\.after/);
    // Indices no view can have (16 digits would not even be exact as a number): refused.
    for (const after of ['t100000-i0-c0-s0-a0', 't0-i0-c0-s10000-a0', 't0-i0-c0-s0-a1000000000000000'])
      expect(problem({ after })).toMatch(/^query\.after: .*below 100000.*below 10000/);
    expect(viewsQueryOf({ after: 't99999-i9999-c9999-s9999-a9999' }).after).toBe(
      't99999-i9999-c9999-s9999-a9999',
    );
    expect(problem({ state: 'broken' })).toMatch(/^query\.state: must be one of .*failed/);
    for (const name of ['state', 'after', 'limit'])
      expect(problem({ [name]: ['a', 'b'] })).toMatch(new RegExp(`^query\\.${name}: given more than once`));
  });

  it('links the next page by the route, the same state and limit, after the cursor', () => {
    expect(nextPageLink('d1', { state: 'failed', limit: 2 }, 't0-i0-c0-s1-a0')).toBe(
      '</v1/datasets/d1/views?state=failed&after=t0-i0-c0-s1-a0&limit=2>; rel="next"',
    );
    expect(nextPageLink('a b>', { limit: 5 }, 't3-i0-c0-s0-a0')).toBe(
      '</v1/datasets/a%20b%3E/views?after=t3-i0-c0-s0-a0&limit=5>; rel="next"',
    );
  });
});
