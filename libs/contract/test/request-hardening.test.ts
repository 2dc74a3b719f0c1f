import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  BatchSpec,
  DatasetSpec,
  describeProblems,
  fieldProblems,
  Manifest,
  parseViewKey,
  viewKeyProblem,
  ViewSpec,
} from '../src/index.js';

// What a security review found the schemas let through: view keys in other spellings, names a
// shell reads as options, subnormal voxel sizes, control characters hidden in file:// URIs.

/** The refusal of `body` as the API words it ("field: message; …"), or '' when taken. */
function refusal(schema: z.ZodType, body: unknown): string {
  const r = schema.safeParse(body);
  return r.success ? '' : describeProblems(fieldProblems(r.error));
}

describe('view keys', () => {
  it('are taken only as viewKeyOf writes them', () => {
    expect(parseViewKey('t0-i0-c17-s0-a0')).toEqual({
      time: 0,
      illumination: 0,
      channel: 17,
      tile: 0,
      angle: 0,
    });
    for (const key of [
      't00-i0-c17-s0-a0',
      't0-i0-c017-s0-a0',
      't1-i0-c0-s0-a00',
      't99999999999999999999-i0-c0-s0-a0',
    ])
      expect(parseViewKey(key), key).toBeUndefined();
  });

  it('say the spelling to use, or the shape a key has', () => {
    expect(viewKeyProblem('t0-i0-c17-s0-a0')).toBeUndefined();
    expect(viewKeyProblem('t00-i0-c17-s0-a0')).toBe('view key t00-i0-c17-s0-a0: write it t0-i0-c17-s0-a0');
    expect(viewKeyProblem('t99999999999999999999-i0-c0-s0-a0')).toMatch(/its numbers are too large/);
    expect(viewKeyProblem('..')).toMatch(/^view key \.\.: not t<time>-i<illumination>/);
    expect(viewKeyProblem('x'.repeat(100))).toMatch(/^view key x{64}…: not/);
  });
});

describe('dataset names', () => {
  it('refuse a leading - and names made only of dots', () => {
    expect(refusal(DatasetSpec, { name: '-rf' })).toBe(
      'name: must not start with - (scripts would read it as an option)',
    );
    for (const name of ['.', '..', '...'])
      expect(refusal(DatasetSpec, { name }), name).toBe('name: must not be only dots');
    expect(
      refusal(BatchSpec, { source: 's3://raw/x/', pattern: 't{time}.npy', dataset: { name: '-x' } }),
    ).toMatch(/^dataset\.name: must not start with -/);
  });

  it('take everything else as before', () => {
    for (const name of ['CON', 'a-', 'run-1', '.hidden', 'a..b', '_x', 'x.', '0'])
      expect(refusal(DatasetSpec, { name }), name).toBe('');
  });

  it('say their rule in the OpenAPI schema', () => {
    const schema = z.toJSONSchema(DatasetSpec, { io: 'input', unrepresentable: 'any' }) as {
      properties: { name: { description?: string } };
    };
    expect(schema.properties.name.description).toMatch(/not starting with - and not only dots/);
  });
});

describe('voxel sizes', () => {
  const source = { uri: 's3://raw/a.npy' };

  it('are 1e-9..1e9 in any unit, the field named', () => {
    expect(refusal(ViewSpec, { source, voxelSizeXyz: [1e-320, 1, 1] })).toBe(
      'voxelSizeXyz[0]: must be 1e-9..1e9 in any unit',
    );
    expect(refusal(ViewSpec, { source, voxelSizeXyz: [1, 1, 1e10] })).toBe(
      'voxelSizeXyz[2]: must be 1e-9..1e9 in any unit',
    );
    expect(refusal(ViewSpec, { source, voxelSizeXyz: [1e-9, 0.000406, 1e9] })).toBe('');
    // a batch's viewDefaults and a manifest's views (bdv convert's --voxel-size) are the same field
    expect(
      refusal(BatchSpec, {
        source: 's3://raw/x/',
        pattern: 't{time}.npy',
        dataset: { name: 'a' },
        viewDefaults: { voxelSizeXyz: [1e-10, 1, 1] },
      }),
    ).toBe('viewDefaults.voxelSizeXyz[0]: must be 1e-9..1e9 in any unit');
    expect(
      refusal(Manifest, {
        dataset: { name: 'a' },
        views: [{ source: { uri: 'a.npy' }, voxelSizeXyz: [0, 1, 1] }],
      }),
    ).toMatch(/^views\[0\]\.voxelSizeXyz\[0\]: must be 1e-9\.\.1e9 in any unit/);
  });

  it('show their bounds in the OpenAPI schema', () => {
    const schema = z.toJSONSchema(ViewSpec, { io: 'input', unrepresentable: 'any' }) as {
      properties: { voxelSizeXyz: { prefixItems: Record<string, unknown>[] } };
    };
    expect(schema.properties.voxelSizeXyz.prefixItems[0]).toMatchObject({ minimum: 1e-9, maximum: 1e9 });
  });
});

describe('file:// source URIs', () => {
  it('are refused with a control character in them, encoded or not', () => {
    const view = (uri: string) => refusal(ViewSpec, { source: { uri } });
    expect(view('file:///data/t0.npy%00.png')).toBe('source.uri: contains a control character (%00)');
    expect(view('file:///data/t0%0a.npy')).toBe('source.uri: contains a control character (%0A)');
    expect(view('file:///data/t0%7F.npy')).toBe('source.uri: contains a control character (%7F)');
    expect(view('file:///data/t0\n.npy')).toBe('source.uri: contains a control character (%0A)');
    expect(view('file:///data/t0\t.npy')).toBe('source.uri: contains a control character (%09)');
    expect(
      refusal(BatchSpec, { source: 'file:///data/%1f/', pattern: 't{time}.npy', dataset: { name: 'a' } }),
    ).toBe('source: contains a control character (%1F)');
  });

  it('keep other escapes, and other URIs and paths keep their % as it is', () => {
    const view = (uri: string) => refusal(ViewSpec, { source: { uri } });
    for (const uri of [
      'file:///data/t0%20x.npy',
      'file:///data/%25.npy',
      'file:///data/%C3%A9.npy',
      's3://raw/a%00.npy',
      'a%00.npy',
    ])
      expect(view(uri), uri).toBe('');
  });
});
