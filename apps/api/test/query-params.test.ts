import { describe, expect, it } from 'vitest';
import type { Response } from 'express';
import type { StatusModel } from '../src/status/status-page.js';
import { StatusController } from '../src/status/status.controller.js';
import type { StatusService } from '../src/status/status.service.js';

// The status page's query: each number bounded (400 naming it past its bound), unknown keys refused.

const model: StatusModel = {
  datasets: [],
  datasetCount: 0,
  queue: { waiting: 0, delayed: 0, active: 0, failed: 0 },
  refreshSeconds: 5,
  generatedAt: new Date(0),
};
const asked: [number, number][] = [];
const service = {
  model: async (limit: number, refresh: number) => {
    asked.push([limit, refresh]);
    return model;
  },
} as unknown as StatusService;
const response = { setHeader: () => undefined, end: () => undefined } as unknown as Response;
const page = (query: Record<string, unknown>) => new StatusController(service).page(query, response);

describe('status page query', () => {
  it.each([
    [{ limit: '0' }, 'query.limit: must be an integer 1..100'],
    [{ limit: '101' }, 'query.limit: must be an integer 1..100'],
    [{ limit: 'x' }, 'query.limit: must be an integer 1..100'],
    [{ refresh: '3601' }, 'query.refresh: must be an integer 1..3600'],
    [{ refresh: '0' }, 'query.refresh: must be an integer 1..3600'],
    [{ other: '1' }, 'query.other: unknown parameter (allowed: limit, refresh)'],
  ])('refuses %o with 400', async (query, message) => {
    await expect(page(query)).rejects.toMatchObject({ status: 400, message });
  });

  it('takes the bounds and the defaults', async () => {
    asked.length = 0;
    await page({ limit: '100', refresh: '3600' });
    await page({});
    expect(asked).toEqual([
      [100, 3600],
      [20, 5],
    ]);
  });
});
