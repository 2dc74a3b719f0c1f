import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/support/oracle.js';

const LIB = fileURLToPath(new URL('..', import.meta.url));
const PLUGINS = join(LIB, 'plugins');
const COMMITTED = join(PLUGINS, 'libH5Zlzf_optional.so');

function hasEmcc(): boolean {
  try {
    execFileSync('emcc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const dir = tempDir('bdv-plugin-build-');
afterAll(() => dir.remove());

describe('the committed LZF plugin', () => {
  it('is the only file of the plugin folder (HDF5 tries to load every file there)', () => {
    expect(readdirSync(PLUGINS)).toEqual(['libH5Zlzf_optional.so']);
  });

  it.skipIf(!hasEmcc())(
    'equals a fresh build of plugins-src (skipped without emcc: apt-get install emscripten)',
    () => {
      const fresh = join(dir.path, 'fresh.so');
      execFileSync('sh', [join(LIB, 'plugins-src', 'build.sh'), fresh], { stdio: 'pipe' });
      expect(readFileSync(fresh).equals(readFileSync(COMMITTED))).toBe(true);
    },
  );
});
