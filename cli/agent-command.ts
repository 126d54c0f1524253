/** `cronplane agent`: runs the agent daemon until SIGTERM or SIGINT. */
import { createRequire } from 'node:module';
import { loadAgentConfig } from '../agent/config.ts';
import { createAgent } from '../agent/agent.ts';
import { createEventLog } from '../agent/log.ts';
import { CronplaneError } from '../core/errors.ts';

function packageVersion(): string {
  const version: unknown = (
    createRequire(import.meta.url)('../package.json') as { version?: unknown }
  ).version;
  return typeof version === 'string' ? version : '0.0.0';
}

/** `version` defaults to package.json's; the agent bundle, which has none, passes its stamp. */
export async function run(args: string[], version: string = packageVersion()): Promise<number> {
  let config;
  try {
    config = loadAgentConfig(args);
  } catch (error) {
    if (error instanceof CronplaneError) {
      process.stderr.write(`cronplane agent: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const agent = createAgent(config, {
    version,
    log: createEventLog(config.agentId, process.env.CRONPLANE_VERBOSE === '1'),
  });
  const onSignal = (signal: string): void => {
    void agent.stop(signal);
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  await agent.ready.catch(async (error: unknown) => {
    process.stderr.write(`cronplane agent: failed to start: ${String(error)}\n`);
    await agent.stop('start failed');
  });
  await agent.done;
  return 0;
}
