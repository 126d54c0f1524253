/** What each relay operation does with the data ports; one line per port method. */
import type { RelayOperation, RelayParsedRequest, RelayResponse } from '../core/relay-wire.ts';
import { relayWire } from '../core/relay-wire.ts';
import type { DataPorts } from '../control-plane/ports.ts';

type Handlers = {
  readonly [Op in RelayOperation]: (
    ports: DataPorts,
    request: RelayParsedRequest<Op>,
  ) => Promise<RelayResponse<Op>>;
};

const handlers: Handlers = {
  'jobs.list': async (ports) => ({ jobs: await ports.jobs.list() }),
  'jobs.get': async (ports, { name }) => ({ job: await ports.jobs.get(name) }),
  'jobs.put': (ports, { job, ifMatch }) =>
    ports.jobs.put(job, ifMatch === undefined ? {} : { ifMatch }),
  'jobs.delete': async (ports, { name }) => {
    await ports.jobs.delete(name);
    return {};
  },
  'jobs.kill': async (ports, { name, request }) => {
    await ports.jobs.kill(name, request);
    return {};
  },
  'jobs.run': async (ports, { name, trigger }) => {
    await ports.jobs.runNow(name, trigger);
    return {};
  },
  'running.list': async (ports) => ({ running: await ports.jobs.listRunning() }),
  'workers.list': async (ports) => ({ workers: await ports.workers.list() }),
  'runs.ofJob': (ports, { name, limit, before }) =>
    ports.runLogs.runsOfJob(name, before ? { limit, before } : { limit }),
  'runs.get': async (ports, { runId }) => ({ run: await ports.runLogs.run(runId) }),
  'runs.last': async (ports, { names }) => ({ lastRuns: await ports.runLogs.lastRuns(names) }),
  health: (ports) => ports.health.check(),
};

/** Validates the request for `op` (ValidationError → 400) and runs it. */
export function runOperation<Op extends RelayOperation>(
  ports: DataPorts,
  op: Op,
  body: unknown,
): Promise<RelayResponse<Op>> {
  const request = relayWire[op].parseRequest(body);
  return handlers[op](ports, request);
}
