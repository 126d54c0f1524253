/**
 * @module Entry of the agent bundle (scripts/build-agent.mjs): `cronplane agent` with its version
 * stamped in at build time, plus the two questions the installer asks a bundle before it
 * swaps it in: `--version`, and `--check-config [flags]` (exit 2 and the reason when invalid).
 */
import { loadAgentConfig } from '../agent/config.ts';
import { CronplaneError } from '../core/errors.ts';
import { run } from './agent-command.ts';

/** Replaced by esbuild's `define`; a bundle has no package.json to read. */
declare const CRONPLANE_AGENT_VERSION: string;

function checkConfig(args: string[]): number {
  try {
    loadAgentConfig(args);
    process.stdout.write('configuration ok\n');
    return 0;
  } catch (error) {
    if (!(error instanceof CronplaneError)) throw error;
    process.stderr.write(`cronplane agent: ${error.message}\n`);
    return 2;
  }
}

async function main(args: string[]): Promise<number> {
  if (args[0] === '--version') {
    process.stdout.write(`${CRONPLANE_AGENT_VERSION}\n`);
    return 0;
  }
  if (args[0] === '--check-config') return checkConfig(args.slice(1));
  return run(args, CRONPLANE_AGENT_VERSION);
}

// No top-level await: the bundle is CommonJS.
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`cronplane agent: ${String(error)}\n`);
    process.exitCode = 1;
  },
);
