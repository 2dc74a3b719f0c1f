import type { FieldProblem } from '@bdv-cluster/contract';

/** JSON with object keys sorted, so two equal values always print the same. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : v,
  );
}

/**
 * Fields (one level down into plain objects, e.g. `setup.channels`) where `wanted` differs from
 * `existing`: what a request asks for that the stored record does not have.
 */
export function fieldDifferences(
  existing: Record<string, unknown>,
  wanted: Record<string, unknown>,
  prefix: string,
  depth = 1,
): FieldProblem[] {
  const keys = [...new Set([...Object.keys(existing), ...Object.keys(wanted)])].sort();
  return keys.flatMap((key) => {
    const [a, b] = [existing[key], wanted[key]];
    if (stableJson(a) === stableJson(b)) return [];
    const isObject = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);
    if (depth > 0 && isObject(a) && isObject(b))
      return fieldDifferences(
        a as Record<string, unknown>,
        b as Record<string, unknown>,
        `${prefix}${key}.`,
        depth - 1,
      );
    return [
      {
        field: `${prefix}${key}`,
        message: `is ${show(a)} in the existing dataset, ${show(b)} here`,
      },
    ];
  });
}

function show(v: unknown): string {
  const text = v === undefined ? 'unset' : stableJson(v);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
