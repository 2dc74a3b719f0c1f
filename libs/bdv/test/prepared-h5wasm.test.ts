import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { preparedH5wasm } from '../src/h5/prepared-h5wasm.js';

// scripts/prepare-h5wasm.mjs (run by `npm run build`) moves h5wasm's embedded WebAssembly into a
// file of its own (docs/adr/014). The copy must be h5wasm's own code with only that changed.
const prepared = preparedH5wasm();
const h5wasm = fileURLToPath(new URL('../../../node_modules/h5wasm', import.meta.url));

describe('the prepared h5wasm', () => {
  it('was made by the build from the installed h5wasm', () => {
    expect(prepared, 'run `npm run build`').toMatch(/\/libs\/bdv\/dist\/h5wasm\/hdf5_hl\.js$/);
    const made = JSON.parse(readFileSync(new URL('source.json', prepared), 'utf8'));
    const installed = JSON.parse(readFileSync(join(h5wasm, 'package.json'), 'utf8'));
    expect(made.h5wasm).toBe(installed.version);
  });

  it("is h5wasm's code with the module's string literal replaced by a read of a valid .wasm", () => {
    const original = readFileSync(join(h5wasm, 'dist/node/hdf5_util.js'), 'utf8');
    const copy = readFileSync(new URL('hdf5_util.js', prepared), 'utf8').replace(/^import [^\n]*\n/, '');
    let start = 0;
    while (original[start] === copy[start]) start++;
    let end = 0;
    while (original.at(-1 - end) === copy.at(-1 - end)) end++;
    expect(original.slice(start, original.length - end)).toMatch(/^binaryDecode\('\0asm/);
    expect(copy.slice(start, copy.length - end)).toBe(
      "__bdvReadWasm(new URL('./hdf5_util.wasm', import.meta.url)",
    );
    expect(original.length - start - end).toBeGreaterThan(3_000_000);
    const wasm = readFileSync(new URL('hdf5_util.wasm', prepared));
    expect(WebAssembly.validate(wasm)).toBe(true);
    expect(
      readFileSync(new URL('hdf5_hl.js', prepared)).equals(
        readFileSync(join(h5wasm, 'dist/node/hdf5_hl.js')),
      ),
    ).toBe(true);
  });
});
