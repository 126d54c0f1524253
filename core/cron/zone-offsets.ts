/** UTC-offset look-ups in an IANA zone, to find the instants where a zone's clocks change. */
import { CronDate } from 'cron-parser';

/** Zones whose offset never changes, so the look-ups can be skipped. */
const FIXED_OFFSET_ZONE = /^(?:UTC|GMT|Etc\/.+)$/i;

export function hasFixedOffset(timeZone: string): boolean {
  return FIXED_OFFSET_ZONE.test(timeZone);
}

export function offsetMinutes(epochMs: number, timeZone: string): number {
  return new CronDate(epochMs, timeZone).getUTCOffset();
}

/**
 * The first change of UTC offset in (fromMs, toMs], as the last millisecond before it, or null
 * when there is none. The span is probed every `scanStepMs`, so two changes closer together
 * than that may cancel out; real zones keep them months apart.
 */
export function lastInstantBeforeOffsetChange(
  fromMs: number,
  toMs: number,
  timeZone: string,
  scanStepMs: number = toMs - fromMs,
): number | null {
  const offsetBefore = offsetMinutes(fromMs, timeZone);
  let beforeChangeMs = fromMs;
  let afterChangeMs: number | null = null;
  while (afterChangeMs === null) {
    if (beforeChangeMs >= toMs) return null;
    const probeMs = Math.min(beforeChangeMs + scanStepMs, toMs);
    if (offsetMinutes(probeMs, timeZone) === offsetBefore) beforeChangeMs = probeMs;
    else afterChangeMs = probeMs;
  }
  while (afterChangeMs - beforeChangeMs > 1000) {
    const middleMs = Math.floor((beforeChangeMs + afterChangeMs) / 2);
    if (offsetMinutes(middleMs, timeZone) === offsetBefore) beforeChangeMs = middleMs;
    else afterChangeMs = middleMs;
  }
  // Clocks change on a whole second, so the answer does not depend on where the search began
  // (callers memoise by it); the check covers a zone that would not.
  const lastMs = Math.floor(afterChangeMs / 1000) * 1000 - 1;
  return lastMs > beforeChangeMs && offsetMinutes(lastMs, timeZone) === offsetBefore
    ? lastMs
    : beforeChangeMs;
}
