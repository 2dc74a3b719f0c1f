import { hasLoneSurrogate, XML_TEXT_PATTERN } from '@bdv-cluster/bdv';
import { z } from 'zod';
import { MAX_TEXT_LENGTH, MAX_URI_LENGTH } from './limits.js';

/**
 * String schemas of every request: bounded, and free of the characters XML 1.0 cannot carry (C0
 * controls but tab/LF/CR, U+FFFE/U+FFFF, lone surrogates) — a label with one would make an XML no
 * parser reads. The pattern shows in the OpenAPI schema; surrogates are checked besides.
 */
function xmlSafe(schema: z.ZodString) {
  return schema
    .regex(XML_TEXT_PATTERN, 'must not contain control characters (other than tab, LF, CR) or U+FFFE/U+FFFF')
    .refine((s) => !hasLoneSurrogate(s), 'must not contain a lone UTF-16 surrogate');
}

/** A label, unit, name or camera: 1..256 characters. */
export const Text = xmlSafe(z.string().min(1).max(MAX_TEXT_LENGTH));
/** Microscope fields may be empty (npy2bdv writes them as given). */
export const OptionalText = xmlSafe(z.string().max(MAX_TEXT_LENGTH));
/**
 * The first control character a file:// URI carries, percent-encoded (`%00`) or as tab, LF or CR
 * (XML_TEXT_PATTERN refuses the others), in its %XX form; undefined when none. Its path is
 * decoded to open the file: a NUL (`t0.npy%00.png`) or a newline in a path is never a file the
 * client meant, and Node's refusal of a NUL surfaced as ERR_INVALID_ARG_VALUE.
 */
function controlCharacterOf(uri: string): string | undefined {
  if (!uri.startsWith('file:')) return undefined;
  const found = /%(?:[01][0-9a-f]|7f)|[\t\n\r]/i.exec(uri)?.[0];
  if (found === undefined) return undefined;
  if (found.startsWith('%')) return found.toUpperCase();
  return `%${found.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase()}`;
}

/** A source URI or local path. */
export const UriText = xmlSafe(z.string().min(1).max(MAX_URI_LENGTH)).superRefine((uri, ctx) => {
  const control = controlCharacterOf(uri);
  if (control) ctx.addIssue({ code: 'custom', message: `contains a control character (${control})` });
});

/** An integer 0..max. */
export const boundedIndex = (max: number) => z.number().int().min(0).max(max);
/** An integer 1..max. */
export const boundedCount = (max: number) => z.number().int().min(1).max(max);
