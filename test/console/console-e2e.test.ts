// The operator console in a real browser (Debian's Chromium, headless, driven
// by playwright-core) against real 3-node clusters of `lockstep serve`: the
// cluster view shows the leader; a lock taken through the API appears with its
// holder without a reload; waiters show in line order and move up live; a
// session kept alive never shows as run out; a phone-wide window does not
// scroll sideways; a kill -9 of the leader shows the new leader without a reload; with a
// majority down the page says there is no quorum and names the nodes; when
// the node serving the page dies, the page says what it shows is stale, drops
// its actions and links to the other consoles; with auth on,
// the console asks for a token, keeps it for the tab only, and a reader token
// sees but cannot act while an admin hands leadership over and deletes a
// session after a confirmation naming its holds. After a failover, the killed
// member shows no match or lag (the new leader's progress for a member it does
// not hear from says nothing of it); while the page's own node is down, the
// sessions view offers no Delete, and offers it again once the feed is back;
// the leader timeline the page has seen stays across that node's restart.
// A lock's view that could not load while there was no quorum loads by
// itself once the quorum is back, though the lock itself did not change.
// A learner's role is said once.
// Screenshots go to
// $LOCKSTEP_SCREENSHOTS (default: a folder in the system's temp directory).

import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCluster, type LocalNode } from '../../src/harness/local-cluster.js';
import { TEST_CLI } from '../node/support/proc-cluster.js';
import { api } from '../server/real-cluster.js';
import { ensureChromium, openBrowser } from './browser.js';

/** API ports 16601-16603 / 16641-16643, peer ports +10 (not used by other suites). */
const OPEN_BASE_PORT = 16_600;
const AUTH_BASE_PORT = 16_640;
/** API ports 16661-16663, peer ports +10 (it was 7660: test/PORTS.md keeps 7000-7999 free of listening tests). */
const FAILOVER_BASE_PORT = 16_660;
/** API ports 16621-16624, peer ports +10. */
const LEARNER_BASE_PORT = 16_620;
/** API ports 16681-16683, peer ports +10. */
const QUORUM_BASE_PORT = 16_680;
const PEER_OFFSET = 10;
/** How long the page may take to show a change: generous for a loaded 2-core CI machine (measured values are logged). */
const SHOW_MS = 10_000;
const ROOT = 'console-e2e-root-token';
const SHOTS = process.env.LOCKSTEP_SCREENSHOTS ?? join(tmpdir(), 'lockstep-console-screenshots');
/** Three nodes from source starting at once on a busy 2-core machine may take long to agree on a leader. */
const LEADER_WAIT_MS = 120_000;

/**
 * A 3-node cluster of `lockstep serve` (TEST_CLI), ready once every node agrees on a leader.
 * serve's own timings, as `cluster up`: the tests take the leader seen at setup, and at
 * FAST_ELECTION's 500 ms a loaded machine's pause could move it before the first test ran.
 * A killed leader is noticed at once either way (its closed connections).
 */
async function startCluster(basePort: number, authToken?: string): Promise<LocalCluster> {
  const cluster = new LocalCluster({ size: 3, basePort, peerPortOffset: PEER_OFFSET, authToken, cli: TEST_CLI, flags: { logLevel: 'warn' }, output: 'stderr' });
  cluster.startAll();
  try {
    await cluster.waitForLeader({ ready: true, timeoutMs: LEADER_WAIT_MS });
  } catch (error) {
    await cluster.destroy();
    throw error;
  }
  return cluster;
}

const chromium = ensureChromium();
if (chromium.path === null) console.warn(`console browser tests: not exercised: chromium missing (${chromium.reason})`);

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** Ms from now until `locator` shows, for the notes (asserted only against SHOW_MS). */
async function timeToShow(page: Page, selector: string, text?: string | RegExp): Promise<number> {
  const started = Date.now();
  const locator = text === undefined ? page.locator(selector) : page.locator(selector, { hasText: text });
  await locator.first().waitFor({ state: 'visible', timeout: SHOW_MS });
  return Date.now() - started;
}

describe.skipIf(chromium.path === null)('the console in a browser, auth off', () => {
  let cluster: LocalCluster;
  let browser: { context: BrowserContext; close(): Promise<void> };
  let page: Page;
  let leader: LocalNode;
  let follower: LocalNode;
  /** Script errors and policy violations on the page (a blocked inline style shows here). */
  const pageErrors: string[] = [];

  beforeAll(async () => {
    cluster = await startCluster(OPEN_BASE_PORT);
    browser = await openBrowser(chromium.path!);
    leader = await cluster.leader();
    // The page is served by a follower: killing the leader must not take the page with it.
    follower = cluster.running().find((node) => node.id !== leader.id)!;
    page = await browser.context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
    page.on('pageerror', (error) => pageErrors.push(String(error)));
    await page.goto(`${follower.url}/ui/`);
    // Page expressions are strings: the tests are compiled without the DOM's types.
    await page.evaluate('window.notReloaded = true');
  }, LEADER_WAIT_MS + 60_000);
  afterAll(async () => {
    await browser?.close();
    await cluster?.destroy();
  });

  it('shows the members and the leader', async () => {
    await page.locator('#leader', { hasText: `leader ${leader.id}` }).waitFor({ timeout: SHOW_MS });
    await expect.poll(() => page.locator('#members tbody tr').count(), { timeout: SHOW_MS }).toBe(3);
    expect(await page.locator('#members tr.leader').getAttribute('data-member')).toBe(leader.id);
    await page.locator('#connection[data-state="live"]').waitFor({ timeout: SHOW_MS });
    await page.locator('#members tbody tr .pill.ok').nth(2).waitFor({ timeout: SHOW_MS });
    // Served by a follower: Reachable is its own poll of the members, not the leader's view.
    expect(await page.locator('#main p.muted').first().innerText()).toContain(`reachable is whether each member's API answered ${follower.id}`);
    expect(await page.locator('.timeline div').count()).toBeGreaterThan(0);
    expect(await page.locator('.timeline div').first().getAttribute('style')).toMatch(/width: [\d.]+%/);
    // Policy violations, script errors and failed loads: the page's own error log stays clean (it had a 404 for
    // /favicon.ico on every load, which an operator opening the developer tools took for a fault).
    expect(pageErrors).toEqual([]);
    await shot(page, 'cluster');
  });

  it('shows a lock taken through the API with its holder, without a reload', async () => {
    await page.goto(`${follower.url}/ui/#/locks?prefix=e2e:`);
    await page.locator('#locks tbody').waitFor();
    const taken = await api(leader, 'POST', '/v1/locks/e2e:alpha/acquire', { ttlMs: 120_000, owner: 'alice' });
    expect(taken.body.acquired).toBe(true);
    const ms = await timeToShow(page, '#locks tr[data-lock="e2e:alpha"]', 'alice');
    console.log(`console: a lock taken through the API showed in the list after ${ms} ms`);
    await expect.poll(() => page.locator('#locks tr[data-lock="e2e:alpha"]').innerText()).toContain(`#${taken.body.fencingToken}`);
    // The view the user is on is said to assistive technology too, not only by colour.
    expect(await page.locator('#nav a[aria-current="page"]').allInnerTexts()).toEqual(['Locks']);
    await shot(page, 'locks');
  });

  it('shows waiters in line order, and the line moving up live', async () => {
    const session = async (name: string) => (await api(leader, 'POST', '/v1/sessions', { ttlMs: 60_000, name })).body.sessionId as string;
    const [first, second, third] = [await session('first'), await session('second'), await session('third')];
    const held = await api(leader, 'POST', '/v1/locks/e2e:queue/acquire', { sessionId: first, owner: 'first' });
    expect(held.body.acquired).toBe(true);
    await page.goto(`${follower.url}/ui/#/locks/${encodeURIComponent('e2e:queue')}`);
    await page.locator('#holders td', { hasText: 'first' }).waitFor({ timeout: SHOW_MS });
    // Queue second, then third (each seen in the line before the next joins).
    const waits = [];
    for (const [id, owner] of [[second, 'second'], [third, 'third']]) {
      waits.push(api(follower, 'POST', '/v1/locks/e2e:queue/acquire', { sessionId: id, owner, waitMs: 60_000 }));
      await expect.poll(async () => (await api(leader, 'GET', '/v1/locks/e2e:queue')).body.waiters.map((w: { owner: string }) => w.owner), { timeout: SHOW_MS }).toContain(owner);
    }
    await expect.poll(() => page.locator('#waiters tbody tr').allInnerTexts(), { timeout: SHOW_MS }).toEqual([expect.stringMatching(/^1\s+second/), expect.stringMatching(/^2\s+third/)]);
    await shot(page, 'lock-waiters');
    // Release the first: the page follows the watch stream — second holds, third is first in line.
    expect((await api(leader, 'POST', '/v1/locks/e2e:queue/release', { fencingToken: held.body.fencingToken })).body.released).toBe(true);
    expect((await waits[0]).body.acquired).toBe(true);
    await page.locator('#holders td', { hasText: 'second' }).waitFor({ timeout: SHOW_MS });
    await expect.poll(() => page.locator('#waiters tbody tr').allInnerTexts(), { timeout: SHOW_MS }).toEqual([expect.stringMatching(/^1\s+third/)]);
    await page.locator('#lock-events', { hasText: 'released' }).waitFor({ timeout: SHOW_MS });
    await api(leader, 'DELETE', `/v1/sessions/${third}`);
    await waits[1];
  });

  it('keeps a session\'s time left true while its client keeps it alive (keepalives move no index)', async () => {
    const ttlMs = 2_000;
    const sessionId = (await api(leader, 'POST', '/v1/sessions', { ttlMs, name: 'kept-alive' })).body.sessionId as string;
    const keeper = setInterval(() => void api(leader, 'POST', `/v1/sessions/${sessionId}/keepalive`), 400);
    try {
      expect((await api(leader, 'POST', '/v1/locks/e2e:kept/acquire', { sessionId, owner: 'kept' })).body.acquired).toBe(true);
      // The sessions list, then the lock's own view (its holder's time left is the session's).
      for (const [view, cell] of [['sessions', `#sessions tr[data-session="${sessionId}"] td >> nth=3`], [`locks/${encodeURIComponent('e2e:kept')}`, '#holders tbody tr td >> nth=5']]) {
        await page.goto(`${follower.url}/ui/#/${view}`);
        const left = page.locator(cell);
        await left.waitFor({ timeout: SHOW_MS });
        const shownAt = Date.now();
        // Past the TTL, the session lives on: the page must not show it run out ("0 s").
        await expect.poll(async () => Date.now() - shownAt > 2 * ttlMs && (await left.innerText()) !== '0 s', { timeout: 4 * ttlMs + SHOW_MS, interval: 200, message: `#/${view}` }).toBe(true);
      }
      await shot(page, 'session-kept-alive');
    } finally {
      clearInterval(keeper);
      await api(leader, 'DELETE', `/v1/sessions/${sessionId}`);
    }
  });

  it('fits a phone-wide window: the page never scrolls sideways, wide tables scroll in their own box', async () => {
    const phone = await browser.context.newPage();
    // The persistent context's pages take no viewport option: set it on the page.
    await phone.setViewportSize({ width: 390, height: 844 });
    for (const view of ['cluster', 'locks', 'sessions']) {
      await phone.goto(`${follower.url}/ui/#/${view}`);
      await phone.locator('main table tbody tr').first().waitFor({ timeout: SHOW_MS });
      // Wait for the live rows (the members table fills from the feed).
      if (view === 'cluster') await expect.poll(() => phone.locator('#members tbody tr').count(), { timeout: SHOW_MS }).toBe(3);
      expect(await phone.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'), `#/${view} scrolls sideways`).toBeLessThanOrEqual(0);
    }
    await shot(phone, 'phone-cluster');
    await phone.close();
  });

  it('shows the new leader after kill -9 of the leader, without a reload', async () => {
    await page.goto(`${follower.url}/ui/#/cluster`);
    await page.locator('#leader', { hasText: `leader ${leader.id}` }).waitFor({ timeout: SHOW_MS });
    const killedAt = Date.now();
    await cluster.kill(leader.id);
    await page.locator('#leader', { hasText: /leader n\d/ }).filter({ hasNotText: `leader ${leader.id}` }).waitFor({ timeout: 30_000 });
    console.log(`console: the new leader showed ${Date.now() - killedAt} ms after kill -9 of ${leader.id}`);
    const shown = (await page.locator('#leader').innerText()).replace('leader ', '');
    expect(shown).not.toBe(leader.id);
    expect(await cluster.waitForLeader()).toBe(shown);
    await page.locator('.notice', { hasText: `leader changed: ${leader.id} → ${shown}` }).waitFor({ timeout: SHOW_MS });
    // The killed node shows as not answering, and is offered no leadership (a hand-over to it can only time out).
    await page.locator(`#members tr[data-member="${leader.id}"] .pill.bad`).waitFor({ timeout: SHOW_MS });
    expect(await page.locator(`#members tr[data-member="${leader.id}"] button.transfer`).count()).toBe(0);
    expect(await page.evaluate('window.notReloaded')).toBe(true);
    await shot(page, 'leader-killed');
  });

  it('says when the node serving the page dies: what it shows is stale, no actions, links to the other consoles', async () => {
    // Two nodes run (the page's and one other); the page's node is killed.
    const other = cluster.running().find((node) => node.id !== follower.id)!;
    await page.goto(`${follower.url}/ui/#/cluster`);
    await page.locator('#connection[data-state="live"]').waitFor({ timeout: SHOW_MS });
    await expect.poll(() => page.locator('#members .pill.ok').count(), { timeout: SHOW_MS }).toBe(2);
    expect(await page.locator('button.transfer').count()).toBeGreaterThan(0);
    await cluster.kill(follower.id);
    const health = page.locator('#health', { hasText: `lost the live feed from ${follower.id}` });
    await health.waitFor({ timeout: SHOW_MS });
    expect(await health.innerText()).toMatch(/as it was at \d\d:\d\d:\d\d/);
    // The way out is a link, not a URL to copy.
    expect(await page.locator(`#health a[href="${other.url}/ui/"]`).count()).toBe(1);
    // No button acts on a view that may be out of date.
    expect(await page.locator('button.transfer').count()).toBe(0);
    expect(await page.locator('body.stale').count()).toBe(1);
    await shot(page, 'page-node-killed');
  });

  it('says there is no quorum when a majority does not answer, naming the nodes, and shows no stale role for them', async () => {
    // Of three nodes, two are down now (the first leader and the page's node): the last one's console.
    const last = cluster.running()[0];
    const page2 = await browser.context.newPage();
    await page2.goto(`${last.url}/ui/#/cluster`);
    const health = page2.locator('#health', { hasText: /^No quorum:/ });
    await health.waitFor({ timeout: 30_000 });
    const text = await health.innerText();
    expect(text).toContain('only 1 of 3 voting members answer');
    for (const down of [leader.id, follower.id]) expect(text).toContain(down);
    for (const down of [leader.id, follower.id]) {
      await expect.poll(() => page2.locator(`#members tr[data-member="${down}"] td`).nth(1).innerText(), { timeout: SHOW_MS }).toBe('not answering');
    }
    await shot(page2, 'no-quorum');
    await page2.close();
  });
});

describe.skipIf(chromium.path === null)('the console in a browser, auth on', () => {
  let cluster: LocalCluster;
  let browser: { context: BrowserContext; close(): Promise<void> };
  let node: LocalNode;
  const root = { authorization: `Bearer ${ROOT}` };

  beforeAll(async () => {
    cluster = await startCluster(AUTH_BASE_PORT, ROOT);
    browser = await openBrowser(chromium.path!);
    node = cluster.running()[0];
  }, LEADER_WAIT_MS + 60_000);
  afterAll(async () => {
    await browser?.close();
    await cluster?.destroy();
  });

  async function signIn(page: Page, secret: string): Promise<void> {
    await page.goto(`${node.url}/ui/`);
    await page.locator('form.token input[name="token"]').fill(secret);
    await page.locator('form.token button[type="submit"]').click();
    await page.locator('#connection[data-state="live"]').waitFor({ timeout: SHOW_MS });
  }

  it('asks for a token, keeps it for the tab only, and a reader sees but cannot act', async () => {
    const reader = (await api(node, 'POST', '/v1/auth/tokens', { name: 'night-shift', role: 'reader' }, root)).body;
    const sessionId = (await api(node, 'POST', '/v1/sessions', { ttlMs: 60_000, name: 'batch' }, root)).body.sessionId;
    await api(node, 'POST', '/v1/locks/e2e:held/acquire', { sessionId, owner: 'batch' }, root);
    const page = await browser.context.newPage();
    await page.goto(`${node.url}/ui/`);
    await page.locator('form.token').waitFor({ timeout: SHOW_MS });
    await page.locator('form.token input[name="token"]').fill('not-a-token');
    await page.locator('form.token button[type="submit"]').click();
    await page.locator('form.token .error', { hasText: '401' }).waitFor({ timeout: SHOW_MS });
    await signIn(page, reader.secret);
    await page.locator('#whoami', { hasText: 'night-shift (reader)' }).waitFor();
    expect(await page.locator('#may').innerText()).toMatch(/only read/);
    expect(await page.evaluate('[sessionStorage.getItem("lockstep.token"), localStorage.length]')).toEqual([reader.secret, 0]);
    const leader = await cluster.waitForLeader();
    await page.locator('#leader', { hasText: `leader ${leader}` }).waitFor({ timeout: SHOW_MS });
    await expect.poll(() => page.locator('#members tbody tr').count(), { timeout: SHOW_MS }).toBe(3);
    expect(await page.locator('button.transfer').count()).toBe(0);
    await page.locator('main', { hasText: 'needs an admin token; this one is reader' }).waitFor();
    await page.goto(`${node.url}/ui/#/sessions`);
    await page.locator(`#sessions tr[data-session="${sessionId}"]`, { hasText: 'e2e:held' }).waitFor({ timeout: SHOW_MS });
    expect(await page.locator('button.delete-session').count()).toBe(0);
    await shot(page, 'reader');
    // A token bound to names sees only locks on them: an empty list must not read as an idle cluster.
    const bound = (await api(node, 'POST', '/v1/auth/tokens', { name: 'billing-only', role: 'reader', prefixes: ['billing:'] }, root)).body;
    const boundPage = await browser.context.newPage();
    await signIn(boundPage, bound.secret);
    await boundPage.goto(`${node.url}/ui/#/locks`);
    await boundPage.locator('#locks tbody td', { hasText: 'No lock on this token\'s names (billing:) is held or waited for' }).waitFor({ timeout: SHOW_MS });
    // Nor an empty sessions or elections list (they once said "No sessions." beside the cluster's sessions).
    await boundPage.goto(`${node.url}/ui/#/sessions`);
    await boundPage.locator('#sessions tbody td', { hasText: 'No session holds or waits for this token\'s names (billing:); sessions on other names are not shown to it' }).waitFor({ timeout: SHOW_MS });
    await boundPage.goto(`${node.url}/ui/#/elections`);
    await boundPage.locator('#elections tbody td', { hasText: 'No election on this token\'s names (billing:) has a leader' }).waitFor({ timeout: SHOW_MS });
    await boundPage.close();
    // Forgetting the token takes off the page what was read with it.
    await page.goto(`${node.url}/ui/#/cluster`);
    await page.locator('#summary', { hasText: 'leader' }).waitFor({ timeout: SHOW_MS });
    await page.locator('#identity button', { hasText: 'Forget token' }).click();
    await page.locator('form.token').waitFor({ timeout: SHOW_MS });
    expect(await page.locator('#summary').innerText()).toBe('');
    expect(await page.evaluate('sessionStorage.getItem("lockstep.token")')).toBeNull();
    // Another tab has no token: it asks again.
    const other = await browser.context.newPage();
    await other.goto(`${node.url}/ui/`);
    await other.locator('form.token').waitFor({ timeout: SHOW_MS });
    await other.close();
    await page.close();
  });

  it('an admin hands leadership over and deletes a session after a confirmation naming its holds', async () => {
    const sessionId = (await api(node, 'POST', '/v1/sessions', { ttlMs: 60_000, name: 'doomed' }, root)).body.sessionId;
    const hold = (await api(node, 'POST', '/v1/locks/e2e:doomed/acquire', { sessionId, owner: 'doomed' }, root)).body;
    const page = await browser.context.newPage();
    await signIn(page, ROOT);
    const leader = await cluster.waitForLeader();
    await page.locator('#leader', { hasText: `leader ${leader}` }).waitFor({ timeout: SHOW_MS });
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.accept();
    });
    const target = page.locator('button.transfer').first();
    await target.waitFor({ timeout: SHOW_MS });
    const to = (await target.getAttribute('data-to'))!;
    await target.click();
    await page.locator('#leader', { hasText: `leader ${to}` }).waitFor({ timeout: SHOW_MS });
    expect(dialogs[0]).toContain(`from ${leader} to ${to}`);
    expect(await cluster.waitForLeader()).toBe(to);

    await page.goto(`${node.url}/ui/#/sessions`);
    const row = page.locator(`#sessions tr[data-session="${sessionId}"]`);
    await row.waitFor({ timeout: SHOW_MS });
    await row.locator('button.delete-session').click();
    await row.waitFor({ state: 'detached', timeout: SHOW_MS });
    expect(dialogs[1]).toContain(`Delete session ${sessionId} (doomed)? This releases: lock e2e:doomed (token ${hold.fencingToken})`);
    expect((await api(node, 'GET', `/v1/sessions/${sessionId}`, undefined, root)).status).toBe(404);
    await page.locator('.notice', { hasText: `session ${sessionId} deleted; released e2e:doomed` }).waitFor();
    await page.close();
  });

  // Last: it takes the cluster's quorum away.
  it('asks again when the node cannot check a token without a leader, instead of a page that only says "reload"', async () => {
    for (const other of cluster.running().filter((n) => n.id !== node.id)) await cluster.kill(other.id);
    const page = await browser.context.newPage();
    await page.goto(`${node.url}/ui/`);
    // A token this node does not know is looked up at the leader, and there is none: 503, not 401.
    await page.locator('form.token input[name="token"]').fill('lst_mistyped-during-the-incident');
    await page.locator('form.token button[type="submit"]').click();
    await page.locator('form.token .error', { hasText: 'could not check this token' }).waitFor({ timeout: 30_000 });
    expect(await page.locator('form.token input[name="token"]').count()).toBe(1);
    // A token it knows needs no leader: the console opens and says there is no quorum.
    await page.locator('form.token input[name="token"]').fill(ROOT);
    await page.locator('form.token button[type="submit"]').click();
    await page.locator('#health', { hasText: /^No quorum:/ }).waitFor({ timeout: 30_000 });
    await shot(page, 'token-without-quorum');
    await page.close();
  }, 90_000);
});

describe.skipIf(chromium.path === null)('the console in a browser, across a failover and a restart of its node', () => {
  let cluster: LocalCluster;
  let browser: { context: BrowserContext; close(): Promise<void> };
  let page: Page;
  let first: LocalNode;
  /** The node that serves the page: a follower at first, so killing the first leader leaves the page live. */
  let serving: LocalNode;

  beforeAll(async () => {
    cluster = await startCluster(FAILOVER_BASE_PORT);
    browser = await openBrowser(chromium.path!);
    first = await cluster.leader();
    serving = cluster.running().find((node) => node.id !== first.id)!;
    page = await browser.context.newPage();
    await page.goto(`${serving.url}/ui/#/cluster`);
    await page.evaluate('window.notReloaded = true');
  }, LEADER_WAIT_MS + 60_000);
  afterAll(async () => {
    await browser?.close();
    await cluster?.destroy();
  });

  /** A member's row's cells, as the page shows them now. */
  const cells = (id: string) => page.locator(`#members tr[data-member="${id}"] td`).allInnerTexts();

  it('shows no match or lag for a killed member: the new leader\'s progress for it is no measure of how far behind it is', async () => {
    await page.locator('#leader', { hasText: `leader ${first.id}` }).waitFor({ timeout: SHOW_MS });
    await cluster.kill(first.id);
    // Match and lag are the leader's view: the page's node must be the new leader for them to show at all.
    if ((await cluster.waitForLeader()) !== serving.id) expect((await api(serving, 'POST', '/v1/cluster/leadership', { to: serving.id })).body.leader).toBe(serving.id);
    await page.locator('#leader', { hasText: `leader ${serving.id}` }).waitFor({ timeout: SHOW_MS });
    await expect.poll(async () => (await cells(first.id))[1], { timeout: SHOW_MS }).toBe('not answering');
    // Node, Role, Term, Commit, Applied, Match, Lag, Reachable: nothing of the dead member is known but that it does not
    // answer. Polled: Reachable is the leader's view, and a new leader counts every member active until its first
    // check-quorum round; Match and Lag must not show meanwhile either (the page's own call already failed).
    const row = async () => {
      const [, , term, commit, applied, match, lag, reachable] = await cells(first.id);
      return { term, commit, applied, match, lag, reachable };
    };
    const { match, lag } = await row();
    expect({ match, lag }).toEqual({ match: '—', lag: '—' });
    await expect.poll(row, { timeout: SHOW_MS }).toEqual({ term: '—', commit: '—', applied: '—', match: '—', lag: '—', reachable: 'no' });
    await shot(page, 'failover-replication');
  });

  it('offers no session deletion while the page\'s live feed is lost, and offers it again once the feed is back', async () => {
    cluster.start(first.id);
    await cluster.waitForLeader({ ready: true });
    const sessionId = (await api(serving, 'POST', '/v1/sessions', { ttlMs: 120_000, name: 'kept' })).body.sessionId as string;
    await page.goto(`${serving.url}/ui/#/sessions`);
    const button = page.locator(`#sessions tr[data-session="${sessionId}"] button.delete-session`);
    await button.waitFor({ timeout: SHOW_MS });
    await cluster.kill(serving.id);
    await page.locator('#health', { hasText: `lost the live feed from ${serving.id}` }).waitFor({ timeout: SHOW_MS });
    // The row stays (dimmed, as the banner says: the cluster as it was), its action does not.
    expect(await page.locator(`#sessions tr[data-session="${sessionId}"]`).count()).toBe(1);
    expect(await page.locator('button.delete-session').count()).toBe(0);
    cluster.start(serving.id);
    await page.locator('#connection[data-state="live"]').waitFor({ timeout: 60_000 });
    await button.waitFor({ timeout: SHOW_MS });
  });

  it('keeps the leader timeline it has seen when the node serving the page restarts, and marks the time it did not see', async () => {
    await page.goto(`${serving.url}/ui/#/cluster`);
    await page.locator('#connection[data-state="live"]').waitFor({ timeout: 60_000 });
    const changes = page.locator('ol.changes li');
    await changes.first().waitFor({ timeout: SHOW_MS });
    const before = await changes.allInnerTexts();
    await cluster.kill(serving.id);
    await page.locator('#health', { hasText: `lost the live feed from ${serving.id}` }).waitFor({ timeout: SHOW_MS });
    cluster.start(serving.id);
    await page.locator('#connection[data-state="live"]').waitFor({ timeout: 60_000 });
    // One more "not seen" line: the time the page had no feed, which the restarted node has no record of either.
    const unseen = before.filter((line) => line.includes('not seen')).length;
    await expect.poll(() => changes.filter({ hasText: `not seen: the live feed from ${serving.id} was lost` }).count(), { timeout: SHOW_MS }).toBe(unseen + 1);
    // The node's own record starts again at its restart; the page keeps what it saw, the first leader included.
    const after = await changes.allInnerTexts();
    expect(after).toEqual(expect.arrayContaining(before));
    expect(after.some((line) => line.endsWith(`leader ${first.id}`))).toBe(true);
    expect(await page.evaluate('window.notReloaded')).toBe(true);
    await shot(page, 'timeline-after-restart');
  });
});

describe.skipIf(chromium.path === null)('the console in a browser, across a lost and regained quorum', () => {
  let cluster: LocalCluster;
  let browser: { context: BrowserContext; close(): Promise<void> };

  beforeAll(async () => {
    cluster = await startCluster(QUORUM_BASE_PORT);
    browser = await openBrowser(chromium.path!);
  }, LEADER_WAIT_MS + 60_000);
  afterAll(async () => {
    await browser?.close();
    await cluster?.destroy();
  });

  it('a lock\'s view that could not load without a quorum loads once the quorum is back, though the lock did not change', async () => {
    const serving = cluster.running()[0];
    const sessionId = (await api(serving, 'POST', '/v1/sessions', { ttlMs: 120_000, name: 'steady' })).body.sessionId as string;
    expect((await api(serving, 'POST', '/v1/locks/e2e:steady/acquire', { sessionId, owner: 'steady-owner' })).body.acquired).toBe(true);
    const others = cluster.running().filter((node) => node.id !== serving.id);
    for (const node of others) await cluster.kill(node.id);
    const page = await browser.context.newPage();
    await page.goto(`${serving.url}/ui/#/locks/${encodeURIComponent('e2e:steady')}`);
    // The watch is this node's own applied state and opens; the lock's details need the leader.
    await page.locator('main .error', { hasText: 'could not load' }).waitFor({ timeout: 30_000 });
    for (const node of others) cluster.start(node.id);
    await cluster.waitForLeader({ ready: true, timeoutMs: LEADER_WAIT_MS });
    // Nothing of the lock changed, so its watch says nothing: the view must load again by itself.
    await page.locator('#holders td', { hasText: 'steady-owner' }).waitFor({ timeout: 30_000 });
    expect(await page.locator('main .error').count()).toBe(0);
    await shot(page, 'lock-after-quorum');
    await page.close();
  }, LEADER_WAIT_MS + 120_000);
});

describe.skipIf(chromium.path === null)('the console in a browser, with a learner', () => {
  let cluster: LocalCluster;
  let browser: { context: BrowserContext; close(): Promise<void> };

  beforeAll(async () => {
    // n1-n3 start as the voters; n4 starts as a joiner (listing only them) and is added as a learner.
    cluster = new LocalCluster({ size: 4, basePort: LEARNER_BASE_PORT, peerPortOffset: PEER_OFFSET, cli: TEST_CLI, flags: { logLevel: 'warn' }, output: 'stderr' });
    const voters = ['n1', 'n2', 'n3'];
    for (const id of voters) cluster.start(id, voters);
    try {
      await cluster.waitForLeader({ ready: true, timeoutMs: LEADER_WAIT_MS });
      cluster.start('n4', voters);
      const learner = cluster.node('n4');
      const added = await api(cluster.node('n1'), 'POST', '/v1/cluster/members', { id: 'n4', apiUrl: learner.url, peerUrl: `127.0.0.1:${learner.peerPort}`, voter: false });
      expect(added.status).toBe(200);
    } catch (error) {
      await cluster.destroy();
      throw error;
    }
    browser = await openBrowser(chromium.path!);
  }, LEADER_WAIT_MS + 60_000);
  afterAll(async () => {
    await browser?.close();
    await cluster?.destroy();
  });

  it('says a learner is a learner once', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${cluster.node('n1').url}/ui/#/cluster`);
    const role = page.locator('#members tr[data-member="n4"] td').nth(1);
    // Its own answer (the feed asks every member) says "learner"; the page adds nothing to it.
    await expect.poll(() => role.innerText(), { timeout: SHOW_MS }).toMatch(/learner/);
    await page.waitForTimeout(1_000);
    expect((await role.innerText()).match(/learner/g)).toEqual(['learner']);
    expect(await page.locator('#members tr[data-member="n4"] button.transfer').count()).toBe(0);
    await shot(page, 'learner');
    // Down, it still says it is a learner (its role is not shown: nobody knows it).
    await cluster.kill('n4');
    await expect.poll(() => role.innerText(), { timeout: SHOW_MS }).toMatch(/^not answering\s*learner$/);
    await page.close();
  });
});
