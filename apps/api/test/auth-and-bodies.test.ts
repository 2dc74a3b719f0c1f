import { describe, expect, it } from 'vitest';
import {
  acceptsBasic,
  basicNeedsSameOrigin,
  basicPassword,
  bearerToken,
  isPublicPath,
  sameOriginRequest,
  tokenAllowed,
} from '../src/common/auth-gate.js';
import { listWindowOf } from '../src/common/list-window.js';
import { fieldDifferences } from '../src/common/spec-diff.js';

// The pure parts of the API's edge: what is public, how credentials are read, list bounds and
// how a re-run batch is compared with its dataset. The e2e tests drive them through HTTP.

describe('public paths', () => {
  it('are exact and case-sensitive', () => {
    for (const path of [
      '/health',
      '/health/live',
      '/health/ready',
      '/metrics',
      '/docs',
      '/docs/',
      '/docs/openapi.json',
    ])
      expect(isPublicPath(path), path).toBe(true);
    for (const path of [
      '/',
      '/HEALTH',
      '/health/',
      '/health/live/x',
      '/Metrics',
      '/metrics/',
      '/docs/../v1/datasets',
      '/docs/a/b',
      '/docs/..',
      '/v1/datasets',
      '/queues',
    ])
      expect(isPublicPath(path), path).toBe(false);
  });
});

describe('where Basic credentials count', () => {
  const id = '6f1c2f0e-0000-4000-8000-000000000000';
  it('GET/HEAD of the status page and its preview images, and anything under /queues', () => {
    for (const method of ['GET', 'HEAD'])
      for (const path of [
        '/',
        `/v1/datasets/${id}/preview.png`,
        `/v1/datasets/${id}/views/t0-i0-c0-s0-a0/preview.png`,
      ])
        expect(acceptsBasic(method, path), `${method} ${path}`).toBe(true);
    for (const method of ['GET', 'POST', 'DELETE'])
      expect(acceptsBasic(method, '/queues/api/queues'), method).toBe(true);
  });

  it('never for other methods or other routes (the JSON API, the XML, lookalikes)', () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'])
      for (const path of ['/', `/v1/datasets/${id}/preview.png`, `/v1/datasets/${id}/views/t0/preview.png`])
        expect(acceptsBasic(method, path), `${method} ${path}`).toBe(false);
    for (const path of [
      '/v1/datasets',
      `/v1/datasets/${id}`,
      `/v1/datasets/${id}/xml`,
      `/v1/datasets/${id}/views`,
      `/v1/datasets/${id}/preview.png/`,
      `/v1/datasets/${id}/preview.pngx`,
      `/v1/datasets/${id}/previewXpng`,
      `/v1/datasets/${id}/x/preview.png`,
      `/v1/datasets/${id}/views/a/b/preview.png`,
      `/V1/datasets/${id}/preview.png`,
      '/v1/batches/x',
      '//',
      '/index.html',
      '/metrics',
    ])
      expect(acceptsBasic('GET', path), path).toBe(false);
  });
});

describe('Basic credentials that change something on the queue board', () => {
  it('must come same-origin for any method but GET/HEAD/OPTIONS under /queues', () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH'])
      for (const path of ['/queues', '/queues/api/queues/bdv-finalize/add', '/queues/api/queues/x/pause'])
        expect(basicNeedsSameOrigin(method, path), `${method} ${path}`).toBe(true);
    for (const method of ['GET', 'HEAD', 'OPTIONS'])
      expect(basicNeedsSameOrigin(method, '/queues/api/queues'), method).toBe(false);
    expect(basicNeedsSameOrigin('POST', '/queuesx')).toBe(false);
  });

  it('is same-origin by Sec-Fetch-Site when sent, else by an Origin equal to protocol://Host', () => {
    const host = 'bdv.example:8080';
    const same = (headers: Record<string, string>, protocol = 'http') =>
      sameOriginRequest({ host, ...headers }, protocol);
    expect(same({ 'sec-fetch-site': 'same-origin' })).toBe(true);
    expect(same({ 'sec-fetch-site': 'same-origin', origin: 'http://bdv.example:8080' })).toBe(true);
    for (const site of ['cross-site', 'same-site', 'none'])
      expect(same({ 'sec-fetch-site': site, origin: 'http://bdv.example:8080' }), site).toBe(false);
    expect(same({ origin: 'http://bdv.example:8080' })).toBe(true);
    expect(same({ origin: 'HTTP://BDV.example:8080' })).toBe(true);
    expect(same({ origin: 'https://bdv.example:8080' }, 'https')).toBe(true);
    for (const origin of [
      'https://bdv.example:8080',
      'http://bdv.example',
      'http://bdv.example:8081',
      'http://evil.example',
      'http://bdv.example:8080.evil.example',
      'null',
      '',
    ])
      expect(same({ origin }), origin).toBe(false);
    expect(same({})).toBe(false);
    expect(sameOriginRequest({ origin: 'http://bdv.example:8080' }, 'http')).toBe(false);
  });
});

describe('credentials', () => {
  it('reads a bearer token, and a Basic password only as Basic', () => {
    expect(bearerToken('Bearer abc-def')).toBe('abc-def');
    expect(bearerToken('bearer  abc')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken('Bearer a b')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
    const basic = `Basic ${Buffer.from('user:pass:word').toString('base64')}`;
    expect(basicPassword(basic)).toBe('pass:word');
    expect(bearerToken(basic)).toBeUndefined();
    expect(basicPassword(`Basic ${Buffer.from('no-colon').toString('base64')}`)).toBeUndefined();
  });

  it('compares against every token', () => {
    const tokens = ['first-token-0123456', 'second-token-012345'];
    expect(tokenAllowed('second-token-012345', tokens)).toBe(true);
    expect(tokenAllowed('second-token-01234', tokens)).toBe(false);
    expect(tokenAllowed('', tokens)).toBe(false);
    expect(tokenAllowed(undefined, tokens)).toBe(false);
  });
});

describe('list window', () => {
  it('defaults, bounds, and refuses garbage naming the parameter', () => {
    expect(listWindowOf({})).toEqual({ offset: 0, limit: 100 });
    expect(listWindowOf({ offset: '5', limit: '1000' })).toEqual({ offset: 5, limit: 1000 });
    for (const query of [
      { limit: '-1' },
      { limit: '0' },
      { limit: '1001' },
      { limit: 'NaN' },
      { offset: '1e3' },
      { limit: ['1', '2'] },
    ])
      expect(() => listWindowOf(query), JSON.stringify(query)).toThrow(/query\.(limit|offset)/);
  });
});

describe('dataset spec differences', () => {
  it('names each differing field, one level into objects', () => {
    const existing = {
      name: 'a',
      setup: { channels: 2, tiles: 1 },
      compression: 'none',
      subsamplingZyx: [[1, 1, 1]],
    };
    expect(fieldDifferences(existing, { ...existing }, 'dataset.')).toEqual([]);
    expect(
      fieldDifferences(
        existing,
        {
          ...existing,
          setup: { tiles: 1, channels: 3 },
          compression: 'gzip',
          subsamplingZyx: [
            [1, 1, 1],
            [1, 2, 2],
          ],
          layout: 'single',
        },
        'dataset.',
      ),
    ).toEqual([
      { field: 'dataset.compression', message: 'is "none" in the existing dataset, "gzip" here' },
      { field: 'dataset.layout', message: 'is unset in the existing dataset, "single" here' },
      { field: 'dataset.setup.channels', message: 'is 2 in the existing dataset, 3 here' },
      {
        field: 'dataset.subsamplingZyx',
        message: 'is [[1,1,1]] in the existing dataset, [[1,1,1],[1,2,2]] here',
      },
    ]);
    // Key order does not matter.
    expect(fieldDifferences({ setup: { a: 1, b: 2 } }, { setup: { b: 2, a: 1 } }, '')).toEqual([]);
  });
});
