/** Top self-time frames of V8 .cpuprofile files (node --cpu-prof), merged across processes. */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

export interface Frame {
  readonly frame: string;
  /** Share of the busy (non-idle) samples, in %. */
  readonly selfPercent: number;
}

export interface ProfileSummary {
  readonly files: number;
  readonly busySeconds: number;
  readonly top: Frame[];
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { functionName: string; url: string; lineNumber: number };
  readonly hitCount?: number;
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples?: readonly number[];
}

const ROOT = join(import.meta.dirname, '../..');

function frameName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const name = functionName === '' ? '(anonymous)' : functionName;
  if (url === '') return name;
  const path = url.startsWith('file://') ? relative(ROOT, new URL(url).pathname) : url;
  return `${name} ${path}:${lineNumber + 1}`;
}

export function summarizeProfiles(dir: string, top = 12): ProfileSummary {
  const self = new Map<string, number>();
  let busy = 0;
  let busyUs = 0;
  let files = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    files++;
    const samples = profile.samples?.length ?? 0;
    const usPerSample = samples > 0 ? (profile.endTime - profile.startTime) / samples : 0;
    for (const node of profile.nodes) {
      const hits = node.hitCount ?? 0;
      if (hits === 0 || node.callFrame.functionName === '(idle)') continue;
      busy += hits;
      busyUs += hits * usPerSample;
      const name = frameName(node);
      self.set(name, (self.get(name) ?? 0) + hits);
    }
  }
  return {
    files,
    busySeconds: Math.round(busyUs / 1e4) / 100,
    top: [...self.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([frame, hits]) => ({ frame, selfPercent: Math.round((hits / busy) * 1000) / 10 })),
  };
}
