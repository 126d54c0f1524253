/**
 * The agent artifacts port on Node: a folder as scripts/build-agent.mjs writes it
 * (`manifest.json`, `cronplane-agent-<version>.cjs` and its `.sha256`), plus install.sh from the
 * source tree. Read on every request, so a rebuild is offered without a restart.
 */
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { CronplaneError } from '../../core/errors.ts';
import { isRecord } from '../../core/wire.ts';
import type { AgentArtifact, AgentArtifacts } from '../ports.ts';

async function readIfExists(path: string): Promise<Buffer<ArrayBuffer> | null> {
  try {
    return await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

export function createArtifactDir(dir: string, installScriptPath: string): AgentArtifacts {
  const bundlePath = (version: string): string => join(dir, `cronplane-agent-${version}.cjs`);
  // The route validates versions; this keeps any caller inside the folder all the same.
  const isPlain = (version: string): boolean =>
    version !== '' && basename(version) === version && !version.startsWith('.');

  async function find(version: string): Promise<AgentArtifact | null> {
    if (!isPlain(version)) return null;
    const text = (await readIfExists(`${bundlePath(version)}.sha256`))?.toString('utf8');
    if (text === undefined) return null;
    const sha256Hex = /^([0-9a-f]{64})\s/.exec(text)?.[1];
    if (sha256Hex === undefined) {
      throw new CronplaneError('invalid_config', `${bundlePath(version)}.sha256 holds no digest`);
    }
    return { version, sha256Hex };
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
    async installScript() {
      return readFile(installScriptPath, 'utf8');
    },
  };
}
