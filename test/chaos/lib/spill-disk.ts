/**
 * A small disk for an agent's spill dir: a tmpfs mounted over it (root only), and ways to see
 * how full it is and what the journal on it holds.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readRunRecord } from '../../../core/run-log.ts';

/** Mounts a tmpfs of `sizeKb` at `dir`; false when this process may not mount. */
export function mountTmpfs(dir: string, sizeKb: number): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  const result = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKb}k`, 'tmpfs', dir], {
    encoding: 'utf8',
  });
  return result.status === 0;
}

/** Lazily, so a process still holding a file there does not keep it mounted. */
export function unmount(dir: string): void {
  spawnSync('umount', ['-l', dir]);
}

/** Kilobytes available on the file system holding `dir`. */
export function availableKb(dir: string): number {
  const df = spawnSync('df', ['-k', '--output=avail', dir], { encoding: 'utf8' });
  return Number(df.stdout.trim().split('\n').pop()?.trim() ?? NaN);
}

/** `df` of one directory: used and available KiB. */
export function diskUsage(dir: string): string {
  const df = spawnSync('df', ['-k', '--output=used,avail', dir], { encoding: 'utf8' });
  const [used, avail] = df.stdout.trim().split('\n').pop()?.trim().split(/\s+/) ?? [];
  return `${used} KiB used, ${avail} KiB available`;
}

/** How many lines of a spill journal are whole records, and whether the last one is cut. */
export function inspectJournal(file: string): string {
  if (!existsSync(file)) return 'absent';
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n').filter((line) => line !== '');
  const whole = lines.filter((line) => readRunRecord(line) !== null).length;
  return (
    `${text.length} bytes, ${lines.length} lines, ${whole} whole records` +
    (text.endsWith('\n') || text === '' ? '' : ', last line cut short')
  );
}
