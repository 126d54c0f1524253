/**
 * The jobs table: schedule, next fire, last run, enabled, and what runs now, refreshed every few
 * seconds; search and a filter narrow it. Admins get the controls; viewers only read.
 */
import type { RunningEntry } from '../../../core/coordination.ts';
import type { Child } from '../dom.ts';
import { h, replaceKeepingFocus } from '../dom.ts';
import { formatDuration, formatInstant, formatRelative } from '../format.ts';
import { createNextFireCache } from '../next-fire.ts';
import { startPolling } from '../poller.ts';
import { href } from '../router.ts';
import type { MountView } from '../view.ts';
import { errorMessage } from '../view.ts';
import type { JobRow } from '../wire.ts';
import { createJobActions } from './job-actions.ts';
import { statusBadge } from './status-badge.ts';

const REFRESH_INTERVAL_MS = 3_000;

type Show = 'all' | 'enabled' | 'disabled' | 'running' | 'failing';
const SHOW_OPTIONS: readonly [Show, string][] = [
  ['all', 'All jobs'],
  ['enabled', 'Enabled'],
  ['disabled', 'Disabled'],
  ['running', 'Running now'],
  ['failing', 'Last run not succeeded'],
];

function matches(row: JobRow, query: string, show: Show, running: number): boolean {
  const { job, lastRun } = row;
  if (show === 'enabled' && !job.enabled) return false;
  if (show === 'disabled' && job.enabled) return false;
  if (show === 'running' && running === 0) return false;
  if (show === 'failing' && (lastRun === null || lastRun.status === 'succeeded')) return false;
  if (query === '') return true;
  const labels = Object.entries(job.labels).map(([key, value]) => `${key}=${value}`);
  return [job.name, job.command, job.cronExpr, job.description, ...labels].some((text) =>
    text.toLowerCase().includes(query),
  );
}

export const mountJobsView: MountView = (main, context) => {
  const { api, canWrite } = context;
  let rows: JobRow[] = [];
  let running: RunningEntry[] = [];
  let loaded = false;
  const nextFire = createNextFireCache(api);

  const search = h('input', {
    id: 'job-search',
    type: 'search',
    placeholder: 'name, command, label…',
    oninput: () => render(),
  });
  const show = h(
    'select',
    { id: 'job-show', onchange: () => render() },
    SHOW_OPTIONS.map(([value, label]) => h('option', { value }, label)),
  );
  const summary = h('p', { class: 'summary' });
  const problem = h('p', { class: 'load-error', role: 'alert' });
  const body = h('div', { class: 'table-wrap' }, h('p', { class: 'loading' }, 'Loading jobs…'));

  const poller = startPolling(
    async () => {
      [rows, running] = await Promise.all([api.listJobs(), api.running()]);
      loaded = true;
      problem.textContent = '';
      render();
      const enabled = visibleRows().filter((row) => row.job.enabled);
      if (await nextFire.refresh(enabled.map((row) => row.job))) render();
    },
    REFRESH_INTERVAL_MS,
    (error) => {
      problem.textContent = `Could not load jobs: ${errorMessage(error)}`;
    },
  );
  const actions = createJobActions(context, () => poller.refresh());

  function runningCount(name: string): number {
    return running.filter((entry) => entry.jobName === name).length;
  }

  function visibleRows(): JobRow[] {
    const query = search.value.trim().toLowerCase();
    const filter = show.value as Show;
    return rows.filter((row) => matches(row, query, filter, runningCount(row.job.name)));
  }

  function nextFireCell(row: JobRow, now: number): Child {
    const { job } = row;
    if (!job.enabled) return h('span', { class: 'muted' }, 'disabled');
    const next = nextFire.get(job.cronExpr, job.timezone);
    if (next === undefined) return h('span', { class: 'muted' }, '…');
    if (next === null) return h('span', { class: 'muted' }, 'never');
    return [
      h('time', { datetime: new Date(next).toISOString() }, formatRelative(next, now)),
      h('span', { class: 'sub' }, formatInstant(next, job.timezone)),
    ];
  }

  function lastRunCell(row: JobRow, now: number): Child {
    const { lastRun } = row;
    if (lastRun === null) return h('span', { class: 'muted' }, 'never ran');
    return [
      h(
        'a',
        {
          href: href({ view: 'run', runId: lastRun.runId }),
          'aria-label': `Last run of ${row.job.name}: ${lastRun.status}`,
        },
        statusBadge(lastRun.status),
      ),
      ' ',
      formatDuration(lastRun.endTime - lastRun.startTime),
      h('span', { class: 'sub' }, formatRelative(lastRun.endTime, now)),
    ];
  }

  function enabledCell(row: JobRow): Child {
    const { name, enabled } = row.job;
    if (!canWrite) return enabled ? 'yes' : 'no';
    const toggle = h('input', {
      type: 'checkbox',
      role: 'switch',
      checked: enabled,
      'aria-label': `${name} enabled`,
      'data-focus-key': `enabled:${name}`,
      onchange: () => {
        toggle.disabled = true;
        void actions.setEnabled(row, toggle.checked);
      },
    });
    return toggle;
  }

  function actionsCell(row: JobRow, runs: number): Child {
    const { name } = row.job;
    return h(
      'div',
      { class: 'actions' },
      h(
        'button',
        {
          type: 'button',
          // The accessible name starts with the visible one (WCAG 2.5.3, label in name).
          'aria-label': `Run now: ${name}`,
          'data-focus-key': `run:${name}`,
          onclick: () => void actions.runNow(name),
        },
        'Run now',
      ),
      h(
        'button',
        {
          type: 'button',
          class: 'danger',
          disabled: runs === 0,
          'aria-label': `Kill ${name}`,
          'data-focus-key': `kill:${name}`,
          onclick: () => void actions.kill(name),
        },
        'Kill',
      ),
      h(
        'a',
        { class: 'button', href: href({ view: 'edit-job', name }), 'aria-label': `Edit ${name}` },
        'Edit',
      ),
      h(
        'button',
        {
          type: 'button',
          class: 'danger',
          'aria-label': `Delete ${name}`,
          'data-focus-key': `delete:${name}`,
          onclick: () =>
            void actions.remove(name).then((deleted) => (deleted ? poller.refresh() : undefined)),
        },
        'Delete',
      ),
    );
  }

  function jobRow(row: JobRow, now: number): HTMLTableRowElement {
    const { job } = row;
    const runs = runningCount(job.name);
    return h(
      'tr',
      { 'data-job': job.name },
      h(
        'th',
        { scope: 'row', 'data-label': 'Name' },
        h('a', { href: href({ view: 'job', name: job.name }) }, job.name),
        runs > 0
          ? h('span', { class: 'running-badge' }, runs > 1 ? `running ×${runs}` : 'running')
          : null,
        job.description ? h('span', { class: 'sub' }, job.description) : null,
      ),
      h(
        'td',
        { 'data-label': 'Schedule' },
        h('code', {}, job.cronExpr),
        h('span', { class: 'sub' }, job.timezone),
      ),
      h('td', { 'data-label': 'Next fire' }, nextFireCell(row, now)),
      h('td', { 'data-label': 'Last run' }, lastRunCell(row, now)),
      h('td', { 'data-label': 'Enabled' }, enabledCell(row)),
      canWrite ? h('td', { 'data-label': 'Actions' }, actionsCell(row, runs)) : null,
    );
  }

  function render(): void {
    if (!loaded) return;
    const now = Date.now();
    const visible = visibleRows();
    const runningJobs = rows.filter((row) => runningCount(row.job.name) > 0).length;
    summary.textContent =
      `${rows.length} job${rows.length === 1 ? '' : 's'}, ${runningJobs} running now` +
      (visible.length === rows.length ? '' : `; ${visible.length} shown`);
    if (rows.length === 0) {
      replaceKeepingFocus(body, h('p', { class: 'empty' }, 'No jobs yet.'));
      return;
    }
    if (visible.length === 0) {
      replaceKeepingFocus(body, h('p', { class: 'empty' }, 'No job matches the search.'));
      return;
    }
    replaceKeepingFocus(
      body,
      h(
        'table',
        { class: 'responsive jobs' },
        h('caption', { class: 'visually-hidden' }, 'Jobs'),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            [
              'Name',
              'Schedule',
              'Next fire',
              'Last run',
              'Enabled',
              canWrite ? 'Actions' : null,
            ].map((title) => (title === null ? null : h('th', { scope: 'col' }, title))),
          ),
        ),
        h(
          'tbody',
          {},
          visible.map((row) => jobRow(row, now)),
        ),
      ),
    );
  }

  main.replaceChildren(
    h(
      'div',
      { class: 'page-head' },
      h('h1', { tabindex: '-1' }, 'Jobs'),
      canWrite
        ? h('a', { class: 'button primary', href: href({ view: 'new-job' }) }, 'New job')
        : null,
    ),
    h(
      'div',
      { class: 'filters', role: 'search' },
      h('div', { class: 'field' }, h('label', { for: 'job-search' }, 'Search'), search),
      h('div', { class: 'field' }, h('label', { for: 'job-show' }, 'Show'), show),
    ),
    summary,
    problem,
    body,
  );
  return { dispose: () => poller.stop() };
};
