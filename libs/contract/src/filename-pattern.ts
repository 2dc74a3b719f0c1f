import { z } from 'zod';
import { MAX_PATTERN_LENGTH } from './limits.js';
import { PatternMatcher, type PatternElement } from './pattern-matcher.js';

export const PATTERN_FIELDS = ['time', 'illumination', 'channel', 'tile', 'angle'] as const;
export type PatternField = (typeof PATTERN_FIELDS)[number];
export type ViewIndices = Record<PatternField, number>;

export interface FilenamePattern {
  source: string;
  fields: PatternField[];
  /** What `{field-N}` takes off each field's number (0 for a plain `{field}`), in `fields` order. */
  offsets: number[];
  /** Indices of a file name (its last path component), or undefined if it does not match. */
  match(fileName: string): ViewIndices | undefined;
}

/** The most `{field-N}` may take off: the most timepoints a dataset may have. */
export const MAX_PATTERN_OFFSET = 100_000;

/**
 * `t{time}_c{channel}_s{tile}.npy` -> a matcher. `{field}` matches digits; `{field-N}` matches
 * digits and takes N off (acquisition software that counts from 1: `Pos{tile-1}` reads Pos001 as
 * tile 0; a number below N does not match); `*` matches anything within a name (not `/`); every
 * other character is literal. Fields absent from the pattern are 0.
 * Matching takes time linear in the name (pattern-matcher.ts says how, and which match wins when
 * several fit: `*` and fields as long as possible, leftmost first — a regular expression's answer).
 */
export function compileFilenamePattern(pattern: string): FilenamePattern {
  if (pattern.length > MAX_PATTERN_LENGTH)
    throw new Error(`pattern: at most ${MAX_PATTERN_LENGTH} characters, got ${pattern.length}`);
  const fields: PatternField[] = [];
  const offsets: number[] = [];
  const elements: PatternElement[] = [];
  const token = /\{([a-z]+)(?:-(\d+))?\}|\*|[^{*]+|\{/g;
  for (const [text, name, offset] of pattern.matchAll(token)) {
    if (name !== undefined) {
      if (!(PATTERN_FIELDS as readonly string[]).includes(name)) {
        throw new Error(
          `pattern: unknown field {${name}}; use ${PATTERN_FIELDS.map((f) => `{${f}}`).join(' ')}`,
        );
      }
      if (fields.includes(name as PatternField)) throw new Error(`pattern: field {${name}} appears twice`);
      const minus = offset === undefined ? 0 : Number(offset);
      if (offset !== undefined && !(minus >= 1 && minus <= MAX_PATTERN_OFFSET))
        throw new Error(`pattern: {${name}-${offset}} takes off 1 to ${MAX_PATTERN_OFFSET}, not ${offset}`);
      fields.push(name as PatternField);
      offsets.push(minus);
      elements.push({ kind: 'digits' });
    } else if (text === '*') {
      if (elements.at(-1)?.kind !== 'star') elements.push({ kind: 'star' }); // ** is *
    } else {
      elements.push({ kind: 'literal', text });
    }
  }
  if (fields.length === 0) throw new Error('pattern: needs at least one field such as {time} or {channel}');
  const matcher = new PatternMatcher(elements);
  return {
    source: pattern,
    fields,
    offsets,
    match(fileName) {
      const digits = matcher.match(fileName);
      if (!digits) return undefined;
      const indices: ViewIndices = { time: 0, illumination: 0, channel: 0, tile: 0, angle: 0 };
      for (const [i, f] of fields.entries()) {
        const index = Number(digits[i]) - (offsets[i] ?? 0);
        if (index < 0) return undefined;
        indices[f] = index;
      }
      return indices;
    },
  };
}

export const FilenamePatternString = z
  .string()
  .max(MAX_PATTERN_LENGTH)
  .superRefine((s, ctx) => {
    try {
      compileFilenamePattern(s);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message.replace(/^pattern: /, '') });
    }
  });

export interface InferredLayout {
  setup: { illuminations: number; channels: number; tiles: number; angles: number };
  timepoints: number;
}

/**
 * Setup counts and timepoints from the indices found (max + 1 each). Indices need not be dense:
 * gaps become MissingViews.
 */
export function inferLayout(views: readonly ViewIndices[]): InferredLayout {
  // a loop, not Math.max(...): a listing of a few hundred thousand names would overflow the stack
  const max = (f: PatternField) => views.reduce((m, v) => Math.max(m, v[f]), 0);
  return {
    setup: {
      illuminations: max('illumination') + 1,
      channels: max('channel') + 1,
      tiles: max('tile') + 1,
      angles: max('angle') + 1,
    },
    timepoints: max('time') + 1,
  };
}
