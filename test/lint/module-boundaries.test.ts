import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const repo = join(import.meta.dirname, '..', '..');
let eslint: ESLint;

/** The lint errors of the boundary rule for `code` as if it were the file `path` of the repo. */
async function boundaryErrors(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(repo, path) });
  return result!.messages.filter((m) => m.ruleId === '@nx/enforce-module-boundaries').map((m) => m.message);
}

// The dependency rule of docs/architecture.md is enforced by `npm run lint`: these are the
// violations it must catch (and one import it must allow).
describe('module boundaries', () => {
  beforeAll(() => {
    // The rule reads Nx's project graph and silently skips itself without one: make it first,
    // as the lint script does.
    execFileSync(join(repo, 'node_modules', '.bin', 'nx'), ['show', 'projects'], {
      cwd: repo,
      env: { ...process.env, NX_DAEMON: 'false' },
      stdio: 'ignore',
    });
    eslint = new ESLint({ cwd: repo });
  });

  it('refuses HDF5 (h5wasm) outside libs/bdv', async () => {
    const code = "import h5wasm from 'h5wasm/node';\nexport const h = h5wasm;\n";
    expect(await boundaryErrors('apps/worker/src/probe.ts', code)).toEqual([
      expect.stringContaining('is not allowed to import "h5wasm/node"'),
    ]);
    expect(await boundaryErrors('libs/convert/src/probe.ts', code)).toHaveLength(1);
    expect(await boundaryErrors('libs/bdv/src/h5/probe.ts', code)).toEqual([]);
  });

  it('refuses a library importing upwards', async () => {
    const code = "import { ViewThreadPool } from '@bdv-cluster/convert';\nexport const p = ViewThreadPool;\n";
    expect(await boundaryErrors('libs/pipeline/src/probe.ts', code)).toEqual([
      expect.stringContaining('can only depend on libs tagged with'),
    ]);
    expect(await boundaryErrors('apps/worker/src/probe.ts', code)).toEqual([]);
  });

  it('refuses the format core importing anything of the project', async () => {
    const code = "import { StackError } from '@bdv-cluster/stacks';\nexport const e = StackError;\n";
    expect((await boundaryErrors('libs/bdv/src/probe.ts', code)).length).toBeGreaterThan(0);
  });

  it('refuses reaching into another project by relative path', async () => {
    const code =
      "import { BdvH5File } from '../../../libs/bdv/src/h5/bdv-h5-file.js';\nexport const f = BdvH5File;\n";
    expect((await boundaryErrors('apps/worker/src/probe.ts', code)).length).toBeGreaterThan(0);
  });
});
