import { expect } from 'vitest';
import type { FaultCluster } from './fault-cluster.js';
import { FAULT_SUBSAMPLING } from './fault-views.js';

/**
 * Registers `name` (one tile per source, gzip, the fault tests' two levels, `spec` on top),
 * submits a view per source and asks for the finalize: the dataset id. Every answer is checked.
 */
export async function submitFaultDataset(
  cluster: FaultCluster,
  name: string,
  sources: readonly { tile: number; uri: string }[],
  spec: Record<string, unknown> = {},
): Promise<string> {
  const created = await cluster.api.post('/v1/datasets', {
    name,
    setup: { tiles: sources.length },
    compression: 'gzip',
    subsamplingZyx: FAULT_SUBSAMPLING,
    ...spec,
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const id = created.body.id as string;
  for (const { tile, uri } of sources) {
    const r = await cluster.api.post(`/v1/datasets/${id}/views`, { tile, source: { uri } });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
  }
  expect((await cluster.api.post(`/v1/datasets/${id}/finalize`, {})).status).toBe(202);
  return id;
}

/** A view's local .npy as a submission's source. */
export const fileSource = (v: { tile: number; npy: string }) => ({ tile: v.tile, uri: `file://${v.npy}` });
