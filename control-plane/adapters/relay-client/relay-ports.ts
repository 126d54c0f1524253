/** The data ports over the relay: each port method is one relay operation. */
import { encodeRunCursor } from '../../../core/api.ts';
import { MAX_NAMES_PER_RELAY_REQUEST } from '../../../core/relay-wire.ts';
import type { DataAdapter } from '../../ports.ts';
import type { RelayClient } from './relay-client.ts';

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export function createRelayPorts(relay: RelayClient): DataAdapter {
  return {
    jobs: {
      list: async () => (await relay.call('jobs.list', {})).jobs,
      get: async (name) => (await relay.call('jobs.get', { name })).job,
      put: (job, { ifMatch } = {}) =>
        relay.call('jobs.put', ifMatch === undefined ? { job } : { job, ifMatch }),
      delete: async (name) => {
        await relay.call('jobs.delete', { name });
      },
      runNow: async (name, trigger) => {
        await relay.call('jobs.run', { name, trigger });
      },
      kill: async (name, request) => {
        await relay.call('jobs.kill', { name, request });
      },
      listRunning: async () => (await relay.call('running.list', {})).running,
    },
    runLogs: {
      runsOfJob: (name, { limit, before }) =>
        relay.call(
          'runs.ofJob',
          before ? { name, limit, before: encodeRunCursor(before) } : { name, limit },
        ),
      run: async (runId) => (await relay.call('runs.get', { runId })).run,
      lastRuns: async (names) => {
        const pages = await Promise.all(
          chunks(names, MAX_NAMES_PER_RELAY_REQUEST).map((batch) =>
            relay.call('runs.last', { names: batch }),
          ),
        );
        return pages.flatMap((page) => page.lastRuns);
      },
    },
    workers: { list: async () => (await relay.call('workers.list', {})).workers },
    health: {
      async check() {
        try {
          const report = await relay.call('health', {});
          return { ok: report.ok, checks: { relay: { ok: true }, ...report.checks } };
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error);
          return { ok: false, checks: { relay: { ok: false, error: reason } } };
        }
      },
    },
    // Nothing to release: fetch keeps no state of ours between calls.
    close: () => Promise.resolve(),
  };
}
