/**
 * One run with its whole output, in a monospace viewer that keeps whitespace. When the agent
 * capped the output it kept the head and the tail with a marker line between them; the marker
 * is drawn as a visible band and announced above the output, so nobody reads the tail as
 * following the head.
 */
import type { Child } from '../dom.ts';
import { fill, h } from '../dom.ts';
import { formatDuration, formatInstant } from '../format.ts';
import { href } from '../router.ts';
import type { View, ViewContext } from '../view.ts';
import { errorMessage, refocusHeading } from '../view.ts';
import type { RunView } from '../wire.ts';
import { exitText, skipText, triggerText } from './runs-table.ts';
import { statusBadge } from './status-badge.ts';

/** The agent's marker (agent/output-buffer.ts), newlines included. */
const TRUNCATION_MARKER = /\n\[… \d+ bytes of output truncated by cronplane …\]\n/;

function outputView(run: RunView): HTMLElement {
  if (run.output === '') return h('p', { class: 'muted' }, 'This run printed nothing.');
  const match = run.outputTruncated ? TRUNCATION_MARKER.exec(run.output) : null;
  // The marker is drawn as a block, which ends the line before it; the newline after it would
  // add an empty line, so it is left out.
  const content: Child = match
    ? [
        run.output.slice(0, match.index + 1),
        h('mark', { class: 'truncation-marker' }, match[0].slice(1, -1)),
        run.output.slice(match.index + match[0].length),
      ]
    : run.output;
  return h(
    'pre',
    { class: 'output', tabindex: '0', 'aria-labelledby': 'output-title' },
    h('code', {}, content),
  );
}

function summary(run: RunView): HTMLElement {
  const row = (term: string, ...value: Child[]) => [h('dt', {}, term), h('dd', {}, ...value)];
  const ran = run.startTime !== 0;
  const trigger = triggerText(run);
  const skipped = skipText(run);
  return h(
    'dl',
    { class: 'settings' },
    row('Status', statusBadge(run.status)),
    run.err ? row('Reason', run.err) : null,
    skipped === null ? null : row('Skipped', skipped),
    row('Job', h('a', { href: href({ view: 'job', name: run.jobName }) }, run.jobName)),
    row('Planned', formatInstant(run.planTime)),
    ran
      ? row(
          'Started',
          `${formatInstant(run.startTime)} (+${formatDuration(run.startTime - run.planTime)})`,
        )
      : null,
    ran ? row('Ended', formatInstant(run.endTime)) : null,
    ran ? row('Duration', formatDuration(run.endTime - run.startTime)) : null,
    row('Agent', run.agentId || '—', run.host && run.host !== run.agentId ? ` on ${run.host}` : ''),
    row('Exit', exitText(run)),
    run.attempt === undefined ? null : row('Attempt', String(run.attempt)),
    trigger === null ? null : row('Trigger', trigger),
    row('Command', h('pre', { class: 'command' }, run.command)),
    row('Run id', h('code', {}, run.runId)),
  );
}

export function mountRunPage(runId: string) {
  return (main: HTMLElement, { api }: ViewContext): View => {
    let disposed = false;
    const status = h('p', { class: 'loading' }, 'Loading…');
    main.replaceChildren(h('h1', { tabindex: '-1' }, 'Run'), status);
    api.run(runId).then(
      (run) => {
        if (disposed) return;
        const title = h('h1', { tabindex: '-1' }, `Run of ${run.jobName}`);
        fill(
          main,
          h(
            'nav',
            { class: 'crumbs', 'aria-label': 'Breadcrumb' },
            h('a', { href: href({ view: 'jobs' }) }, 'Jobs'),
            ' / ',
            h('a', { href: href({ view: 'job', name: run.jobName }) }, run.jobName),
          ),
          title,
          summary(run),
          h('h2', { id: 'output-title' }, 'Output'),
          run.outputTruncated
            ? h(
                'p',
                { class: 'truncation-note', role: 'note' },
                'Output truncated: the agent kept the beginning and the end; the marked line shows where the middle was dropped.',
              )
            : null,
          outputView(run),
        );
        refocusHeading(main);
      },
      (error) => {
        if (disposed) return;
        status.className = 'load-error';
        status.setAttribute('role', 'alert');
        status.textContent = `Could not load run ${runId}: ${errorMessage(error)}`;
      },
    );
    return {
      dispose() {
        disposed = true;
      },
    };
  };
}
