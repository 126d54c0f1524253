/**
 * The fleet, live: each agent's status (online, stale, offline), labels, running runs, when it
 * was last heard from, load, memory, log backlog and spill, pushed over the health stream, so a
 * dying agent turns offline on screen without a reload. `GET /v1/workers` adds whether each agent
 * still holds its etcd registration, which the stream does not carry. Status changes are also
 * announced to screen readers.
 */
import type { WorkerView } from '../../../core/api.ts';
import type { AgentHealthView, ExecutorHealth } from '../../../core/health.ts';
import type { Child } from '../dom.ts';
import { h, replaceKeepingFocus } from '../dom.ts';
import { formatBytes, formatRelative } from '../format.ts';
import type { StreamState } from '../health-stream.ts';
import { openHealthStream } from '../health-stream.ts';
import { startPolling } from '../poller.ts';
import { href } from '../router.ts';
import type { MountView } from '../view.ts';
import { errorMessage } from '../view.ts';

const REGISTRY_REFRESH_MS = 5_000;
const TICK_MS = 1_000;

function streamText(state: StreamState): string {
  switch (state.kind) {
    case 'connecting':
      return 'Connecting to the live health stream…';
    case 'live':
      return 'Live';
    case 'retrying':
      return `Health stream lost; reconnecting in ${Math.ceil(state.inMs / 1000)} s`;
    case 'failed':
      return `No live health: ${state.reason}`;
    case 'closed':
      return 'Closed';
  }
}

function agentRow(
  agentId: string,
  health: AgentHealthView | undefined,
  worker: WorkerView | undefined,
  now: number,
): HTMLTableRowElement {
  const heartbeat = health?.heartbeat ?? null;
  const status = health?.status ?? 'unknown';
  const labels = Object.entries(health?.labels ?? worker?.labels ?? {});
  const cell = (label: string, ...content: Child[]) => h('td', { 'data-label': label }, ...content);
  return h(
    'tr',
    { 'data-agent': agentId, 'data-status': status },
    cell('Status', h('span', { class: `status agent-${status}` }, status)),
    h(
      'th',
      { scope: 'row', 'data-label': 'Agent' },
      agentId,
      h(
        'span',
        { class: 'sub' },
        [health?.host ?? worker?.host, health?.version ?? worker?.version]
          .filter(Boolean)
          .join(' · '),
      ),
    ),
    cell(
      'Labels',
      labels.length === 0
        ? h('span', { class: 'muted' }, 'none')
        : h(
            'ul',
            { class: 'labels' },
            labels.map(([key, value]) => h('li', {}, `${key}=${value}`)),
          ),
    ),
    cell(
      'Running',
      heartbeat === null
        ? '—'
        : heartbeat.running.length === 0
          ? '0'
          : h(
              'ul',
              { class: 'plain' },
              heartbeat.running.map((run) =>
                h(
                  'li',
                  {},
                  h('a', { href: href({ view: 'job', name: run.jobName }) }, run.jobName),
                ),
              ),
            ),
    ),
    cell(
      'Last seen',
      health
        ? h(
            'time',
            { datetime: new Date(health.lastSeenAt).toISOString() },
            formatRelative(health.lastSeenAt, now),
          )
        : '—',
    ),
    cell(
      'Load (1, 5, 15 min)',
      heartbeat ? heartbeat.load.map((x) => x.toFixed(2)).join(' ') : '—',
    ),
    cell('Memory', heartbeat ? formatBytes(heartbeat.rssBytes) : '—'),
    cell('Log backlog', heartbeat ? String(heartbeat.logBacklog) : '—'),
    cell(
      'Spill',
      heartbeat ? formatBytes(heartbeat.spillBytes) : '—',
      heartbeat?.spillError ? h('span', { class: 'sub err' }, heartbeat.spillError) : null,
    ),
    cell(
      'Launches',
      heartbeat?.executor ? executorLabel(heartbeat.executor) : '—',
      heartbeat?.executor?.fallbackReason
        ? h('span', { class: 'sub err' }, heartbeat.executor.fallbackReason)
        : null,
    ),
    cell(
      'Session',
      heartbeat?.session ?? '—',
      worker && !worker.registered
        ? h('span', { class: 'sub err' }, 'not registered in etcd')
        : null,
    ),
  );
}

/** Node's spawn forks the agent: a fleet should see at a glance which hosts run without a launcher. */
function executorLabel(executor: ExecutorHealth): string {
  if (executor.kind === 'node') return 'Node (fallback)';
  return executor.version ? `launcher ${executor.version}` : 'launcher';
}

export const mountFleetView: MountView = (main, { api, token }) => {
  const health = new Map<string, AgentHealthView>();
  let workers: WorkerView[] = [];
  const connection = h('p', { class: 'stream-state' }, 'Connecting…');
  const announcer = h('p', { class: 'visually-hidden', 'aria-live': 'polite' });
  const problem = h('p', { class: 'load-error', role: 'alert' });
  const summary = h('p', { class: 'summary' });
  const body = h('div', { class: 'table-wrap' });

  function render(): void {
    const now = Date.now();
    const workerById = new Map(workers.map((worker) => [worker.agentId, worker]));
    const ids = [...new Set([...health.keys(), ...workerById.keys()])].sort();
    const counts = { online: 0, stale: 0, offline: 0 };
    for (const view of health.values()) counts[view.status]++;
    summary.textContent = `${ids.length} agent${ids.length === 1 ? '' : 's'}: ${counts.online} online, ${counts.stale} stale, ${counts.offline} offline`;
    replaceKeepingFocus(
      body,
      ids.length === 0
        ? h('p', { class: 'empty' }, 'No agent has connected.')
        : h(
            'table',
            { class: 'responsive fleet' },
            h('caption', { class: 'visually-hidden' }, 'Agents'),
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                [
                  'Status',
                  'Agent',
                  'Labels',
                  'Running',
                  'Last seen',
                  'Load (1, 5, 15 min)',
                  'Memory',
                  'Log backlog',
                  'Spill',
                  'Launches',
                  'Session',
                ].map((title) => h('th', { scope: 'col' }, title)),
              ),
            ),
            h(
              'tbody',
              {},
              ids.map((id) => {
                const worker = workerById.get(id);
                // The stream is fresher; the registry's copy serves while the stream is down.
                const view = health.get(id) ?? worker?.health ?? undefined;
                return agentRow(id, view, worker, now);
              }),
            ),
          ),
    );
  }

  const stream = openHealthStream({
    token,
    onState(state) {
      connection.textContent = streamText(state);
      connection.dataset.state = state.kind;
    },
    onFrame(frame) {
      if (frame.type === 'snapshot') {
        health.clear();
        for (const agent of frame.agents) health.set(agent.agentId, agent);
      } else {
        const before = health.get(frame.agent.agentId)?.status;
        health.set(frame.agent.agentId, frame.agent);
        if (before !== undefined && before !== frame.agent.status) {
          announcer.textContent = `Agent ${frame.agent.agentId} is ${frame.agent.status}.`;
        }
      }
      render();
    },
  });
  const registry = startPolling(
    async () => {
      workers = await api.workers();
      problem.textContent = '';
      render();
    },
    REGISTRY_REFRESH_MS,
    (error) => {
      problem.textContent = `Could not load the agent registry: ${errorMessage(error)}`;
    },
  );
  // Relative times ("3 s ago") age between frames.
  const ticker = setInterval(render, TICK_MS);

  main.replaceChildren(
    h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, 'Fleet'), connection),
    summary,
    announcer,
    problem,
    body,
  );
  return {
    dispose() {
      clearInterval(ticker);
      registry.stop();
      stream.close();
    },
  };
};
