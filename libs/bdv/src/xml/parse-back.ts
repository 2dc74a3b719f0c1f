import { SaxesParser } from 'saxes';
import { BdvError } from '../errors.js';
import { hasLoneSurrogate } from '../model/text-field.js';

/**
 * Reads `xml` back with a conforming XML 1.0 parser (saxes) before it is written anywhere: a
 * document no reader can open must fail its writer, not become a `complete` dataset. Also refuses
 * lone UTF-16 surrogates, which the parser never sees (UTF-8 encoding would turn them into U+FFFD).
 */
export function assertReadableXml(xml: string, rootElement: string): void {
  if (hasLoneSurrogate(xml)) throw notReadable('it holds a lone UTF-16 surrogate');
  const parser = new SaxesParser();
  let root: string | undefined;
  let error: Error | undefined;
  parser.on('error', (e) => (error ??= e));
  parser.on('opentag', (tag) => (root ??= tag.name));
  parser.write(xml).close();
  if (error) throw notReadable(error.message);
  if (root !== rootElement) throw notReadable(`its root element is <${root}>, not <${rootElement}>`);
}

function notReadable(why: string): BdvError {
  return new BdvError('INVALID_ARGUMENT', `the XML written would not parse back: ${why}`, 'xml');
}
