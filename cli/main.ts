/** @module The `cronplane` command line: one sub-command per file, loaded on demand. */

type CommandModule = { run(args: string[]): Promise<number> };

const commands: Record<string, { summary: string; load: () => Promise<CommandModule> }> = {
  agent: { summary: 'run the agent daemon on this host', load: () => import('./agent-command.ts') },
  cron: {
    summary: 'cron next "<expr>" — preview fire times',
    load: () => import('./cron-command.ts'),
  },
  job: {
    summary: 'ls|get|put|rm|kill|runs|run-log — jobs via the API',
    load: () => import('./job-command.ts'),
  },
  'control-plane': {
    summary: 'serve the API and console on Node',
    load: () => import('./control-plane-command.ts'),
  },
  relay: {
    summary: 'serve signed etcd/MongoDB access for the control plane',
    load: () => import('./relay-command.ts'),
  },
  dev: {
    summary: 'local stack, relay, control plane and one agent (npm start)',
    load: () => import('./dev-command.ts'),
  },
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(14)} ${c.summary}`);
  return `usage: cronplane <command> [options]\n\ncommands:\n${lines.join('\n')}\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`cronplane: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  return (await command.load()).run(rest);
}

process.exitCode = await main(process.argv.slice(2));

export {};
