/**
 * The web console in Debian's Chromium against the real stack (see console-world.ts): sign-in,
 * the job form with a field error and a live preview, runs appearing on their own, a run's
 * output, kill, run now, enable/disable and delete, an agent going offline live, and a viewer
 * who cannot edit. Every page must show no console error and no failed request beyond the ones
 * a scenario provokes. Screenshots of each page land in test-artifacts/console/.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import type { ConsoleWorld, WatchedPage } from './console-world.ts';
import { AGENT_ID, TOKENS, openConsoleWorld } from './console-world.ts';

const RUN_WAIT_MS = 20_000;

/** Submits `token` on the sign-in form; fails with the form's own message if it refuses. */
async function submitToken(page: Page, token: string): Promise<void> {
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const jobs = page.getByRole('heading', { name: 'Jobs', level: 1 });
  const refusal = page.locator('#token-error:not(:empty)');
  await jobs.or(refusal).waitFor();
  if (await refusal.isVisible()) {
    assert.fail(`the console refused the token: ${await refusal.textContent()}`);
  }
}

function assertNoProblems(watched: WatchedPage): void {
  assert.deepEqual(watched.takeProblems(), [], 'the page had console errors or failed requests');
}

/** Resolves once at least `count` elements match `selector`. */
async function waitForCount(page: Page, selector: string, count: number, timeout = RUN_WAIT_MS) {
  await page
    .locator(selector)
    .nth(count - 1)
    .waitFor({ timeout });
}

describe('web console', { timeout: 180_000 }, () => {
  let world: ConsoleWorld;
  let admin: WatchedPage;

  before(async () => {
    world = await openConsoleWorld();
    admin = await world.openPage();
  });
  after(async () => {
    await world?.close();
  });

  it('signs in with an admin token after refusing an unknown one', async () => {
    const { page } = admin;
    admin.expectFailures({ method: 'GET', path: /^\/v1\/whoami$/, status: 401 });
    await page.goto(world.url);
    await page.getByRole('heading', { name: 'Sign in to cronplane' }).waitFor();
    await admin.screenshot('sign-in');

    await page.getByLabel('API token').fill('not-a-token-the-control-plane-knows');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('The control plane does not know this token.').waitFor();

    // By keyboard: the refused field has focus again, Enter submits, the new page's heading
    // takes focus as a page load would.
    await page.getByLabel('API token').and(page.locator(':focus')).waitFor();
    await page.keyboard.press('Control+A');
    await page.keyboard.type(TOKENS.admin);
    await page.keyboard.press('Enter');
    await page.locator('h1:focus', { hasText: 'Jobs' }).waitFor();
    await page.getByText('No jobs yet.').waitFor();
    assert.equal(await page.locator('.role').textContent(), 'admin');
    assertNoProblems(admin);
  });

  it('creates a job through the form, showing the field error for a bad cron first', async () => {
    const { page } = admin;
    admin.expectFailures(
      { method: 'GET', path: /^\/v1\/cron\/next$/, status: 400 },
      { method: 'PUT', path: /^\/v1\/jobs\/hello$/, status: 400 },
    );
    await page.getByRole('link', { name: 'New job' }).click();
    await page.getByRole('heading', { name: 'New job' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('hello');
    await page
      .getByLabel('Command', { exact: true })
      .fill("printf '  indented line\\n'; echo hello from the console; seq 1 400");
    await page.getByLabel('Cron expression').fill('99 * * * *');
    await page.locator('.preview-error').waitFor();

    await page.getByRole('button', { name: 'Create job' }).click();
    const cronError = page.locator('#field-cronExpr-error');
    await cronError.waitFor();
    assert.notEqual((await cronError.textContent())?.trim(), '');
    assert.equal(await page.getByLabel('Cron expression').getAttribute('aria-invalid'), 'true');
    await page.locator('.error-summary').waitFor();
    await admin.screenshot('editor-field-error');

    await page.getByLabel('Cron expression').fill('*/2 * * * * *');
    await page.getByLabel('Time zone').fill('Europe/Berlin');
    await waitForCount(page, '.fire-times li', 5, 5_000);
    assert.match(
      (await page.locator('.fire-times li').first().textContent()) ?? '',
      /GMT\+[12]|CES?T/,
    );
    await admin.screenshot('editor');

    await page.getByRole('button', { name: 'Create job' }).click();
    await page.getByRole('heading', { name: 'hello', level: 1 }).waitFor();
    assertNoProblems(admin);
  });

  it('shows the runs of the job as they appear, with the chart of the last runs', async () => {
    const { page } = admin;
    await waitForCount(page, 'table.runs tr[data-status="succeeded"]', 2);
    await waitForCount(page, '.run-chart rect.bar', 2);
    const planned = await page.locator('table.runs tbody th a').allTextContents();
    assert.deepEqual([...planned].sort().reverse(), planned, 'runs are listed newest first');
    await admin.screenshot('job-runs');
    assertNoProblems(admin);
  });

  it("opens a run's output with whitespace kept and the truncation marked", async () => {
    const { page } = admin;
    await page.locator('table.runs tr[data-status="succeeded"] th a').first().click();
    await page.getByRole('heading', { name: 'Run of hello' }).waitFor();
    const output = (await page.locator('pre.output').textContent()) ?? '';
    assert.ok(output.startsWith('  indented line\nhello from the console\n'), output);
    await page.locator('.truncation-marker').waitFor();
    assert.match(
      (await page.locator('.truncation-marker').textContent()) ?? '',
      /^\[… \d+ bytes of output truncated by cronplane …\]$/,
    );
    await page.locator('.truncation-note').waitFor();
    await page.locator('.truncation-marker').scrollIntoViewIfNeeded();
    await admin.screenshot('run-output');
    assertNoProblems(admin);
  });

  it('refuses to overlap, disables and kills a running job from the jobs table, then deletes it', async () => {
    const { page } = admin;
    const put = await world.api('PUT', '/v1/jobs/sleeper', {
      command: 'sleep 60',
      cronExpr: '* * * * * *',
      description: 'sleeps so that it can be killed',
    });
    assert.equal(put.status, 201);
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Jobs' })
      .click();
    const row = page.locator('tr[data-job="sleeper"]');
    await row.locator('.running-badge').waitFor({ timeout: RUN_WAIT_MS });
    await admin.screenshot('jobs');

    // A forbid job that runs refuses another run; the console says so instead of failing.
    admin.expectFailures({ method: 'POST', path: /^\/v1\/jobs\/sleeper\/run$/, status: 409 });
    await page.getByRole('button', { name: 'Run now: sleeper' }).click();
    await page.getByText('sleeper is running and does not allow overlapping runs').waitFor();

    await page.getByRole('switch', { name: 'sleeper enabled' }).click();
    await page.getByText('sleeper disabled.').waitFor();
    await page.getByRole('button', { name: 'Kill sleeper' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Kill' }).click();
    await page.getByText('Kill requested for sleeper.').waitFor();
    await row.locator('.running-badge').waitFor({ state: 'detached', timeout: RUN_WAIT_MS });

    await row.getByRole('link', { name: 'sleeper', exact: true }).click();
    await page.locator('table.runs tr[data-status="killed"]').waitFor({ timeout: RUN_WAIT_MS });
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete job' }).click();
    await page.getByRole('heading', { name: 'Jobs', level: 1 }).waitFor();
    await page.getByText('sleeper deleted.').waitFor();
    assert.equal(await page.locator('tr[data-job="sleeper"]').count(), 0);
    assertNoProblems(admin);
  });

  it('runs a job now and shows the manual run', async () => {
    const { page } = admin;
    // A schedule that fires only in 2199, so every run here is a manual one.
    const put = await world.api('PUT', '/v1/jobs/by-hand', {
      command: 'echo run by hand',
      cronExpr: '0 0 0 1 1 * 2199',
    });
    assert.equal(put.status, 201);
    await page.goto(`${world.url}/#/jobs/by-hand`);
    await page.getByRole('heading', { name: 'by-hand', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Run now' }).click();
    await page.getByText('Run of by-hand requested.').waitFor();
    await page.locator('table.runs tr[data-status="succeeded"]').waitFor({ timeout: RUN_WAIT_MS });
    assert.equal(
      await page.locator('table.runs tr[data-status="succeeded"] .note').first().textContent(),
      'manual (admin)',
    );
    assertNoProblems(admin);
  });

  it('gives a viewer no editing controls, and the API refuses its forced write', async () => {
    const viewer = await world.openPage();
    try {
      const { page } = viewer;
      viewer.expectFailures({ method: 'PUT', path: /^\/v1\/jobs\/hello$/, status: 403 });
      await page.goto(world.url);
      await submitToken(page, TOKENS.viewer);
      await page.locator('tr[data-job="hello"]').waitFor();
      assert.equal(await page.locator('.role').textContent(), 'viewer');
      assert.equal(await page.getByRole('link', { name: 'New job' }).count(), 0);
      assert.equal(await page.getByRole('switch').count(), 0);
      assert.equal(await page.locator('main button').count(), 0);
      await viewer.screenshot('viewer-jobs');

      await page.getByRole('link', { name: 'hello', exact: true }).click();
      await page.getByRole('heading', { name: 'hello', level: 1 }).waitFor();
      await page.locator('table.runs tbody tr').first().waitFor();
      assert.equal(await page.locator('main button').count(), 0);
      assert.equal(await page.getByRole('link', { name: 'Edit' }).count(), 0);

      await page.goto(`${world.url}/#/jobs/hello/edit`);
      await page.getByRole('heading', { name: 'Read-only access' }).waitFor();
      assert.equal(await page.locator('form').count(), 0);

      const status = await page.evaluate(async (token) => {
        const response = await fetch('/v1/jobs/hello', {
          method: 'PUT',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ command: 'echo overwritten', cronExpr: '* * * * *' }),
        });
        return response.status;
      }, TOKENS.viewer);
      assert.equal(status, 403);
      assertNoProblems(viewer);
    } finally {
      await viewer.close();
    }
  });

  it('shows the agent go offline live when it is killed', async () => {
    const { page } = admin;
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Fleet' })
      .click();
    await page.getByRole('heading', { name: 'Fleet' }).waitFor();
    const row = page.locator(`tr[data-agent="${AGENT_ID}"]`);
    await page.locator(`tr[data-agent="${AGENT_ID}"][data-status="online"]`).waitFor();
    await page.locator('.stream-state[data-state="live"]').waitFor();
    await admin.screenshot('fleet');

    world.agent.child.kill('SIGKILL');
    await page
      .locator(`tr[data-agent="${AGENT_ID}"][data-status="offline"]`)
      .waitFor({ timeout: 15_000 });
    assert.equal(await row.locator('.status').textContent(), 'offline');
    await admin.screenshot('fleet-offline');
    assertNoProblems(admin);
  });
});
