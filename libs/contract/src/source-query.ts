import { z } from 'zod';
import { SourceOptions, SOURCE_OPTION_FIELDS } from './view-spec.js';

/**
 * `PUT …/views/:viewKey/data` carries the upload's source options in its query string
 * (`?format=raw&shapeZyx=5,20,30&headerBytes=512`). Encoder (bdv submit) and decoder (the API)
 * live here together and walk the same field list, so no option can be lost in between.
 */
type OptionKey = keyof typeof SOURCE_OPTION_FIELDS;
const TRIPLES: readonly OptionKey[] = ['shapeZyx'];
const NUMBERS: readonly OptionKey[] = ['headerBytes'];
const KEYS = Object.keys(SOURCE_OPTION_FIELDS) as OptionKey[];

export function sourceOptionsToQuery(options: SourceOptions): Record<string, string> {
  const query: Record<string, string> = {};
  for (const key of KEYS) {
    const value = options[key];
    if (value === undefined) continue;
    query[key] = Array.isArray(value) ? value.join(',') : String(value);
  }
  return query;
}

/** Query strings → source options; a malformed value stays a string and fails validation. */
const FromQuery = z.preprocess((raw) => {
  if (typeof raw !== 'object' || raw === null) return raw;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof value !== 'string') out[key] = value;
    else if (TRIPLES.includes(key as OptionKey) && /^\d+,\d+,\d+$/.test(value))
      out[key] = value.split(',').map(Number);
    else if (NUMBERS.includes(key as OptionKey) && /^\d+$/.test(value)) out[key] = Number(value);
    else out[key] = value;
  }
  return out;
}, SourceOptions);

export function sourceOptionsFromQuery(query: unknown): z.ZodSafeParseResult<SourceOptions> {
  return FromQuery.safeParse(query);
}
