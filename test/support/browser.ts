import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch, type Browser } from 'puppeteer-core';

/** Debian's chromium (scripts/install-test-deps.sh installs it), or CHROMIUM_PATH. */
export function chromiumPath(): string | undefined {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  return candidates.find((c): c is string => !!c && existsSync(c));
}

/**
 * Headless Chromium driven by puppeteer-core, as root on a closed network: no sandbox, no GPU,
 * none of the background connections Chromium makes at start, a fresh empty profile.
 */
export async function startBrowser(): Promise<{ browser: Browser; close: () => Promise<void> }> {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error('no chromium: run scripts/install-test-deps.sh');
  const profile = mkdtempSync(join(tmpdir(), 'bdv-chromium-'));
  const browser = await launch({
    executablePath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      `--user-data-dir=${profile}`,
    ],
  });
  return {
    browser,
    async close() {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
