import { z } from 'zod';

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
 * within a name; every other character is literal. Fields absent from the pattern are 0.
 */
export function compileFilenamePattern(pattern: string): FilenamePattern {
  const fields: PatternField[] = [];
  let regex = '';
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
      regex += '(\\d+)';
    } else if (text === '*') {
      regex += '[^/]*';
    } else {
      regex += text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
    }
  }
  if (fields.length === 0) throw new Error('pattern: needs at least one field such as {time} or {channel}');
  const compiled = new RegExp(`^${regex}$`);
  return {
    source: pattern,
    fields,
    match(fileName) {
      const m = compiled.exec(fileName);
      if (!m) return undefined;
      const indices: ViewIndices = { time: 0, illumination: 0, channel: 0, tile: 0, angle: 0 };
      fields.forEach((f, i) => (indices[f] = Number(m[i + 1])));
      return indices;
    },
  };
}

export const FilenamePatternString = z.string().superRefine((s, ctx) => {
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
  const max = (f: PatternField) => Math.max(0, ...views.map((v) => v[f]));
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
