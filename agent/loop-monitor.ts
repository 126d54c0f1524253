/**
 * Watches the agent's event-loop delay: the loop claims ticks and keeps the session alive, so a
 * stall there is lateness everywhere. Each interval's p50/p99/max goes to a metric and an event.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { MetricsRegistry } from '../core/metrics.ts';

export interface LoopMonitor {
  stop(): void;
}

export function startLoopMonitor(
  registry: MetricsRegistry,
  emit: (event: string, detail: Record<string, unknown>) => void,
  intervalMs = 5_000,
): LoopMonitor {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  let p99Ms = 0;
  registry.gaugeFn(
    'cronplane_event_loop_delay_p99_seconds',
    `The agent's event-loop delay, p99 over the last ${intervalMs / 1000} s.`,
    () => p99Ms / 1000,
  );
  const timer = setInterval(() => {
    // The histogram is in nanoseconds and counts the sampling resolution as delay: subtract it.
    const ms = (ns: number): number => Math.max(0, Math.round((ns / 1e6 - 10) * 100) / 100);
    p99Ms = ms(histogram.percentile(99));
    emit('agent:loopDelay', {
      p50Ms: ms(histogram.percentile(50)),
      p99Ms,
      maxMs: ms(histogram.max),
    });
    histogram.reset();
  }, intervalMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      histogram.disable();
    },
  };
}
