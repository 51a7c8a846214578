// Debian's Chromium, driven headless by playwright-core, for the console's
// browser tests. CI starts from a clean machine: when /usr/bin/chromium is
// missing and we are root with apt, it is installed; otherwise the tests are
// skipped and say so ("not exercised: chromium missing").

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
/** apt-get update and install of chromium with its libraries, on a slow mirror. */
const INSTALL_TIMEOUT_MS = 15 * 60_000;

const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** The browser's path, installing it when we may; null (with the reason) when it is not there. */
export function ensureChromium(): { path: string } | { path: null; reason: string } {
  if (existsSync(CHROMIUM)) return { path: CHROMIUM };
  const root = process.getuid?.() === 0;
  const apt = spawnSync('sh', ['-c', 'command -v apt-get'], { encoding: 'utf8' }).status === 0;
  if (!root || !apt) return { path: null, reason: `${CHROMIUM} is missing and ${root ? 'apt-get is not available' : 'we are not root'} to install it` };
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', 'chromium']]) {
    const run = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', env, timeout: INSTALL_TIMEOUT_MS });
    if (run.status !== 0 && args[0] === 'install') return { path: null, reason: `apt-get install chromium failed: ${(run.stderr ?? '').trim().split('\n').slice(-2).join(' ')}` };
  }
  return existsSync(CHROMIUM) ? { path: CHROMIUM } : { path: null, reason: `apt-get installed chromium but ${CHROMIUM} is not there` };
}

/** A fresh browser profile (its own --user-data-dir), removed by close(). */
export async function openBrowser(executablePath: string): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'lockstep-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath, headless: true, args: FLAGS, viewport: { width: 1280, height: 800 } });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
