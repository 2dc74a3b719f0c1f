import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../test/support/free-port.js';
import { tempDir } from '../../../test/support/oracle.js';
import { DEV_API_TOKEN, judgeTokens } from '../src/common/dev-token.js';

// The API as `docker compose up` starts it with no .env: the development token is accepted only
// in a setup that says it is one (BDV_DEV_TOKEN=1), and then printed with a warning.

const main = join(import.meta.dirname, '..', 'dist', 'main.js');
const dir = tempDir('bdv-devtoken-');
afterAll(() => dir.remove());

const baseEnv = async () => ({
  PATH: process.env.PATH ?? '',
  OUTPUT_DIR: dir.path,
  // Nothing listens there: the API must decide about its tokens before it needs Redis.
  REDIS_URL: 'redis://127.0.0.1:1',
  PORT: String(await freePort()),
  HOST: '127.0.0.1',
});

describe('the development token', () => {
  it('is judged: placeholder tokens never, the dev token only in a dev setup (with a warning)', () => {
    expect(judgeTokens(['a-real-token-of-24-chars'], false)).toEqual({});
    expect(judgeTokens([DEV_API_TOKEN], false).problem).toMatch(/^API_TOKENS: holds the development token/);
    expect(judgeTokens([DEV_API_TOKEN], true)).toMatchObject({
      warning: expect.stringContaining(DEV_API_TOKEN),
    });
    expect(judgeTokens(['a-real-token-of-24-chars', 'change-me-long-random-token'], true).problem).toMatch(
      /example token/,
    );
  });

  it('makes the API refuse to start unless BDV_DEV_TOKEN=1', async () => {
    const r = spawnSync(process.execPath, [main], {
      env: { ...(await baseEnv()), API_TOKENS: DEV_API_TOKEN },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/API_TOKENS: holds the development token, which is public/);
    expect(r.stderr).not.toContain(DEV_API_TOKEN);
  });

  it('is printed with a warning at start-up in a development setup', async () => {
    const child = spawn(process.execPath, [main], {
      env: { ...(await baseEnv()), API_TOKENS: DEV_API_TOKEN, BDV_DEV_TOKEN: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const first = out.split('\n').find((l) => l.includes('DEVELOPMENT token'));
          if (first) resolve(first);
        });
        child.once('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
        setTimeout(() => reject(new Error(`no warning within 20 s: ${out}`)), 20_000);
      });
      const entry = JSON.parse(line) as { level: number; msg: string };
      expect(entry.level).toBe(40); // pino's warn
      expect(entry.msg).toContain(DEV_API_TOKEN);
      expect(entry.msg).toMatch(/set API_TOKENS .* for production/);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
