/**
 * Duration and status of the last runs as an inline SVG bar chart, oldest on the left: one bar
 * per run, its height the run's duration, its colour the status. Screen readers get the same
 * story as a sentence; the legend repeats the colours with their names and counts.
 */
import { h, svg } from '../dom.ts';
import { formatDuration, formatInstant } from '../format.ts';
import type { RunView } from '../wire.ts';
import { statusClass } from './status-badge.ts';

export const CHART_RUNS = 50;
const BAR_WIDTH = 10;
const BAR_GAP = 2;
const HEIGHT = 100;
/** Instant runs still get a visible bar. */
const MIN_BAR_HEIGHT = 3;

const durationOf = (run: RunView): number => Math.max(0, run.endTime - run.startTime);

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/** `runs` newest first, as listed; the newest CHART_RUNS of them are drawn. */
export function runChart(runs: readonly RunView[]): HTMLElement {
  const shown = runs.slice(0, CHART_RUNS).reverse();
  if (shown.length === 0) return h('p', { class: 'muted' }, 'No runs yet.');
  const durations = shown.map(durationOf);
  const longest = Math.max(...durations, 1);
  const counts = new Map<string, number>();
  for (const run of shown) counts.set(run.status, (counts.get(run.status) ?? 0) + 1);
  const countText = [...counts].map(([status, count]) => `${count} ${status}`).join(', ');
  const description =
    `The last ${shown.length} runs, oldest first: ${countText}. ` +
    `Longest ${formatDuration(longest)}, median ${formatDuration(median(durations))}.`;

  const width = CHART_RUNS * (BAR_WIDTH + BAR_GAP);
  const bars = shown.map((run, index) => {
    const height = Math.max(MIN_BAR_HEIGHT, (durationOf(run) / longest) * HEIGHT);
    return svg(
      'rect',
      {
        class: `bar ${statusClass(run.status)}`,
        x: width - (shown.length - index) * (BAR_WIDTH + BAR_GAP),
        y: HEIGHT - height,
        width: BAR_WIDTH,
        height,
      },
      svg(
        'title',
        {},
        `${formatInstant(run.planTime)}: ${run.status}, ${formatDuration(durationOf(run))}`,
      ),
    );
  });

  return h(
    'figure',
    { class: 'run-chart' },
    h('div', { class: 'chart-scale', 'aria-hidden': 'true' }, formatDuration(longest)),
    svg(
      'svg',
      {
        viewBox: `0 0 ${width} ${HEIGHT}`,
        preserveAspectRatio: 'none',
        role: 'img',
        'aria-label': description,
      },
      svg('line', { class: 'baseline', x1: 0, y1: HEIGHT, x2: width, y2: HEIGHT }),
      bars,
    ),
    h(
      'figcaption',
      {},
      h('span', {}, `Duration and status of the last ${shown.length} runs (newest on the right).`),
      h(
        'ul',
        { class: 'legend' },
        [...counts].map(([status, count]) =>
          h(
            'li',
            {},
            h('span', { class: `swatch ${statusClass(status)}`, 'aria-hidden': 'true' }),
            `${status} ${count}`,
          ),
        ),
      ),
    ),
  );
}
