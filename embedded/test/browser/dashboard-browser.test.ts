/**
 * The admin dashboard in a real browser (Debian's chromium through playwright-core), against the
 * embedded runtime: a user token is refused, an admin token signs in, a running backup shows its
 * progress moving, the jobs filter to failed ones, a failed job's error reads in full (wrapped),
 * a retry from the page completes it, garbage collection for a user frees their unreferenced
 * data, and a snapshot and then all of a user's data are deleted (the latter once the user id is
 * typed). A screenshot of the page is saved when a step fails (the path is printed).
 *
 * Chromium: `LIFEBOAT_CHROMIUM`, else `/usr/bin/chromium` (`apt-get install -y chromium`); where
 * none can be had the test is skipped with a loud message.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createToken } from '../../src/auth/tokens';
import { demoContacts } from '../../src/demo-data';
import { adminCall, partialBackup, RefusingBlobStore } from '../helpers/admin-fixtures';
import { useTestRuntime } from '../helpers/test-runtime';

const CHROMIUM = [process.env['LIFEBOAT_CHROMIUM'], '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p): p is string => !!p && existsSync(p));
const SCREENSHOTS = process.env['LIFEBOAT_TEST_ARTIFACTS'] ?? join(tmpdir(), 'lifeboat-dashboard-screenshots');

let refusing: RefusingBlobStore | undefined;
const t = useTestRuntime('dashboard-browser', { instrumentBlobs: (b) => (refusing = new RefusingBlobStore(b)) });
let browser: Browser | undefined;

beforeAll(async () => {
  if (!CHROMIUM) return;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

/** Runs the steps; on a failure saves what the page showed and rethrows. */
async function withScreenshot(page: Page, name: string, steps: () => Promise<void>): Promise<void> {
  try {
    await steps();
  } catch (err) {
    mkdirSync(SCREENSHOTS, { recursive: true });
    const path = join(SCREENSHOTS, `${name}-${Date.now()}.png`);
    await page.screenshot({ path, fullPage: true }).catch(() => undefined);
    console.error(`dashboard browser test failed: screenshot of the page at ${path}`);
    throw err;
  }
}

const maybe = CHROMIUM ? describe : describe.skip;
if (!CHROMIUM) {
  console.warn('*** CHROMIUM NOT FOUND: the dashboard browser tests did not run. Install it (apt-get install -y chromium) or set LIFEBOAT_CHROMIUM. ***');
}

maybe('dashboard in a browser', () => {
  it('refuses a user token', async () => {
    const page = await (browser as Browser).newPage();
    await withScreenshot(page, 'user-token', async () => {
      await page.goto(`${t.runtime.url}/dashboard#token=${t.token('alice')}`);
      await page.locator('#login').waitFor({ state: 'visible' });
      await expectText(page, '#login-why', /not an admin token/);
      expect(await page.locator('#view table').count()).toBe(0);
    });
    await page.close();
  });

  it('shows a running backup move, filters to a failed job, reads its error, retries it to completion and collects a user\'s garbage', async () => {
    const page = await (browser as Browser).newPage({ viewport: { width: 1200, height: 900 } });
    const admin = createToken(t.secret, { uid: 'ops-admin', admin: true });
    await withScreenshot(page, 'admin-flow', async () => {
      // A backup part way: 1 of 3 chunks uploaded.
      const bob = await partialBackup(t.runtime.url, t.token('bob'), 'bob-tablet', 3, 1);
      await page.goto(`${t.runtime.url}/dashboard#token=${admin}`);
      const bobRow = page.locator(`tr[data-job="${bob.jobId}"]`);
      await expectText(page, `tr[data-job="${bob.jobId}"] td:nth-child(5)`, /10\/30/);
      expect(await bobRow.locator('.pill').textContent()).toContain('running');
      // The device sends another chunk: the page shows it without a reload.
      await bob.uploadNext();
      await expectText(page, `tr[data-job="${bob.jobId}"] td:nth-child(5)`, /20\/30/);
      expect(await bobRow.locator('.bar > span').getAttribute('class')).toBe('tone-active');

      // A backup that fails for good (the store refuses dave's writes).
      refusing?.refused.add('dave');
      const dave = t.client('dave');
      const started = await dave.startBackup({ types: ['contacts'], sources: { contacts: demoContacts({ contacts: 30 }) } });
      expect((await dave.waitForJob(started.jobId, { intervalMs: 20 })).status).toBe('failed');

      await page.selectOption('#f-status', 'failed');
      await page.click('#job-filters button[type=submit]');
      await page.waitForFunction(() => location.hash.includes('status=failed'));
      const daveRow = page.locator(`tr[data-job="${started.jobId}"]`);
      await daveRow.waitFor();
      const statuses = await page.locator('tr[data-job]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-status')));
      expect(new Set(statuses)).toEqual(new Set(['failed']));
      // A failed job's bar is red, never a full green one.
      expect(await daveRow.locator('.bar > span').getAttribute('class')).toBe('tone-failed');

      await daveRow.locator('td:first-child a').click();
      await expectText(page, '#job-error', /retention policy forbids writes/);
      const error = page.locator('#job-error');
      // The long error wraps inside the page instead of running off it.
      expect(await error.evaluate((e) => getComputedStyle(e).whiteSpace)).toBe('pre-wrap');
      const box = await error.boundingBox();
      expect((box?.x ?? 0) + (box?.width ?? 0)).toBeLessThanOrEqual(1200);

      refusing?.refused.delete('dave');
      await page.click('button:has-text("Retry")');
      await page.locator('#confirm[open]').waitFor();
      await page.click('#confirm-ok');
      await expectText(page, '#job-status', /completed/, 30_000);
      await expectText(page, '#notice', /queued again/);

      // Garbage: frank's backup is cancelled after both chunks were stored.
      const frank = await partialBackup(t.runtime.url, t.token('frank'), 'frank-phone', 2, 2);
      await until(async () => (await adminCall(t.runtime.url, admin, 'job', { jobId: frank.jobId })).result.chunks.byState.processed.chunks === 2);
      await adminCall(t.runtime.url, admin, 'cancelJob', { jobId: frank.jobId });
      const before = (await adminCall(t.runtime.url, admin, 'measureStorage', { uid: 'frank' })).result.storage;
      expect(before.blobs).toBeGreaterThan(0);

      await page.goto(`${t.runtime.url}/dashboard#/user/frank`);
      await page.fill('#gc-grace', '0');
      await page.click('button:has-text("Run GC")');
      await page.locator('#confirm[open]').waitFor();
      await page.click('#confirm-ok');
      await expectText(page, '#notice', new RegExp(`GC done for frank: ${before.blobs} blob\\(s\\)`));
      await page.click('button:has-text("Measure storage")');
      await page.click('#confirm-ok');
      await expectText(page, '#notice', /frank takes 0 B in 0 blobs/);
    });
    await page.close();
  }, 90_000);

  it('checks a user from their page, asking first what a repair changes, and shows the record the task keeps', async () => {
    const page = await (browser as Browser).newPage({ viewport: { width: 1200, height: 900 } });
    const admin = createToken(t.secret, { uid: 'ops-admin', admin: true });
    await withScreenshot(page, 'check-flow', async () => {
      const gail = t.client('gail');
      const started = await gail.startBackup({ types: ['contacts'], sources: { contacts: demoContacts({ contacts: 20 }) } });
      expect((await gail.waitForJob(started.jobId, { intervalMs: 20 })).status).toBe('completed');
      await page.goto(`${t.runtime.url}/dashboard#token=${admin}`);
      await page.goto(`${t.runtime.url}/dashboard#/user/gail`);
      await expectText(page, '#check-record', /never/);

      // A repair asks first, saying what it changes; cancelled, nothing is queued.
      await page.getByRole('button', { name: 'Check and repair', exact: true }).click();
      await page.locator('#confirm[open]').waitFor();
      expect(await page.locator('#confirm-text').textContent()).toMatch(/REPAIR gail's repository\?.*drops the index entries.*quarantine/);
      await page.click('#confirm-cancel');
      expect((await adminCall(t.runtime.url, admin, 'user', { uid: 'gail' })).result.check).toBeNull();

      await page.fill('#check-read', '100');
      await page.getByRole('button', { name: 'Check', exact: true }).click();
      await page.click('#confirm-ok');
      await expectText(page, '#notice', /Check of gail queued/);
      // The page refreshes itself until the task's record says done.
      await expectText(page, '#check-record', /check \(100 % re-read\) .*: OK — asked by ops-admin/, 30_000);
      expect(await page.locator('#check-record').getAttribute('data-status')).toBe('done');
      await page.goto(`${t.runtime.url}/dashboard#/users`);
      await expectText(page, 'tr[data-user="gail"] td:last-child', /check \(100 % re-read\) .*: OK/);
    });
    await page.close();
  }, 60_000);

  it('deletes a snapshot from its row, and all of a user\'s data only once the admin has typed the user id', async () => {
    const page = await (browser as Browser).newPage({ viewport: { width: 1200, height: 900 } });
    const admin = createToken(t.secret, { uid: 'ops-admin', admin: true });
    await withScreenshot(page, 'delete-flow', async () => {
      const holly = t.client('holly');
      const backUp = async (n: number) => (await holly.waitForJob((await holly.startBackup({ types: ['contacts'], sources: { contacts: demoContacts({ contacts: n, seed: n }) } })).jobId, { intervalMs: 20 })).snapshotId as string;
      const older = await backUp(10);
      const newer = await backUp(12);
      await page.goto(`${t.runtime.url}/dashboard#token=${admin}`);
      await page.goto(`${t.runtime.url}/dashboard#/user/holly`);
      await page.locator(`tr[data-snapshot="${older}"]`).waitFor();

      await page.locator(`tr[data-snapshot="${older}"]`).getByRole('button', { name: 'Delete', exact: true }).click();
      await page.locator('#confirm[open]').waitFor();
      expect(await page.locator('#confirm-text').textContent()).toContain(`Delete snapshot ${older} of holly`);
      expect(await page.locator('#confirm-input').isHidden()).toBe(true);
      await page.click('#confirm-ok');
      await expectText(page, '#notice', new RegExp(`Snapshot ${older} deleted; GC done`));
      await page.locator(`tr[data-snapshot="${older}"]`).waitFor({ state: 'detached' });
      expect((await adminCall(t.runtime.url, admin, 'snapshots', { uid: 'holly' })).result.items.map((s: { id: string }) => s.id)).toEqual([newer]);

      // Confirm stays disabled until the user id is typed exactly.
      await page.getByRole('button', { name: 'Delete all data', exact: true }).click();
      await page.locator('#confirm[open]').waitFor();
      expect(await page.locator('#confirm-text').textContent()).toMatch(/Delete ALL of holly's data.*cannot be undone/);
      expect(await page.locator('#confirm-ok').isDisabled()).toBe(true);
      await page.fill('#confirm-input', 'holl');
      expect(await page.locator('#confirm-ok').isDisabled()).toBe(true);
      await page.fill('#confirm-input', 'holly');
      expect(await page.locator('#confirm-ok').isEnabled()).toBe(true);
      await page.click('#confirm-ok');
      // Deletions settle for 10 minutes here (the default): all of it is gone, new data refused until then.
      await expectText(page, '#notice', /holly: deletion reclaimed, [1-9][0-9]* document\(s\), [1-9][0-9]* object\(s\).*all of it is gone and unreadable/);
      await expectText(page, '#action-result', /"reason": "admin"/);
      expect((await adminCall(t.runtime.url, admin, 'snapshots', { uid: 'holly' })).result.items).toEqual([]);
      await expectText(page, '#view', /Snapshots \(0\)/);
    });
    await page.close();
  }, 60_000);
});

async function expectText(page: Page, selector: string, pattern: RegExp, timeout = 15_000): Promise<void> {
  await page.waitForFunction(
    ([sel, source, flags]) => new RegExp(source as string, flags as string).test(document.querySelector(sel as string)?.textContent ?? ''),
    [selector, pattern.source, pattern.flags],
    { timeout },
  );
}

async function until(probe: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}
