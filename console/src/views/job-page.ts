/**
 * One job: its settings, what runs now, a chart of its last runs and the paged run history,
 * refreshed every few seconds so new runs appear on their own. The job's history stays
 * readable after the job itself is deleted.
 */
import type { RunningEntry } from '../../../core/coordination.ts';
import type { Job } from '../../../core/job.ts';
import type { Child } from '../dom.ts';
import { h, replaceKeepingFocus } from '../dom.ts';
import { formatDuration, formatInstant, formatRelative } from '../format.ts';
import { createNextFireCache } from '../next-fire.ts';
import { startPolling } from '../poller.ts';
import { href } from '../router.ts';
import { createRunHistory } from '../run-history.ts';
import type { View, ViewContext } from '../view.ts';
import { errorCode, errorMessage } from '../view.ts';
import type { JobRow } from '../wire.ts';
import { createJobActions } from './job-actions.ts';
import { CHART_RUNS, runChart } from './run-chart.ts';
import { runsTable } from './runs-table.ts';

const REFRESH_INTERVAL_MS = 3_000;

function settings(job: Job, nextFire: number | null | undefined): HTMLElement {
  const labels = Object.entries(job.labels).map(([key, value]) => `${key}=${value}`);
  const row = (term: string, ...value: Child[]) => [h('dt', {}, term), h('dd', {}, ...value)];
  return h(
    'dl',
    { class: 'settings' },
    row('Schedule', h('code', {}, job.cronExpr), ` in ${job.timezone}`),
    row(
      'Next fire',
      !job.enabled
        ? 'disabled'
        : nextFire === undefined
          ? '…'
          : nextFire === null
            ? 'never'
            : `${formatInstant(nextFire, job.timezone)} (${formatRelative(nextFire, Date.now())})`,
    ),
    row('Command', h('pre', { class: 'command' }, job.command)),
    row('Concurrency', job.concurrency),
    row('Timeout', job.timeoutSec === 0 ? 'none' : formatDuration(job.timeoutSec * 1000)),
    row(
      'Retries',
      job.retries === 0 ? 'none' : `${job.retries}, first after ${job.retryDelaySec} s`,
    ),
    row('Agent labels', labels.length === 0 ? 'any agent' : labels.join(', ')),
    job.notify.failure.length + job.notify.success.length === 0
      ? null
      : row(
          'Webhooks',
          `${job.notify.failure.length} on failure, ${job.notify.success.length} on success`,
        ),
    job.description ? row('Description', job.description) : null,
  );
}

export function mountJobPage(name: string) {
  return (main: HTMLElement, context: ViewContext): View => {
    const { api, canWrite, navigate } = context;
    const history = createRunHistory();
    const nextFire = createNextFireCache(api);
    let row: JobRow | null = null;
    let gone = false;
    let running: RunningEntry[] = [];

    const head = h('div', { class: 'page-head' });
    const problem = h('p', { class: 'load-error', role: 'alert' });
    const details = h('section', { 'aria-label': 'Settings' });
    const runningNow = h('section', { 'aria-labelledby': 'running-title' });
    const chart = h('div');
    const table = h('div', { class: 'table-wrap' });
    const pager = h('div', { class: 'button-row' });

    const poller = startPolling(
      async () => {
        const [job, inFlight, newest] = await Promise.all([
          api.getJob(name).catch((error: unknown) => {
            if (errorCode(error) === 'not_found') return null;
            throw error;
          }),
          api.running(),
          api.runsOfJob(name, { limit: CHART_RUNS }),
        ]);
        row = job;
        gone = job === null;
        running = inFlight.filter((entry) => entry.jobName === name);
        history.mergeNewest(newest);
        problem.textContent = '';
        render();
        if (row?.job.enabled && (await nextFire.refresh([row.job]))) render();
      },
      REFRESH_INTERVAL_MS,
      (error) => {
        problem.textContent = `Could not refresh: ${errorMessage(error)}`;
      },
    );
    const actions = createJobActions(context, () => poller.refresh());

    async function loadOlder(): Promise<void> {
      const before = history.nextCursor;
      if (before === null) return;
      try {
        history.mergeOlder(await api.runsOfJob(name, { limit: CHART_RUNS, before }));
        render();
      } catch (error) {
        problem.textContent = `Could not load older runs: ${errorMessage(error)}`;
      }
    }

    function renderHead(): void {
      const buttons: Child[] =
        canWrite && row
          ? [
              h(
                'button',
                {
                  type: 'button',
                  'data-focus-key': 'run',
                  onclick: () => void actions.runNow(name),
                },
                'Run now',
              ),
              running.length > 0
                ? h(
                    'button',
                    {
                      type: 'button',
                      class: 'danger',
                      'data-focus-key': 'kill',
                      onclick: () => void actions.kill(name),
                    },
                    'Kill',
                  )
                : null,
              h('a', { class: 'button', href: href({ view: 'edit-job', name }) }, 'Edit'),
              h(
                'button',
                {
                  type: 'button',
                  class: 'danger',
                  'data-focus-key': 'delete',
                  onclick: () =>
                    void actions.remove(name).then((deleted) => {
                      if (deleted) navigate({ view: 'jobs' });
                    }),
                },
                'Delete',
              ),
            ]
          : [];
      replaceKeepingFocus(
        head,
        h('h1', { tabindex: '-1', 'data-focus-key': 'title' }, name),
        h('div', { class: 'actions' }, buttons),
      );
    }

    function renderRunning(): void {
      replaceKeepingFocus(
        runningNow,
        h('h2', { id: 'running-title' }, 'Running now'),
        running.length === 0
          ? h('p', { class: 'muted' }, 'Nothing of this job runs now.')
          : h(
              'ul',
              { class: 'running-list' },
              running.map((entry) =>
                h(
                  'li',
                  {},
                  h('span', { class: 'status status-running' }, 'running'),
                  ` on ${entry.agentId} since ${formatRelative(entry.startTime, Date.now())} `,
                  h('span', { class: 'sub' }, entry.runId),
                  canWrite
                    ? h(
                        'button',
                        {
                          type: 'button',
                          class: 'danger',
                          'data-focus-key': `kill:${entry.runId}`,
                          'aria-label': `Kill run ${entry.runId}`,
                          onclick: () => void actions.kill(name, entry.runId),
                        },
                        'Kill this run',
                      )
                    : null,
                ),
              ),
            ),
      );
    }

    function render(): void {
      renderHead();
      details.replaceChildren(
        gone
          ? h(
              'p',
              { class: 'muted' },
              'This job does not exist (any more); its run history is kept.',
            )
          : row
            ? settings(row.job, nextFire.get(row.job.cronExpr, row.job.timezone))
            : '',
      );
      renderRunning();
      chart.replaceChildren(runChart(history.runs));
      replaceKeepingFocus(
        table,
        history.runs.length === 0
          ? h('p', { class: 'muted' }, 'No runs recorded yet.')
          : runsTable(history.runs, `Runs of ${name}, newest first`),
      );
      replaceKeepingFocus(
        pager,
        history.nextCursor === null
          ? null
          : h(
              'button',
              { type: 'button', 'data-focus-key': 'older', onclick: () => void loadOlder() },
              'Load older runs',
            ),
      );
    }

    main.replaceChildren(
      h(
        'nav',
        { class: 'crumbs', 'aria-label': 'Breadcrumb' },
        h('a', { href: href({ view: 'jobs' }) }, 'Jobs'),
      ),
      head,
      problem,
      details,
      runningNow,
      h(
        'section',
        { 'aria-labelledby': 'chart-title' },
        h('h2', { id: 'chart-title' }, 'Last runs'),
        chart,
      ),
      h(
        'section',
        { 'aria-labelledby': 'runs-title' },
        h('h2', { id: 'runs-title' }, 'Runs'),
        table,
        pager,
      ),
    );
    renderHead();
    return { dispose: () => poller.stop() };
  };
}
