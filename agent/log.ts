/** Structured log lines (`component:event` names) on stderr, one JSON object per line. */

export type EventSink = (event: string, detail: Record<string, unknown>) => void;

const QUIET = new Set([
  'claim:outcome',
  'run:started',
  'run:ended',
  'view:connected',
  'scheduler:planned',
  'agent:loopDelay',
]);

export function createEventLog(agentId: string, verbose: boolean): EventSink {
  return (event, detail) => {
    if (!verbose && QUIET.has(event)) return;
    process.stderr.write(
      `${JSON.stringify({ t: new Date().toISOString(), agent: agentId, event, ...detail })}\n`,
    );
  };
}
