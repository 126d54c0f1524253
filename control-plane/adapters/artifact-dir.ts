/**
 * The agent artifacts port on Node: a folder as scripts/build-agent.mjs writes it
 * (`manifest.json`, `cronplane-agent-<version>.cjs`, `cronplane-launcher-<version>-linux-<arch>`,
 * each with its `.sha256`), plus install.sh from the source tree. Read on every request, so a
 * rebuild is offered without a restart.
 */
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { CronplaneError } from '../../core/errors.ts';
import { isRecord } from '../../core/wire.ts';
import type { AgentArtifact, AgentArtifacts, LauncherArch } from '../ports.ts';
import { LAUNCHER_ARCHES } from '../ports.ts';

async function readIfExists(path: string): Promise<Buffer<ArrayBuffer> | null> {
  try {
    return await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** The digest in a `sha256sum -c` line; null when there is no such file. */
async function readDigest(path: string): Promise<string | null> {
  const text = (await readIfExists(path))?.toString('utf8');
  if (text === undefined) return null;
  const sha256Hex = /^([0-9a-f]{64})\s/.exec(text)?.[1];
  if (sha256Hex === undefined) {
    throw new CronplaneError('invalid_config', `${path} holds no digest`);
  }
  return sha256Hex;
}

export function createArtifactDir(dir: string, installScriptPath: string): AgentArtifacts {
  const bundlePath = (version: string): string => join(dir, `cronplane-agent-${version}.cjs`);
  const launcherPath = (version: string, arch: LauncherArch): string =>
    join(dir, `cronplane-launcher-${version}-linux-${arch}`);
  // The route validates versions and architectures; this keeps any caller inside the folder
  // all the same.
  const isPlain = (version: string): boolean =>
    version !== '' && basename(version) === version && !version.startsWith('.');
  const isArch = (arch: string): arch is LauncherArch =>
    (LAUNCHER_ARCHES as readonly string[]).includes(arch);

  async function find(version: string): Promise<AgentArtifact | null> {
    if (!isPlain(version)) return null;
    const sha256Hex = await readDigest(`${bundlePath(version)}.sha256`);
    if (sha256Hex === null) return null;
    const launchers: Partial<Record<LauncherArch, string>> = {};
    for (const arch of LAUNCHER_ARCHES) {
      const digest = await readDigest(`${launcherPath(version, arch)}.sha256`);
      if (digest !== null) launchers[arch] = digest;
    }
    return { version, sha256Hex, launchers };
  }

  return {
    async current() {
      const manifest = await readIfExists(join(dir, 'manifest.json'));
      if (!manifest) return null;
      const parsed: unknown = JSON.parse(manifest.toString('utf8'));
      if (!isRecord(parsed) || typeof parsed.version !== 'string') {
        throw new CronplaneError('invalid_config', `${dir}/manifest.json names no version`);
      }
      return find(parsed.version);
    },
    find,
    async read(version) {
      return isPlain(version) ? readIfExists(bundlePath(version)) : null;
    },
    async readLauncher(version, arch) {
      return isPlain(version) && isArch(arch) ? readIfExists(launcherPath(version, arch)) : null;
    },
    async installScript() {
      return readFile(installScriptPath, 'utf8');
    },
  };
}
