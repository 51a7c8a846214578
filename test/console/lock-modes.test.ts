// The console's locks in a real browser (Debian's Chromium, headless) against
// one node over a MemoryNode, listening on a free port: a semaphore (a lock
// taken with `limit`) shows as a semaphore with its limit, in the list and in
// the lock's own view, not as "exclusive" (console audit); an exclusive and a
// shared lock show their modes.

import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, makeHarness } from '../server/harness.js';
import { ensureChromium, openBrowser } from './browser.js';

/** How long the page may take to show what the node holds, on a loaded machine. */
const SHOW_MS = 10_000;

const chromium = ensureChromium();
if (chromium.path === null) console.warn(`console lock-mode browser tests: not exercised: chromium missing (${chromium.reason})`);

describe.skipIf(chromium.path === null)('the console shows each lock\'s mode', () => {
  let h: Harness;
  let base: string;
  let browser: Awaited<ReturnType<typeof openBrowser>>;
  let page: Page;
  beforeAll(async () => {
    h = await makeHarness();
    await h.server.listen('127.0.0.1', 0);
    base = `http://127.0.0.1:${(h.server.app.server.address() as { port: number }).port}`;
    const acquire = async (name: string, body: Record<string, unknown>) => {
      const res = await h.call('POST', `/v1/locks/${name}/acquire`, { ttlMs: 600_000, ...body });
      expect(res.body.acquired, name).toBe(true);
    };
    await acquire('modes:semaphore', { limit: 3, owner: 'a' });
    await acquire('modes:semaphore', { limit: 3, owner: 'b' });
    await acquire('modes:exclusive', {});
    await acquire('modes:shared', { mode: 'shared' });
    browser = await openBrowser(chromium.path as string);
    page = await browser.context.newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('in the list: a semaphore with its limit, and exclusive and shared as they are', async () => {
    await page.goto(`${base}/ui/#/locks?prefix=modes:`);
    const modeOf = (name: string) => page.locator(`#locks tr[data-lock="${name}"] td`).nth(1);
    await modeOf('modes:semaphore').waitFor({ timeout: SHOW_MS });
    expect(await modeOf('modes:semaphore').innerText()).toBe('semaphore (limit 3)');
    expect(await modeOf('modes:exclusive').innerText()).toBe('exclusive');
    expect(await modeOf('modes:shared').innerText()).toBe('shared');
  });

  it('in the lock\'s own view: a semaphore with its limit, each holder a semaphore holder', async () => {
    await page.goto(`${base}/ui/#/locks/${encodeURIComponent('modes:semaphore')}`);
    const rows = page.locator('#holders tbody tr');
    await rows.nth(1).waitFor({ timeout: SHOW_MS });
    expect(await page.locator('#main p', { hasText: 'holder(s)' }).innerText()).toContain('mode semaphore (limit 3)');
    expect(await rows.nth(0).locator('td').nth(1).innerText()).toBe('semaphore');
    expect(await rows.nth(1).locator('td').nth(1).innerText()).toBe('semaphore');
  });
});
