/**
 * The agent as the installer ships it: the newest esbuild bundle (dist/agent/*.cjs, built by
 * `prebench`), the cronplane-launcher built with it, and the node flags of the installed unit.
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { firstExecutable } from '../../test/stack/index.ts';

/** The node flags install/install.sh's systemd unit runs the bundle with. */
export const INSTALLED_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];

const DIST = resolve(import.meta.dirname, '../../dist/agent');

/** The newest agent bundle, if one was built. */
export function findAgentBundle(): string | undefined {
  try {
    return readdirSync(DIST)
      .filter((f) => f.endsWith('.cjs'))
      .map((f) => join(DIST, f))
      .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
  } catch {
    return undefined;
  }
}

const GO_ARCH: Partial<Record<NodeJS.Architecture, string>> = { x64: 'amd64', arm64: 'arm64' };

/**
 * The launcher built with a bundle, for `--launcher-path`: `cronplane-launcher` beside it (the
 * installed layout), else the versioned one scripts/build-agent.mjs puts beside it, else
 * scripts/build-launcher.sh's. Without it the bundle would not find one and run commands with Node.
 */
export function launcherForBundle(bundle: string): string | undefined {
  const arch = GO_ARCH[process.arch];
  if (arch === undefined) return undefined;
  const version = basename(bundle)
    .replace(/^cronplane-agent-/, '')
    .replace(/\.cjs$/, '');
  const candidates = [
    join(dirname(bundle), 'cronplane-launcher'),
    join(dirname(bundle), `cronplane-launcher-${version}-linux-${arch}`),
    resolve(import.meta.dirname, `../../dist/launcher/linux-${arch}/cronplane-launcher`),
  ];
  return firstExecutable(candidates);
}
