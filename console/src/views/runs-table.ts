/**
 * A table of runs, newest first: status, planned and actual start, duration, agent and exit.
 * What sets a run apart — a retry attempt, a manual trigger, skipped ticks — is noted under its
 * status, so the common run stays one compact line. Each run links to its output.
 */
import { h } from '../dom.ts';
import { formatDuration, formatInstant } from '../format.ts';
import { href } from '../router.ts';
import type { RunView } from '../wire.ts';
import { statusBadge } from './status-badge.ts';

/** What ended the process: the exit code, the signal, or nothing (a lost or skipped run). */
export function exitText(run: RunView): string {
  if (run.signal !== null) return run.signal;
  return run.exitCode === null ? '—' : String(run.exitCode);
}

export function triggerText(run: RunView): string | null {
  if (run.trigger === undefined) return null;
  return run.triggeredBy === undefined ? run.trigger : `${run.trigger} (${run.triggeredBy})`;
}

export function skipText({ skip }: RunView): string | null {
  if (skip === undefined) return null;
  const ticks = `${skip.count} tick${skip.count === 1 ? '' : 's'} skipped`;
  const span =
    skip.count === 1
      ? formatInstant(skip.firstMissed)
      : `${formatInstant(skip.firstMissed)} to ${formatInstant(skip.lastMissed)}`;
  return `${ticks} (${span})${skip.reason ? `: ${skip.reason}` : ''}`;
}

/** What sets a run apart from a plain scheduled first attempt; nothing for most runs. */
function notes(run: RunView): string[] {
  const trigger = run.trigger === 'schedule' ? null : triggerText(run);
  return [
    skipText(run),
    run.attempt !== undefined && run.attempt > 1 ? `attempt ${run.attempt}` : null,
    trigger,
  ].filter((note) => note !== null);
}

export function runsTable(runs: readonly RunView[], caption: string): HTMLTableElement {
  const columns = ['Status', 'Planned', 'Started', 'Duration', 'Agent', 'Exit'];
  return h(
    'table',
    { class: 'responsive runs' },
    h('caption', { class: 'visually-hidden' }, caption),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        columns.map((title) => h('th', { scope: 'col' }, title)),
      ),
    ),
    h(
      'tbody',
      {},
      runs.map((run) =>
        h(
          'tr',
          { 'data-run': run.runId, 'data-status': run.status },
          h(
            'td',
            { 'data-label': 'Status' },
            statusBadge(run.status),
            notes(run).map((note) => h('span', { class: 'sub note' }, note)),
            run.err ? h('span', { class: 'sub err', title: run.err }, run.err) : null,
          ),
          h(
            'th',
            { scope: 'row', 'data-label': 'Planned' },
            h(
              'a',
              {
                href: href({ view: 'run', runId: run.runId }),
                'aria-label': `Output of the run planned for ${formatInstant(run.planTime)}`,
              },
              formatInstant(run.planTime),
            ),
          ),
          h(
            'td',
            { 'data-label': 'Started' },
            run.startTime === 0 ? '—' : `+${formatDuration(run.startTime - run.planTime)}`,
            run.startTime === 0 ? null : h('span', { class: 'sub' }, formatInstant(run.startTime)),
          ),
          h(
            'td',
            { 'data-label': 'Duration' },
            run.startTime === 0 ? '—' : formatDuration(run.endTime - run.startTime),
          ),
          h(
            'td',
            { 'data-label': 'Agent' },
            run.agentId || '—',
            run.host && run.host !== run.agentId ? h('span', { class: 'sub' }, run.host) : null,
          ),
          h('td', { 'data-label': 'Exit' }, exitText(run)),
        ),
      ),
    ),
  );
}
