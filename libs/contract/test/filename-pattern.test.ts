import { describe, expect, it } from 'vitest';
import { BatchSpec, compileFilenamePattern, inferLayout, type ViewIndices } from '../src/index.js';

/** The backtracking regular expression the patterns used to compile to: the reference semantics. */
function regexReference(pattern: string): (name: string) => number[] | undefined {
  let source = '';
  for (const [text, name] of pattern.matchAll(/\{([a-z]+)\}|\*|[^{*]+|\{/g)) {
    if (name !== undefined) source += '(\\d+)';
    else if (text === '*') source += '[^/]*';
    else source += text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  const regex = new RegExp(`^${source}$`);
  return (name) => regex.exec(name)?.slice(1).map(Number);
}

function fieldsOf(pattern: string, indices: ViewIndices | undefined): number[] | undefined {
  const p = compileFilenamePattern(pattern);
  return indices && p.fields.map((f) => indices[f]);
}

describe('file-name patterns match in linear time', () => {
  it('match or refuse a 10,000-character name of digits in well under 50 ms', () => {
    const p = compileFilenamePattern('*{time}*{channel}*{tile}*{angle}*.tif');
    const digits = '1'.repeat(10_000);
    for (const [name, matches] of [
      [digits, false],
      [`${digits}.tif`, true],
      [`${digits}.tiff`, false],
      [`${'1_'.repeat(5_000)}.tif`, true],
    ] as const) {
      // the best of three runs: the machine is shared, the cost must not grow with the name
      let ms = Infinity;
      for (let run = 0; run < 3; run++) {
        const t0 = performance.now();
        expect(p.match(name) !== undefined, name.slice(-8)).toBe(matches);
        ms = Math.min(ms, performance.now() - t0);
      }
      expect(ms, `${ms.toFixed(1)} ms for ...${name.slice(-8)}`).toBeLessThan(50);
    }
  });

  it('give the answers the regular expression gave, on every short name over a small alphabet', () => {
    const patterns = [
      't{time}_c{channel}_s{tile}.npy',
      '*{time}*{channel}*.tif',
      '*_a{angle}.tif',
      '{time}{channel}',
      '*{time}',
      '{time}*',
      't{time}/ch{channel}.npy',
      '*1{tile}*',
      'x{{time}}*',
    ];
    const alphabet = ['1', '2', '_', 't', '.', '/', 'x', '{'];
    let seed = 7;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16;
    for (const pattern of patterns) {
      const reference = regexReference(pattern);
      const p = compileFilenamePattern(pattern);
      for (let i = 0; i < 3000; i++) {
        const length = next() % 12;
        let name = '';
        for (let j = 0; j < length; j++) name += alphabet[next() % alphabet.length];
        expect(fieldsOf(pattern, p.match(name)), `${pattern} on ${name}`).toEqual(reference(name));
      }
    }
  });

  it('keeps the leftmost-greedy choice when several matches fit', () => {
    // {time} takes as many digits as it can, leaving one to {channel}
    expect(compileFilenamePattern('{time}{channel}').match('1234')).toMatchObject({ time: 123, channel: 4 });
    // the first * is greedy: it runs to the last "_" it can
    expect(compileFilenamePattern('*_{tile}*').match('a_1_2x')).toMatchObject({ tile: 2 });
  });

  it('bounds the pattern length', () => {
    const long = `${'a'.repeat(300)}{time}`;
    expect(() => compileFilenamePattern(long)).toThrow(/at most 256 characters/);
    const r = BatchSpec.safeParse({ source: 's3://raw/x/', pattern: long, dataset: { name: 'x' } });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path.join('.'))).toContain('pattern');
  });

  it('infers the layout of many matches without exhausting the stack', () => {
    const views = Array.from({ length: 300_000 }, (_, i) => ({
      time: i % 1000,
      illumination: 0,
      channel: i % 3,
      tile: 0,
      angle: 0,
    }));
    expect(inferLayout(views)).toMatchObject({ timepoints: 1000, setup: { channels: 3 } });
  });
});

describe('{field-N} counts from N', () => {
  it('reads names numbered from 1 as indices from 0, each field by its own offset', () => {
    const p = compileFilenamePattern('Pos{tile-1}_t{time-1}_ch{channel}.npy');
    expect(p.fields).toEqual(['tile', 'time', 'channel']);
    expect(p.match('Pos001_t0001_ch00.npy')).toMatchObject({ tile: 0, time: 0, channel: 0 });
    expect(p.match('Pos012_t0100_ch02.npy')).toMatchObject({ tile: 11, time: 99, channel: 2 });
  });

  it('does not match a number below the offset (it would be a negative index)', () => {
    const p = compileFilenamePattern('s{tile-10}.npy');
    expect(p.match('s9.npy')).toBeUndefined();
    expect(p.match('s10.npy')?.tile).toBe(0);
  });

  it.each(['t{time-0}.npy', 't{time-100001}.npy'])('refuses %s, naming the field', (pattern) => {
    expect(() => compileFilenamePattern(pattern)).toThrow(/\{time-\d+\} takes off 1 to 100000/);
  });

  it('is checked by the batch schema as by the CLI', () => {
    const spec = { dataset: { name: 'a' }, source: 's3://raw/run/', pattern: 't{time-0}.npy' };
    const parsed = BatchSpec.safeParse(spec);
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error?.issues)).toMatch(/takes off 1 to/);
    expect(BatchSpec.safeParse({ ...spec, pattern: 't{time-1}.npy' }).success).toBe(true);
  });
});
