/**
 * A forward-only, pretty-printing XML writer: one line per element, two spaces per level, `<a/>`
 * for an element without content — the layout xmlbuilder2's prettyPrint gives. The SpimData
 * XML of a large dataset is a million near-identical elements; a DOM (xmlbuilder2's, ~2 KB and
 * ~15 µs per node) needs gigabytes and minutes for it, this needs its text. Callers pass strings
 * already checked to be XML characters (xml-strings.ts); a parser reads the result back before it
 * is written (parse-back.ts).
 */
export class XmlLines {
  private readonly lines: string[] = ['<?xml version="1.0" encoding="utf-8"?>'];
  private readonly open: string[] = [];
  /** The start tag of the innermost element while it has no content yet. */
  private pending: string | undefined;

  /** Starts an element that will hold child elements. */
  start(name: string, attributes?: Record<string, string>): this {
    this.flushPending();
    this.pending = `${this.indent()}<${name}${attributeText(attributes)}`;
    this.open.push(name);
    return this;
  }

  /** Ends the innermost element started with `start`. */
  end(): this {
    const name = this.open.pop();
    if (name === undefined) throw new Error('XmlLines.end: no open element');
    if (this.pending !== undefined) {
      this.lines.push(`${this.pending}/>`);
      this.pending = undefined;
    } else {
      this.lines.push(`${this.indent()}</${name}>`);
    }
    return this;
  }

  /** `<name attributes>text</name>` on one line (`<name attributes/>` without text). */
  leaf(name: string, text?: string, attributes?: Record<string, string>): this {
    this.flushPending();
    const start = `${this.indent()}<${name}${attributeText(attributes)}`;
    this.lines.push(
      text === undefined || text === '' ? `${start}/>` : `${start}>${escapeText(text)}</${name}>`,
    );
    return this;
  }

  /** The document; every element must have been ended. */
  text(): string {
    if (this.open.length > 0) throw new Error(`XmlLines.text: <${this.open.at(-1)}> is still open`);
    return this.lines.join('\n');
  }

  private flushPending(): void {
    if (this.pending === undefined) return;
    this.lines.push(`${this.pending}>`);
    this.pending = undefined;
  }

  private indent(): string {
    return '  '.repeat(this.open.length);
  }
}

function attributeText(attributes: Record<string, string> | undefined): string {
  if (!attributes) return '';
  let text = '';
  for (const [name, value] of Object.entries(attributes)) text += ` ${name}="${escapeAttribute(value)}"`;
  return text;
}

const TEXT_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '\r': '&#xD;' };
const ATTRIBUTE_ESCAPES: Record<string, string> = {
  ...TEXT_ESCAPES,
  '"': '&quot;',
  '\t': '&#x9;',
  '\n': '&#xA;',
};

/** Markup characters, and CR (a parser would turn a literal one into LF). */
export function escapeText(text: string): string {
  return text.replace(/[&<>\r]/g, (c) => TEXT_ESCAPES[c]!);
}

/** Also quotes, tabs and line breaks: a parser would normalize literal ones to spaces. */
export function escapeAttribute(text: string): string {
  return text.replace(/[&<>"\t\n\r]/g, (c) => ATTRIBUTE_ESCAPES[c]!);
}
