import { invalid } from '../errors.js';
import { MAX_TEXT_LENGTH } from './limits.js';

/**
 * Characters XML 1.0 cannot carry, even escaped: C0 controls other than tab, LF and CR, and the
 * non-characters U+FFFE and U+FFFF. (Lone UTF-16 surrogates neither: see `hasLoneSurrogate`.) A
 * string holding one makes an XML that no parser reads, so every string bound for the XML is
 * checked against this. As a pattern for JSON Schema: a string of none of them.
 */
// Matching control characters is the point of these two patterns.
// eslint-disable-next-line no-control-regex
export const XML_FORBIDDEN_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;
// eslint-disable-next-line no-control-regex
export const XML_TEXT_PATTERN = /^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]*$/;

/** A high surrogate without its low one or the reverse: not a character, UTF-8 cannot encode it. */
export function hasLoneSurrogate(value: string): boolean {
  return /\p{Cs}/u.test(value);
}

/** Why `value` cannot go into the XML, or undefined. */
export function xmlTextProblem(value: string): string | undefined {
  const bad = XML_FORBIDDEN_CHAR.exec(value);
  if (bad) {
    const code = bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    return `holds U+${code} at index ${bad.index}, a character XML 1.0 cannot carry`;
  }
  if (hasLoneSurrogate(value)) return 'holds a lone UTF-16 surrogate, which is not a character';
  return undefined;
}

/** A label, unit, name or microscope field: 1..MAX_TEXT_LENGTH characters XML can carry. */
export function textFieldProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length === 0) return 'must be a non-empty string';
  if (value.length > MAX_TEXT_LENGTH)
    return `must be at most ${MAX_TEXT_LENGTH} characters, got ${value.length}`;
  return xmlTextProblem(value);
}

export function assertTextField(field: string, value: unknown): string {
  const problem = textFieldProblem(value);
  if (problem) throw invalid(field, problem);
  return value as string;
}
