import { readFileSync } from 'node:fs';
import { create } from 'xmlbuilder2';
import { BdvError } from '../errors.js';

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
    return create(readFileSync(xmlPath, 'utf8')).end({ format: 'object' }) as XmlNode;
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'no such file'
        : `not readable XML (${(error as Error).message})`;
    throw new BdvError('INVALID_ARGUMENT', `${xmlPath}: ${reason}`, 'xml');
  }
}
