import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createScheduler } from '../../agent/scheduler.ts';
import type { Job } from '../../core/job.ts';
import { job } from '../contract/records.ts';

const TICK = Date.UTC(2026, 11, 7, 5, 0, 0);

describe('scheduler', () => {
  it(
    'hands a tick over leadMs before its time, then plans the next one',
    { timeout: 5_000 },
    async () => {
      const everySecond = job('every-second', { cronExpr: '* * * * * *' });
      let handedOver: (tickMs: number) => void = () => undefined;
      const fired = new Promise<number>((resolve) => (handedOver = resolve));
      const scheduler = createScheduler({
        // 100 ms before the tick: only a scheduler that looks ahead hands it over now.
        now: () => TICK - 100,
        leadMs: 100,
        fire: (_job: Job, tickMs: number) => handedOver(tickMs),
      });
      scheduler.set(everySecond.name, everySecond);
      assert.equal(await fired, TICK);
      assert.equal(scheduler.nextTick(everySecond.name), TICK + 1_000);
      scheduler.stop();
    },
  );
});
