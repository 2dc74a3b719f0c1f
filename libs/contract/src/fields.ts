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
/** A source URI or local path. */
export const UriText = xmlSafe(z.string().min(1).max(MAX_URI_LENGTH));

/** An integer 0..max. */
export const boundedIndex = (max: number) => z.number().int().min(0).max(max);
/** An integer 1..max. */
export const boundedCount = (max: number) => z.number().int().min(1).max(max);
