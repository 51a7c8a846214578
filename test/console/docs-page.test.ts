// The API reference at /docs/ in a real browser (Debian's Chromium, headless)
// against one node over a MemoryNode, listening on a free port: the page loads
// without a Content-Security-Policy violation (the standalone top bar's logo
// carried an inline <style> the policy refuses), and "Try it out" shows a 401
// and a 403 as documented answers (Swagger UI calls an answer "Undocumented"
// unless its exact status is in the operation's responses).

import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, makeHarness } from '../server/harness.js';
import { ensureChromium, openBrowser } from './browser.js';

const ROOT = 'docs-page-root-token';
/** How long Swagger UI may take to render the document or answer a "Try it out" on a loaded machine. */
const SHOW_MS = 20_000;

const chromium = ensureChromium();
if (chromium.path === null) console.warn(`docs page browser tests: not exercised: chromium missing (${chromium.reason})`);

/** Every CSP violation the page reports (the securitypolicyviolation event), as "directive source:line". */
async function recordViolations(page: Page): Promise<string[]> {
  const violations: string[] = [];
  await page.exposeFunction('reportViolation', (line: string) => violations.push(line));
  await page.addInitScript(() => {
    // Runs in the page (this project's tsconfig has no DOM types).
    type Violation = { violatedDirective: string; sourceFile: string; lineNumber: number; blockedURI: string };
    const window = globalThis as unknown as { reportViolation(line: string): void; addEventListener(type: string, listener: (event: Violation) => void): void };
    window.addEventListener('securitypolicyviolation', (e) => {
      window.reportViolation(`${e.violatedDirective} ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  return violations;
}

/** Runs "Try it out" on an operation the page shows open (its deep link), and returns the live answer's status cell. */
async function tryItOut(page: Page, tag: string, operationId: string): Promise<{ status: string; undocumented: number }> {
  const operation = page.locator(`#operations-${tag}-${operationId}`);
  await operation.locator('button.try-out__btn').click({ timeout: SHOW_MS });
  await operation.locator('button.execute').click();
  const cell = operation.locator('.live-responses-table tr.response .response-col_status').first();
  await cell.waitFor({ timeout: SHOW_MS });
  return { status: (await cell.innerText()).trim(), undocumented: await cell.locator('.response-undocumented').count() };
}

describe.skipIf(chromium.path === null)('the API reference in a browser', () => {
  let h: Harness;
  let base: string;
  let browser: Awaited<ReturnType<typeof openBrowser>>;
  beforeAll(async () => {
    h = await makeHarness({ authToken: ROOT });
    await h.server.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(h.server.app.server.address() as AddressInfo).port}`;
    browser = await openBrowser(chromium.path as string);
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('loads with no Content-Security-Policy violation, and shows a 401 as a documented answer', async () => {
    const page = await browser.context.newPage();
    const violations = await recordViolations(page);
    await page.goto(`${base}/docs/#/cluster/getCluster`);
    const answer = await tryItOut(page, 'cluster', 'getCluster');
    expect(answer.status).toMatch(/^401/);
    expect(answer.undocumented, 'the 401 is marked Undocumented').toBe(0);
    expect(violations).toEqual([]);
    await page.close();
  });

  it('shows a 403 to a reader token as a documented answer', async () => {
    const made = await h.call('POST', '/v1/auth/tokens', { name: 'docs-reader', role: 'reader' }, { authorization: `Bearer ${ROOT}` });
    expect(made.status).toBe(201);
    const page = await browser.context.newPage();
    const violations = await recordViolations(page);
    await page.goto(`${base}/docs/#/auth/listTokens`);
    await page.locator('button.authorize').first().click({ timeout: SHOW_MS });
    await page.locator('.modal-ux input').first().fill(made.body.secret);
    await page.locator('.modal-ux button.authorize').click();
    await page.locator('.modal-ux button.btn-done').click();
    const answer = await tryItOut(page, 'auth', 'listTokens');
    expect(answer.status).toMatch(/^403/);
    expect(answer.undocumented, 'the 403 is marked Undocumented').toBe(0);
    expect(violations).toEqual([]);
    await page.close();
  });
});
