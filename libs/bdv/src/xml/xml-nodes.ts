import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { BdvError } from '../errors.js';

type XmlBuilder = typeof import('xmlbuilder2');
let xmlbuilder: XmlBuilder | undefined;
/**
 * xmlbuilder2 (CommonJS, ~50 ms to load) on first use: only the verifier and the preview read XML,
 * and `require` keeps parseXmlFile synchronous while writers and their threads never load it.
 */
const builder = (): XmlBuilder =>
  (xmlbuilder ??= createRequire(import.meta.url)('xmlbuilder2') as XmlBuilder);

// Reading xmlbuilder2's object form of a parsed XML: an element that occurs once is an object,
// several times an array; an element's text is a string or its '#' entry.

export type XmlNode = { [key: string]: unknown };

/** The elements under a key, as a list whether there were none, one or several. */
export const xmlList = (value: unknown): XmlNode[] =>
  value === undefined ? [] : Array.isArray(value) ? (value as XmlNode[]) : [value as XmlNode];

/** An element's text ('' when it has none). */
export const xmlText = (value: unknown): string =>
  typeof value === 'string'
    ? value
    : typeof value === 'object' && value !== null
      ? String((value as XmlNode)['#'] ?? '')
      : '';

/** An XML file in xmlbuilder2's object form; a missing or unparsable one is a BdvError naming it. */
export function parseXmlFile(xmlPath: string): XmlNode {
  try {
    return builder().create(readFileSync(xmlPath, 'utf8')).end({ format: 'object' }) as XmlNode;
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'no such file'
        : `not readable XML (${(error as Error).message})`;
    throw new BdvError('INVALID_ARGUMENT', `${xmlPath}: ${reason}`, 'xml');
  }
}
