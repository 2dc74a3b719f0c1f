import { describe, expect, it } from 'vitest';
import { schemaOf } from '../src/docs/schemas.js';

type Schema = Record<string, unknown>;

/**
 * Every place of a JSON schema that admits an unbounded value, as `path: why`. A number needs a
 * minimum and a maximum, a string a maxLength (or an enum), an array a maxItems; every node says
 * what it admits (an empty schema `{}` admits anything, so it counts as unbounded).
 */
function unbounded(node: Schema, path: string): string[] {
  const found: string[] = [];
  const sub = (child: unknown, suffix: string) => {
    if (child && typeof child === 'object') found.push(...unbounded(child as Schema, `${path}${suffix}`));
  };
  // anyOf/oneOf widen: each option must be bounded; allOf narrows: only typed members are walked
  for (const key of ['anyOf', 'oneOf'] as const) {
    const options = node[key] as Schema[] | undefined;
    options?.forEach((option, i) => sub(option, `<${key}[${i}]>`));
  }
  (node.allOf as Schema[] | undefined)?.forEach((member, i) => {
    if (member.type !== undefined) sub(member, `<allOf[${i}]>`);
  });
  const type = node.type as string | undefined;
  if (node.enum !== undefined || node.const !== undefined) return found;
  if (type === undefined && !node.anyOf && !node.oneOf && !node.allOf)
    found.push(`${path}: admits any value`);
  if (type === 'number' || type === 'integer') {
    if (node.maximum === undefined && node.exclusiveMaximum === undefined) found.push(`${path}: no maximum`);
    if (node.minimum === undefined && node.exclusiveMinimum === undefined) found.push(`${path}: no minimum`);
  }
  if (type === 'string' && node.maxLength === undefined) found.push(`${path}: no maxLength`);
  if (type === 'array') {
    if (node.maxItems === undefined) found.push(`${path}: no maxItems`);
    (node.prefixItems as Schema[] | undefined)?.forEach((item, i) => sub(item, `[${i}]`));
    if (node.items !== false) sub(node.items, '[]');
  }
  if (type === 'object') {
    for (const [name, child] of Object.entries((node.properties ?? {}) as Record<string, Schema>))
      sub(child, path ? `${path}.${name}` : name);
    if (node.additionalProperties !== false) found.push(`${path || '(body)'}: admits any extra property`);
  }
  return found;
}

describe('OpenAPI request schemas', () => {
  it.each(['DatasetSpec', 'ViewSpec', 'FinalizeBody', 'BatchSpec'] as const)(
    '%s bounds every number, string and array',
    (name) => {
      const schema = schemaOf(name);
      expect(schema.type).toBe('object');
      expect(unbounded(schema, '')).toEqual([]);
    },
  );

  it('finds an unbounded field (the walker can fail)', () => {
    const schema = {
      type: 'object',
      additionalProperties: false,
      properties: {
        n: { type: 'integer', minimum: 0 },
        s: { type: 'string' },
        a: { type: 'array', items: { type: 'number', minimum: 0, maximum: 1 } },
        r: { type: 'object', properties: {}, additionalProperties: {} },
        u: {},
      },
    };
    expect(unbounded(schema, '')).toEqual([
      'n: no maximum',
      's: no maxLength',
      'a: no maxItems',
      'r: admits any extra property',
      'u: admits any value',
    ]);
  });
});
