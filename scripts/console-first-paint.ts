// How the operator console behaves with many locks (issue 14: usable with
// 100,000): starts a 3-node cluster of real processes, takes N locks (TTL
// holds, 64 a request as lock sets), then opens the console's lock list in
// headless Chromium and measures first contentful paint, the first row of
// locks, the next page, a prefix filter, and the page's JS heap. The list
// loads one page (50) at a time, so the numbers should not grow with N; the
// server's GET /v1/locks page is timed on its own too.
//
//   npx tsx scripts/console-first-paint.ts [--locks 100000] [--base-port 16700]
//
// Run it inside a network namespace if others use loopback ports.
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { LocalCluster } from '../src/harness/local-cluster.js';
import { ensureChromium } from '../test/console/browser.js';

const { values } = parseArgs({ options: { locks: { type: 'string', default: '100000' }, 'base-port': { type: 'string', default: '16700' } } });
const LOCKS = Number(values.locks);
const SET_SIZE = 64;
const CONCURRENCY = 8;
const DAY_MS = 86_400_000;

const browserPath = ensureChromium();
if (browserPath.path === null) throw new Error(`not exercised: chromium missing (${browserPath.reason})`);

const cluster = new LocalCluster({ size: 3, basePort: Number(values['base-port']), peerPortOffset: 10, cli: 'source', flags: { logLevel: 'warn' }, output: 'stderr' });
cluster.startAll();
try {
  const leader = await cluster.leader(180_000);
  const name = (i: number) => `load:${String(i).padStart(7, '0')}`;
  const started = Date.now();
  let nextSet = 0;
  const sets = Math.ceil(LOCKS / SET_SIZE);
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    for (let set = nextSet++; set < sets; set = nextSet++) {
      const locks = [];
      for (let i = set * SET_SIZE; i < Math.min(LOCKS, (set + 1) * SET_SIZE); i++) locks.push({ name: name(i) });
      if (locks.length < 2) locks.push({ name: `load:extra-${set}` });
      // A 503 or 429 on a loaded machine: retry with the same Idempotency-Key (the outcome may be unknown).
      for (let attempt = 1; ; attempt++) {
        const res = await fetch(`${leader.url}/v1/lock-sets/acquire`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': `first-paint-${set}` },
          body: JSON.stringify({ locks, ttlMs: DAY_MS, owner: `loader-${set % 97}` }),
        });
        if (res.ok) break;
        if ((res.status !== 503 && res.status !== 429) || attempt === 30) throw new Error(`lock set ${set}: ${res.status} ${await res.text()}`);
        await new Promise((resolve) => setTimeout(resolve, Math.min(2_000, 200 * attempt)));
      }
    }
  }));
  console.log(`took ${LOCKS} locks in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const follower = cluster.running().find((n) => n.id !== leader.id)!;
  const timeApi = async (path: string) => {
    const t = performance.now();
    const res = await fetch(`${follower.url}${path}`);
    await res.json();
    return Math.round(performance.now() - t);
  };
  const apiMs = [await timeApi('/v1/locks?limit=50'), await timeApi('/v1/locks?limit=50'), await timeApi('/v1/locks?limit=50&prefix=load:00999')];
  console.log(`GET /v1/locks?limit=50 through a follower: ${apiMs[0]} ms, ${apiMs[1]} ms; with a prefix: ${apiMs[2]} ms`);

  const browser = await chromium.launch({ executablePath: browserPath.path, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const t0 = Date.now();
  await page.goto(`${follower.url}/ui/#/locks`);
  await page.locator('#locks tr[data-lock]').first().waitFor({ timeout: 60_000 });
  const firstRowMs = Date.now() - t0;
  const paint = await page.evaluate('JSON.stringify(performance.getEntriesByType("paint").map((e) => [e.name, Math.round(e.startTime)]))') as string;
  const rows = await page.locator('#locks tr[data-lock]').count();
  const t1 = Date.now();
  const firstName = await page.locator('#locks tr[data-lock]').first().getAttribute('data-lock');
  await page.locator('button', { hasText: 'Next' }).click();
  await page.locator('#locks tr[data-lock]').first().and(page.locator(`:not([data-lock="${firstName}"])`)).waitFor({ timeout: 60_000 });
  const nextMs = Date.now() - t1;
  const t2 = Date.now();
  await page.locator('input[aria-label="prefix"]').fill('load:0099');
  await page.locator('#locks tr[data-lock="load:0099000"]').waitFor({ timeout: 60_000 });
  const filterMs = Date.now() - t2;
  const heap = await page.evaluate('performance.memory ? Math.round(performance.memory.usedJSHeapSize / 1024) : null');
  const domNodes = await page.evaluate('document.getElementsByTagName("*").length');
  console.log(`console with ${LOCKS} locks: paint ${paint}; first row of locks after ${firstRowMs} ms (navigation to rows, ${rows} rows); next page ${nextMs} ms; prefix filter ${filterMs} ms (includes the 250 ms typing debounce); JS heap ${heap} KiB; ${domNodes} DOM elements`);
  await browser.close();
} finally {
  await cluster.destroy();
}
