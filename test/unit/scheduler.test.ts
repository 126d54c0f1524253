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

  it(
    'hands a job whose ticks were missed (a suspend, a clock jump) over once, for the latest',
    { timeout: 5_000 },
    async () => {
      const everySecond = job('every-second', { cronExpr: '* * * * * *' });
      let nowMs = TICK - 1_000;
      const handed: number[] = [];
      let onHanded: () => void = () => undefined;
      const firstHanded = new Promise<void>((resolve) => (onHanded = resolve));
      const events: string[] = [];
      const scheduler = createScheduler({
        now: () => nowMs,
        fire: (_job: Job, tickMs: number) => {
          handed.push(tickMs);
          onHanded();
        },
        onEvent: (event) => events.push(event),
      });
      scheduler.set(everySecond.name, everySecond); // planned for TICK, a second away
      nowMs = TICK + 10_500; // the machine slept through eleven ticks
      await firstHanded;
      scheduler.stop();
      assert.deepEqual(handed, [TICK + 10_000]);
      assert.deepEqual(events, ['scheduler:caughtUp']);
    },
  );
});
