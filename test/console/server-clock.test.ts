// The console's leader timeline on the serving node's clock, in a real browser
// (Debian's Chromium, headless) whose clock is an hour off the node's: the
// node's record of leaders is on its own wall clock, and the page once placed
// "the feed was lost" and the timeline's "now" on the browser's (console
// audit). A browser behind the node then called every lost feed a restart of
// the node ("not seen"), one ahead hid a real restart, and the timeline drew
// the leader an hour off. Each test runs a node over a MemoryNode (its manual
// wall clock stands still unless told) on a free port.

import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, makeHarness } from '../server/harness.js';
import { ensureChromium, openBrowser } from './browser.js';

/** How long the page may take to show a change, on a loaded machine. */
const SHOW_MS = 10_000;
const HOUR_MS = 3_600_000;
const NOT_SEEN = 'not seen: the live feed from n1 was lost and n1 restarted';

const chromium = ensureChromium();
if (chromium.path === null) console.warn(`console server-clock browser tests: not exercised: chromium missing (${chromium.reason})`);

async function listen(h: Harness, port = 0): Promise<number> {
  await h.server.listen('127.0.0.1', port);
  return (h.server.app.server.address() as { port: number }).port;
}

/** A page whose Date.now() reads the node's wall clock plus `skewMs`, moving in real time. */
async function skewedPage(browser: Awaited<ReturnType<typeof openBrowser>>, nodeWallMs: number, skewMs: number): Promise<Page> {
  const page = await browser.context.newPage();
  await page.addInitScript(({ startMs }) => {
    const real = Date.now.bind(Date);
    const realStart = real();
    Date.now = () => startMs + (real() - realStart);
  }, { startMs: nodeWallMs + skewMs });
  return page;
}

/** The cluster view, once the feed has shown the leader. */
async function openCluster(page: Page, port: number): Promise<void> {
  await page.goto(`http://127.0.0.1:${port}/ui/#/cluster`);
  await page.locator('#leader', { hasText: 'leader n1' }).waitFor({ timeout: SHOW_MS });
  await page.locator('ol.changes li').first().waitFor({ timeout: SHOW_MS });
}

async function reconnected(page: Page): Promise<void> {
  await page.locator('#notices .notice', { hasText: 'reconnected to the live feed' }).waitFor({ timeout: SHOW_MS });
  await page.locator('#connection[data-state="live"]').waitFor({ timeout: SHOW_MS });
}

describe.skipIf(chromium.path === null)('the console on the node\'s clock, with the browser\'s an hour off', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  async function browser() {
    const opened = await openBrowser(chromium.path as string);
    cleanups.push(() => opened.close());
    return opened;
  }
  async function node(): Promise<Harness> {
    const h = await makeHarness();
    cleanups.push(() => h.close());
    return h;
  }

  it('a browser behind the node: a lost feed from a node that did not restart is not marked "not seen"', async () => {
    const h = await node();
    // The node has led for five minutes (of the timeline's ten) when the page opens.
    await h.advance(5 * 60_000);
    const port = await listen(h);
    const page = await skewedPage(await browser(), h.clock.wallMs(), -HOUR_MS);
    await openCluster(page, port);
    // The timeline's "now" is the node's: the leader's segment spans about half of it. On the
    // browser's clock "now" came before the leader was first seen, and the segment had no width.
    const width = await page.locator('.timeline div', { hasText: 'n1' }).last().evaluate((el) => (el as unknown as { style: { width: string } }).style.width);
    expect(Number.parseFloat(width), width).toBeGreaterThan(45);
    expect(Number.parseFloat(width), width).toBeLessThan(55);
    // The feed drops; the node runs on.
    h.server.app.server.closeAllConnections();
    await reconnected(page);
    expect(await page.locator('ol.changes').innerText()).not.toContain('not seen');
  });

  it('a browser ahead of the node: a restart of the serving node is marked "not seen"', async () => {
    const first = await makeHarness();
    const port = await listen(first);
    const page = await skewedPage(await browser(), first.clock.wallMs(), HOUR_MS);
    await openCluster(page, port);
    await first.close();
    // The node comes back a minute later on its own clock, with a record that starts again.
    const second = await node();
    second.clock.advance(60_000);
    await listen(second, port);
    await reconnected(page);
    await page.locator('ol.changes li', { hasText: NOT_SEEN }).waitFor({ timeout: SHOW_MS });
  });
});
