import { z } from 'zod';
import { MAX_PATTERN_LENGTH } from './limits.js';
import { PatternMatcher, type PatternElement } from './pattern-matcher.js';

export const PATTERN_FIELDS = ['time', 'illumination', 'channel', 'tile', 'angle'] as const;
export type PatternField = (typeof PATTERN_FIELDS)[number];
export type ViewIndices = Record<PatternField, number>;

export interface FilenamePattern {
  source: string;
  fields: PatternField[];
  /** Indices of a file name (its last path component), or undefined if it does not match. */
  match(fileName: string): ViewIndices | undefined;
}

/**
 * `t{time}_c{channel}_s{tile}.npy` -> a matcher. `{field}` matches digits; `*` matches anything
 * within a name (not `/`); every other character is literal. Fields absent from the pattern are 0.
 * Matching takes time linear in the name (pattern-matcher.ts says how, and which match wins when
 * several fit: `*` and fields as long as possible, leftmost first — a regular expression's answer).
 */
export function compileFilenamePattern(pattern: string): FilenamePattern {
  if (pattern.length > MAX_PATTERN_LENGTH)
    throw new Error(`pattern: at most ${MAX_PATTERN_LENGTH} characters, got ${pattern.length}`);
  const fields: PatternField[] = [];
  const elements: PatternElement[] = [];
  const token = /\{([a-z]+)\}|\*|[^{*]+|\{/g;
  for (const [text, name] of pattern.matchAll(token)) {
    if (name !== undefined) {
      if (!(PATTERN_FIELDS as readonly string[]).includes(name)) {
        throw new Error(
          `pattern: unknown field {${name}}; use ${PATTERN_FIELDS.map((f) => `{${f}}`).join(' ')}`,
        );
      }
      if (fields.includes(name as PatternField)) throw new Error(`pattern: field {${name}} appears twice`);
      fields.push(name as PatternField);
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
    match(fileName) {
      const digits = matcher.match(fileName);
      if (!digits) return undefined;
      const indices: ViewIndices = { time: 0, illumination: 0, channel: 0, tile: 0, angle: 0 };
      fields.forEach((f, i) => (indices[f] = Number(digits[i])));
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
