/**
 * The web console in headless Chromium (Debian's `chromium`, driven by playwright-core) against
 * the real local stack: `gsm dev` in this process with its demo release of 1.1.0 to group=demo.
 * Log in (a wrong key first), follow the demo release live until every state it ran is
 * succeeded, then approve a release that waits at its gate, from the release page.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevStack, startDevStack } from '../../local/dev.js';
import { createRelease, pushDemoBuild } from '../helpers/release-e2e.js';

const CHROMIUM = process.env.GSM_CHROMIUM ?? '/usr/bin/chromium';
const SCREENSHOTS = join(process.cwd(), 'test-results');
/** How long the UI gets to show a change the stack has made (the stack's own work is not timed). */
const UI_MS = 20_000;

let cwd: string;
let stack: DevStack;
let browser: Browser;
let page: Page;
/** Uncaught errors in the page and CSP refusals: none may happen. */
const pageErrors: string[] = [];

beforeAll(async () => {
  // The console is built by `npm run build` (`npm ci` runs it); build it here when it was not.
  if (!existsSync(join(process.cwd(), 'dist', 'console', 'index.html'))) {
    await promisify(execFile)(process.execPath, ['console/build.mjs'], { timeout: 120_000 });
  }
  await mkdir(SCREENSHOTS, { recursive: true });
  cwd = await mkdtemp(join(tmpdir(), 'gsm-console-'));
  stack = await startDevStack({ port: 0, cwd, logLevel: 'silent', demoRelease: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.text().includes('Content Security Policy')) pageErrors.push(message.text());
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
  if (cwd) await rm(cwd, { recursive: true, force: true });
}, 60_000);

const consoleUrl = (path = '/') => `${stack.endpoints.api}/console${path}`;
const stateOf = (name: string) => page.locator(`[data-state="${name}"]`);

describe('the web console', () => {
  it('refuses a wrong API key with a message, then logs in with the right one', async () => {
    await page.goto(consoleUrl('/'));

    await page.getByLabel('API key').fill('gsm_this-is-not-a-key');
    await page.getByRole('button', { name: 'Log in' }).click();
    const refused = page.getByRole('alert');
    await refused.waitFor({ timeout: UI_MS });
    expect(await refused.textContent()).toContain('not valid');

    await page.getByLabel('API key').fill(stack.endpoints.apiKey);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Releases' }).waitFor({ timeout: UI_MS });
    expect(await page.evaluate(() => sessionStorage.getItem('gsm.apiKey'))).toBe(stack.endpoints.apiKey);
  });

  it('shows the demo release live: its workflow graph, every state it ran turning succeeded, no reload', {
    timeout: 300_000,
  }, async () => {
    // The demo release appears in the list once gsm dev has pushed 1.1.0 and started it.
    const link = page.getByRole('link', { name: /^rel/ }).first();
    await link.waitFor({ timeout: 180_000 });
    await link.click();
    await stateOf('PlanWaves').waitFor({ timeout: UI_MS });
    // A marker that a reload would wipe out.
    await page.evaluate(() => {
      (window as unknown as { stayed: boolean }).stayed = true;
    });

    // Every state of the definition is drawn, the Map's iterator inside the Map's box.
    const drawn = await page
      .locator('[data-state]')
      .evaluateAll((nodes) =>
        nodes.map((node) => [node.getAttribute('data-state'), node.getAttribute('data-status')]),
      );
    expect(drawn.map(([name]) => name)).toEqual(
      expect.arrayContaining([
        'PlanWaves',
        'Gate',
        'RunWave',
        'RunShard',
        'Decide',
        'Finalize',
        'ReleaseFailed',
      ]),
    );
    const statuses = new Set(['not-started', 'running', 'succeeded', 'failed', 'caught']);
    expect(drawn.every(([, status]) => statuses.has(status ?? ''))).toBe(true);
    expect(await page.locator('[data-state="RunWave"] [data-state="RunShard"]').count()).toBe(1);

    // The release runs to its end with the page open: the stream and the workflow refetches show it.
    await page.locator('[data-release-state="succeeded"]').waitFor({ timeout: 240_000 });
    await page
      .locator('[data-state="ReleaseSucceeded"][data-status="succeeded"]')
      .waitFor({ timeout: UI_MS });
    for (const name of ['PlanWaves', 'RunWave', 'RunShard', 'EvaluateWave', 'Finalize']) {
      expect(await stateOf(name).getAttribute('data-status'), name).toBe('succeeded');
    }
    expect(await stateOf('ReleaseFailed').getAttribute('data-status')).toBe('not-started');
    expect(await stateOf('RunRollback').getAttribute('data-status')).toBe('not-started');
    // Per-host rows: the fault host failed its health check, with the error shown.
    const faulty = page.locator('tr[data-host="demo-07"]');
    expect(await faulty.getAttribute('data-job-state')).toBe('failed');
    expect(await faulty.locator('.job-error').textContent()).toContain('E_HEALTH_CHECK_FAILED');
    expect(await page.locator('tr[data-job-state="succeeded"]').count()).toBe(11);
    expect(await page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true);
    await page.screenshot({ path: join(SCREENSHOTS, 'console-demo-release.png'), fullPage: true });
  });

  it('approves a release that waits at its gate after the canary, from the release page', {
    timeout: 240_000,
  }, async () => {
    await pushDemoBuild(stack, cwd, '1.2.0');
    const release = await createRelease(stack, {
      package: { game: 'demo', version: '1.2.0' },
      target: { hosts: ['demo-01', 'demo-02', 'demo-03'] },
      strategy: { canary: 1, batch: 2, approval: 'after-canary' },
    });

    await page.goto(consoleUrl(`/releases/${release.id}`));
    const approve = page.getByRole('button', { name: 'Approve' });
    await approve.waitFor({ timeout: 120_000 });
    await page.locator('[data-state="AwaitApproval"][data-status="running"]').waitFor({ timeout: UI_MS });
    expect(await page.locator('[data-release-state="waiting_approval"]').count()).toBe(1);
    // Updates come over the release's event stream, not by polling.
    await page.locator('.stream-live').waitFor({ timeout: UI_MS });
    await page.screenshot({ path: join(SCREENSHOTS, 'console-waiting-approval.png'), fullPage: true });
    await approve.click();

    await page.locator('[data-release-state="succeeded"]').waitFor({ timeout: 120_000 });
    await page
      .locator('[data-state="ReleaseSucceeded"][data-status="succeeded"]')
      .waitFor({ timeout: UI_MS });
    expect(await stateOf('AwaitApproval').getAttribute('data-status')).toBe('succeeded');
    expect(await page.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    await page.screenshot({ path: join(SCREENSHOTS, 'console-release.png'), fullPage: true });

    // Zoom and pan, by button and by keyboard, move the drawing; Fit shows all of it.
    const view = () => page.locator('.graph-svg > g').getAttribute('transform');
    const before = await view();
    await page.getByRole('button', { name: 'Zoom in' }).click();
    const zoomed = await view();
    await page.locator('.graph-frame').focus();
    await page.keyboard.press('ArrowLeft');
    const panned = await view();
    await page.getByRole('button', { name: 'Fit' }).click();
    expect(zoomed).not.toBe(before);
    expect(panned).not.toBe(zoomed);
    expect(await view()).not.toBe(panned);
    await page.screenshot({ path: join(SCREENSHOTS, 'console-release-overview.png'), fullPage: true });
  });

  it('lists hosts filtered by tag, and packages with their state, hash and origins', async () => {
    await page.goto(consoleUrl('/hosts'));
    await page.getByLabel('Filter by tag').fill('group=demo region=eu');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page
      .locator('caption', { hasText: '6 hosts with group=demo region=eu' })
      .waitFor({ timeout: UI_MS });
    expect(await page.locator('tr[data-host] .host-online').count()).toBe(6);

    await page.goto(consoleUrl('/packages'));
    const pkg = page.locator('tr[data-package="demo@1.2.0"]');
    await pkg.waitFor({ timeout: UI_MS });
    expect(await pkg.locator('.pill').textContent()).toBe('staged');
    expect(await pkg.locator('.origins').textContent()).toContain('demo-origin');
    expect(await pkg.locator('code.hash').getAttribute('title')).toMatch(/^[0-9a-f]{64}$/);
    expect(pageErrors).toEqual([]);
  });
});
