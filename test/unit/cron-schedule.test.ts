/**
 * The cron engine against hand-checked fire times, organised by spec section. Calendar anchors
 * used below: 2026-01-01 is a Thursday, 2026-02-01 and 2026-03-01 are Sundays, 2026-04-01 is a
 * Wednesday. DST 2026: Europe/Berlin 03-29 01:00Z (02:00 CET -> 03:00 CEST) and 10-25 01:00Z
 * (03:00 CEST -> 02:00 CET); America/New_York 03-08 07:00Z (02:00 EST -> 03:00 EDT) and 11-01
 * 06:00Z (02:00 EDT -> 01:00 EST).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  buildSchedule,
  createScheduleCache,
  CronExpressionError,
  parseSchedule,
  type CronFieldName,
} from '../../core/cron/schedule.ts';
import { CronplaneError } from '../../core/errors.ts';

interface Case {
  readonly expr: string;
  readonly tz?: string;
  readonly from: string;
  /** Consecutive fire times after `from`; a trailing null means the schedule has ended. */
  readonly fires: readonly (string | null)[];
  readonly why?: string;
}

const ms = (iso: string): number => {
  const value = Date.parse(iso);
  assert.ok(Number.isFinite(value), `bad ISO in test table: ${iso}`);
  return value;
};
const iso = (epochMs: number | null): string | null =>
  epochMs === null ? null : new Date(epochMs).toISOString();

/** Walks next() from `from` as the agent's scheduler does: each fire is the next `after`. */
function walkNext(expr: string, tz: string, from: string, count: number): (string | null)[] {
  const schedule = parseSchedule(expr, tz);
  const fires: (string | null)[] = [];
  let afterMs = ms(from);
  while (fires.length < count) {
    const fireMs = schedule.next(afterMs);
    fires.push(iso(fireMs));
    if (fireMs === null) break;
    afterMs = fireMs;
  }
  return fires;
}

function walkPrevious(expr: string, tz: string, before: string, count: number): (string | null)[] {
  const schedule = parseSchedule(expr, tz);
  const fires: (string | null)[] = [];
  let beforeMs = ms(before);
  while (fires.length < count) {
    const fireMs = schedule.previous(beforeMs);
    fires.push(iso(fireMs));
    if (fireMs === null) break;
    beforeMs = fireMs;
  }
  return fires;
}

function table(cases: readonly Case[]): void {
  for (const c of cases) {
    const tz = c.tz ?? 'UTC';
    const title = `${c.expr} in ${tz} after ${c.from}${c.why ? ` (${c.why})` : ''}`;
    it(title, () => {
      const expected = c.fires.map((f) => (f === null ? null : new Date(f).toISOString()));
      assert.deepEqual(walkNext(c.expr, tz, c.from, c.fires.length), expected);
    });
  }
}

describe('5 fields: minute hour day month weekday', () => {
  table([
    {
      expr: '*/15 * * * *',
      from: '2026-01-01T00:00:00Z',
      fires: ['2026-01-01T00:15Z', '2026-01-01T00:30Z', '2026-01-01T00:45Z', '2026-01-01T01:00Z'],
    },
    {
      expr: '0 9 * * 1-5',
      from: '2026-01-01T00:00:00Z',
      fires: ['2026-01-01T09:00Z', '2026-01-02T09:00Z', '2026-01-05T09:00Z', '2026-01-06T09:00Z'],
      why: 'Thursday, Friday, then Monday',
    },
    {
      expr: '0 0 1 */3 *',
      from: '2026-01-01T00:00:00Z',
      fires: ['2026-04-01T00:00Z', '2026-07-01T00:00Z', '2026-10-01T00:00Z', '2027-01-01T00:00Z'],
      why: 'strictly after: the start itself is not a fire',
    },
    {
      expr: '0 0 * * *',
      from: '2025-12-31T23:59:59.999Z',
      fires: ['2026-01-01T00:00Z'],
      why: 'one millisecond before a fire',
    },
    {
      expr: '30 23 31 12 *',
      from: '2026-06-01T00:00:00Z',
      fires: ['2026-12-31T23:30Z', '2027-12-31T23:30Z'],
    },
    {
      expr: '5,10-12 3 * * *',
      from: '2026-01-01T00:00:00Z',
      fires: ['2026-01-01T03:05Z', '2026-01-01T03:10Z', '2026-01-01T03:11Z', '2026-01-01T03:12Z'],
    },
    {
      expr: '0 0 * * 0,7',
      from: '2026-01-01T00:00:00Z',
      fires: ['2026-01-04T00:00Z', '2026-01-11T00:00Z'],
      why: 'Sunday twice: duplicates are accepted, as in Vixie cron',
    },
    {
      expr: '*/30,15 * * * *',
      from: '2026-01-01T00:00:00Z',
      fires: ['2026-01-01T00:15Z', '2026-01-01T00:30Z', '2026-01-01T01:00Z'],
    },
    {
      expr: '  0   12 * * *  ',
      from: '2026-01-01T00:00:00Z',
      fires: ['2026-01-01T12:00Z'],
      why: 'extra whitespace',
    },
  ]);
});

describe('6 fields: second first', () => {
  table([
    {
      expr: '*/20 * * * * *',
      from: '2026-01-01T00:00:00Z',
      fires: ['2026-01-01T00:00:20Z', '2026-01-01T00:00:40Z', '2026-01-01T00:01:00Z'],
    },
    {
      expr: '30 0 12 * * *',
      from: '2026-01-01T00:00:00Z',
      fires: ['2026-01-01T12:00:30Z', '2026-01-02T12:00:30Z'],
    },
    {
      expr: '* * * * * *',
      from: '2026-01-01T00:00:00.500Z',
      fires: ['2026-01-01T00:00:01Z', '2026-01-01T00:00:02Z'],
      why: 'a start between seconds',
    },
    {
      expr: '5/20 * * * * *',
      from: '2026-01-01T00:00:00Z',
      fires: ['2026-01-01T00:00:05Z', '2026-01-01T00:00:25Z', '2026-01-01T00:00:45Z'],
      why: 'a/n means a-max/n',
    },
  ]);
});

describe('7 fields: second minute hour day month weekday year', () => {
  table([
    {
      expr: '0 0 12 * * * 2030',
      from: '2026-01-01T00:00:00Z',
      fires: ['2030-01-01T12:00Z', '2030-01-02T12:00Z'],
      why: 'jumps straight to the first allowed year',
    },
    {
      expr: '0 0 12 1 1 * 2030,2032',
      from: '2026-01-01T00:00:00Z',
      fires: ['2030-01-01T12:00Z', '2032-01-01T12:00Z', null],
      why: 'a list, then the end',
    },
    {
      expr: '0 0 0 1 1 * 2030-2032',
      from: '2026-01-01T00:00:00Z',
      fires: ['2030-01-01T00:00Z', '2031-01-01T00:00Z', '2032-01-01T00:00Z', null],
    },
    {
      expr: '0 0 0 1 1 * 2030-2040/5',
      from: '2026-01-01T00:00:00Z',
      fires: ['2030-01-01T00:00Z', '2035-01-01T00:00Z', '2040-01-01T00:00Z', null],
    },
    {
      expr: '0 0 0 1 1 * 2030/50',
      from: '2026-01-01T00:00:00Z',
      fires: [
        '2030-01-01T00:00Z',
        '2080-01-01T00:00Z',
        '2130-01-01T00:00Z',
        '2180-01-01T00:00Z',
        null,
      ],
      why: 'a/n runs to 2199',
    },
    {
      expr: '0 0 0 1 1 * *',
      from: '2198-06-01T00:00:00Z',
      fires: ['2199-01-01T00:00Z', '2200-01-01T00:00Z'],
      why: 'a year of * filters nothing',
    },
    {
      expr: '0 0 12 1 * * 2030',
      from: '2030-10-15T00:00:00Z',
      fires: ['2030-11-01T12:00Z', '2030-12-01T12:00Z', null],
      why: 'ends within its last year',
    },
    {
      expr: '0 0 12 * * * 2020',
      from: '2026-01-01T00:00:00Z',
      fires: [null],
      why: 'every year already past',
    },
    {
      expr: '0 0 0 1 1 * 2030',
      tz: 'Asia/Tokyo',
      from: '2026-01-01T00:00:00Z',
      fires: ['2029-12-31T15:00Z', null],
      why: 'the year is the local one: 2030-01-01 00:00 in Tokyo is 2029 in UTC',
    },
    {
      expr: '0 0 23 31 12 * 2029',
      tz: 'America/New_York',
      from: '2026-01-01T00:00:00Z',
      fires: ['2030-01-01T04:00Z', null],
      why: 'local 2029-12-31 23:00 is 2030 in UTC',
    },
    {
      expr: '0 0 0 29 2 * 2027-2029',
      from: '2026-01-01T00:00:00Z',
      fires: ['2028-02-29T00:00Z', null],
      why: 'only 2028 has a Feb 29',
    },
  ]);

  it('answers a far-away year without walking the years in between', () => {
    const schedule = buildSchedule('* * * * * * 2199', 'Europe/Berlin');
    const started = performance.now();
    assert.equal(iso(schedule.next(ms('1970-01-01T00:00:00Z'))), '2198-12-31T23:00:00.000Z');
    assert.equal(iso(schedule.previous(ms('2230-01-01T00:00:00Z'))), '2199-12-31T22:59:59.000Z');
    // Each answer is a handful of cron-parser searches; walking 229 years would take minutes.
    assert.ok(performance.now() - started < 2000, 'year jumps took too long');
  });

  it('returns null from previous() before the first allowed year', () => {
    const schedule = parseSchedule('0 0 12 1 1 * 2030,2032');
    assert.equal(schedule.previous(ms('2030-01-01T12:00:00Z')), null);
    assert.deepEqual(walkPrevious('0 0 12 1 1 * 2030,2032', 'UTC', '2040-01-01T00:00:00Z', 3), [
      '2032-01-01T12:00:00.000Z',
      '2030-01-01T12:00:00.000Z',
      null,
    ]);
  });
});

describe('macros', () => {
  const from = '2026-01-01T00:00:00Z';
  table([
    { expr: '@yearly', from, fires: ['2027-01-01T00:00Z'] },
    { expr: '@annually', from, fires: ['2027-01-01T00:00Z'] },
    { expr: '@monthly', from, fires: ['2026-02-01T00:00Z'] },
    { expr: '@weekly', from, fires: ['2026-01-04T00:00Z'], why: 'Sunday' },
    { expr: '@daily', from, fires: ['2026-01-02T00:00Z'] },
    { expr: '@midnight', from, fires: ['2026-01-02T00:00Z'], why: 'not in cron-parser' },
    { expr: '@hourly', from, fires: ['2026-01-01T01:00Z'] },
    { expr: '@DAILY', from, fires: ['2026-01-02T00:00Z'], why: 'case-insensitive' },
    { expr: '@daily', tz: 'Europe/Berlin', from, fires: ['2026-01-01T23:00Z'] },
  ]);
});

describe('month and weekday names', () => {
  table([
    {
      expr: '0 0 * JAN,MAR MON',
      from: '2026-01-27T00:00:00Z',
      fires: ['2026-03-02T00:00Z', '2026-03-09T00:00Z'],
      why: 'skips February',
    },
    { expr: '0 0 1 jun *', from: '2026-01-01T00:00:00Z', fires: ['2026-06-01T00:00Z'] },
    {
      expr: '0 0 * * FRI-SUN',
      from: '2026-01-01T00:00:00Z',
      fires: ['2026-01-02T00:00Z', '2026-01-03T00:00Z', '2026-01-04T00:00Z', '2026-01-09T00:00Z'],
    },
    {
      expr: '0 0 * * MON-SUN',
      from: '2026-01-01T00:00:00Z',
      fires: ['2026-01-02T00:00Z', '2026-01-03T00:00Z'],
      why: 'SUN ends a range as 7',
    },
    { expr: '0 0 * * 7', from: '2026-01-01T00:00:00Z', fires: ['2026-01-04T00:00Z'] },
    { expr: '0 0 * * 0', from: '2026-01-01T00:00:00Z', fires: ['2026-01-04T00:00Z'] },
  ]);
});

describe('L: last day, last weekday', () => {
  table([
    {
      expr: '0 0 L * *',
      from: '2026-01-01T00:00:00Z',
      fires: ['2026-01-31T00:00Z', '2026-02-28T00:00Z', '2026-03-31T00:00Z', '2026-04-30T00:00Z'],
    },
    {
      expr: '0 0 L 2 *',
      from: '2027-03-01T00:00:00Z',
      fires: ['2028-02-29T00:00Z', '2029-02-28T00:00Z'],
    },
    {
      expr: '0 0 * * 5L',
      from: '2026-01-01T00:00:00Z',
      fires: ['2026-01-30T00:00Z', '2026-02-27T00:00Z', '2026-03-27T00:00Z', '2026-04-24T00:00Z'],
      why: 'last Friday',
    },
    {
      expr: '0 0 * * FRIL',
      from: '2026-01-01T00:00:00Z',
      fires: ['2026-01-30T00:00Z'],
    },
  ]);
});

describe('#: nth weekday of the month', () => {
  table([
    {
      expr: '0 0 * * 1#2',
      from: '2026-01-01T00:00:00Z',
      fires: ['2026-01-12T00:00Z', '2026-02-09T00:00Z', '2026-03-09T00:00Z', '2026-04-13T00:00Z'],
    },
    {
      expr: '0 0 * * MON#1',
      from: '2026-01-01T00:00:00Z',
      fires: ['2026-01-05T00:00Z', '2026-02-02T00:00Z', '2026-03-02T00:00Z'],
    },
    {
      expr: '0 0 * 2 5#5',
      from: '2026-01-01T00:00:00Z',
      fires: ['2036-02-29T00:00Z'],
      why: 'a fifth Friday in February: 2036-02-01 is a Friday of a leap year',
    },
  ]);
});

describe('day of month and weekday: either matches when both are restricted (Vixie)', () => {
  table([
    {
      expr: '0 0 13 * 5',
      from: '2026-01-01T00:00:00Z',
      fires: ['2026-01-02T00:00Z', '2026-01-09T00:00Z', '2026-01-13T00:00Z', '2026-01-16T00:00Z'],
      why: 'Fridays and the 13th (a Tuesday)',
    },
    {
      expr: '0 0 1,15 * MON',
      from: '2026-01-01T00:00:00Z',
      fires: ['2026-01-05T00:00Z', '2026-01-12T00:00Z', '2026-01-15T00:00Z', '2026-01-19T00:00Z'],
    },
    {
      expr: '0 0 13 * *',
      from: '2026-01-01T00:00:00Z',
      fires: ['2026-01-13T00:00Z', '2026-02-13T00:00Z'],
      why: 'weekday * does not widen the day',
    },
    {
      expr: '0 0 * * 5',
      from: '2026-01-01T00:00:00Z',
      fires: ['2026-01-02T00:00Z', '2026-01-09T00:00Z'],
      why: 'day * does not widen the weekday',
    },
    {
      expr: '0 0 ? * MON',
      from: '2026-01-01T00:00:00Z',
      fires: ['2026-01-05T00:00Z', '2026-01-12T00:00Z'],
      why: '? is *',
    },
    {
      expr: '0 0 L * 5',
      from: '2026-01-28T00:00:00Z',
      fires: ['2026-01-30T00:00Z', '2026-01-31T00:00Z', '2026-02-06T00:00Z'],
      why: 'Fridays and the last day',
    },
    {
      expr: '0 0 */2 * MON',
      from: '2026-01-08T00:00:00Z',
      fires: ['2026-01-09T00:00Z', '2026-01-11T00:00Z', '2026-01-12T00:00Z', '2026-01-13T00:00Z'],
      why: 'differs from Vixie: a stepped * counts as restricted, so odd days OR Mondays',
    },
  ]);
});

describe('February 29', () => {
  table([
    {
      expr: '0 0 0 29 2 *',
      from: '2026-01-01T00:00:00Z',
      fires: ['2028-02-29T00:00Z', '2032-02-29T00:00Z'],
    },
    { expr: '0 0 29 2 *', from: '2026-01-01T00:00:00Z', fires: ['2028-02-29T00:00Z'] },
    {
      expr: '0 0 29 2 *',
      from: '2096-03-01T00:00:00Z',
      fires: ['2104-02-29T00:00Z'],
      why: '2100 is not a leap year',
    },
  ]);
});

describe('DST in Europe/Berlin', () => {
  const tz = 'Europe/Berlin';
  table([
    {
      expr: '30 2 * * *',
      tz,
      from: '2026-03-28T12:00:00Z',
      fires: ['2026-03-29T01:30Z', '2026-03-30T00:30Z'],
      why: 'skipped 02:30 fires at 03:30 CEST',
    },
    {
      expr: '30 2 * * *',
      tz,
      from: '2026-03-29T01:10:00Z',
      fires: ['2026-03-29T01:30Z'],
      why: 'also when the search starts after the jump (03:10 CEST)',
    },
    {
      expr: '0 2,3 * * *',
      tz,
      from: '2026-03-28T23:00:00Z',
      fires: ['2026-03-29T01:00Z', '2026-03-30T00:00Z', '2026-03-30T01:00Z'],
      why: 'skipped 02:00 and real 03:00 fire once together',
    },
    {
      expr: '*/30 * * * *',
      tz,
      from: '2026-03-29T00:00:00Z',
      fires: ['2026-03-29T00:30Z', '2026-03-29T01:00Z', '2026-03-29T01:30Z'],
      why: 'hour *: elapsed time, 01:30 CET then 03:00 CEST',
    },
    {
      expr: '30 2 * * *',
      tz,
      from: '2026-10-24T12:00:00Z',
      fires: ['2026-10-25T00:30Z', '2026-10-26T01:30Z'],
      why: 'repeated 02:30 fires once, in CEST',
    },
    {
      expr: '30 2 * * *',
      tz,
      from: '2026-10-25T01:10:00Z',
      fires: ['2026-10-26T01:30Z'],
      why: 'not again when the search starts inside the repeated hour (02:10 CET)',
    },
    {
      expr: '0 * * * *',
      tz,
      from: '2026-10-24T23:30:00Z',
      fires: ['2026-10-25T00:00Z', '2026-10-25T01:00Z', '2026-10-25T02:00Z'],
      why: 'hour *: 02:00 CEST and 02:00 CET both fire',
    },
    {
      expr: '0 12 * * *',
      tz,
      from: '2026-03-28T00:00:00Z',
      fires: ['2026-03-28T11:00Z', '2026-03-29T10:00Z'],
      why: 'noon moves from UTC+1 to UTC+2',
    },
  ]);

  it('fires every second of the landing hour for a per-second job in the skipped hour', () => {
    const started = performance.now();
    const fires = walkNext('* * 2 * * *', tz, '2026-03-28T23:00:00Z', 3601);
    assert.equal(fires[0], '2026-03-29T01:00:00.000Z');
    assert.equal(fires[3599], '2026-03-29T01:59:59.000Z');
    assert.equal(fires[3600], '2026-03-30T00:00:00.000Z');
    // Memoised from the transition: one step per call, not one per fire since 01:00Z.
    assert.ok(performance.now() - started < 20_000, 'the landing hour took too long');
    const fresh = buildSchedule('* * 2 * * *', tz);
    assert.equal(iso(fresh.next(ms('2026-03-29T01:30:00Z'))), '2026-03-29T01:30:01.000Z');
  });

  it('previous() mirrors next() across both transitions', () => {
    assert.deepEqual(walkPrevious('30 2 * * *', tz, '2026-03-30T12:00:00Z', 3), [
      '2026-03-30T00:30:00.000Z',
      '2026-03-29T01:30:00.000Z',
      '2026-03-28T01:30:00.000Z',
    ]);
    assert.deepEqual(walkPrevious('30 2 * * *', tz, '2026-10-26T12:00:00Z', 3), [
      '2026-10-26T01:30:00.000Z',
      '2026-10-25T00:30:00.000Z',
      '2026-10-24T00:30:00.000Z',
    ]);
  });
});

describe('DST in America/New_York', () => {
  const tz = 'America/New_York';
  table([
    {
      expr: '30 2 * * *',
      tz,
      from: '2026-03-07T12:00:00Z',
      fires: ['2026-03-08T07:30Z', '2026-03-09T06:30Z'],
      why: 'skipped 02:30 fires at 03:30 EDT',
    },
    {
      expr: '30 2 * * *',
      tz,
      from: '2026-03-08T07:10:00Z',
      fires: ['2026-03-08T07:30Z'],
      why: 'also when the search starts after the jump',
    },
    {
      expr: '30 1 * * *',
      tz,
      from: '2026-10-31T12:00:00Z',
      fires: ['2026-11-01T05:30Z', '2026-11-02T06:30Z'],
      why: 'repeated 01:30 fires once, in EDT',
    },
    {
      expr: '30 1 * * *',
      tz,
      from: '2026-11-01T06:10:00Z',
      fires: ['2026-11-02T06:30Z'],
      why: 'not again from inside the repeated hour',
    },
    {
      expr: '0 9 * * 1-5',
      tz,
      from: '2026-03-06T00:00:00Z',
      fires: ['2026-03-06T14:00Z', '2026-03-09T13:00Z'],
      why: '09:00 EST, then 09:00 EDT',
    },
  ]);

  it('previous() mirrors next() across both transitions', () => {
    assert.deepEqual(walkPrevious('30 2 * * *', tz, '2026-03-09T00:00:00Z', 2), [
      '2026-03-08T07:30:00.000Z',
      '2026-03-07T07:30:00.000Z',
    ]);
    assert.deepEqual(walkPrevious('30 1 * * *', tz, '2026-11-01T07:00:00Z', 2), [
      '2026-11-01T05:30:00.000Z',
      '2026-10-31T05:30:00.000Z',
    ]);
  });
});

describe('DST in Australia/Lord_Howe (30 minutes, beyond cron-parser)', () => {
  const tz = 'Australia/Lord_Howe';
  // 2026-04-05 02:00 LHDT (UTC+11) -> 01:30 LHST (UTC+10:30), at 2026-04-04T15:00Z. cron-parser
  // alone hits its step limit on these searches; the schedule must not end there.
  table([
    {
      expr: '0 0 12 * * *',
      tz,
      from: '2026-04-04T01:00:00Z',
      fires: ['2026-04-05T01:30Z', '2026-04-06T01:30Z'],
      why: 'noon LHST',
    },
    {
      expr: '0 3 * * *',
      tz,
      from: '2026-04-04T10:00:00Z',
      fires: ['2026-04-04T16:30Z', '2026-04-05T16:30Z'],
    },
    {
      expr: '0 1-3 * * *',
      tz,
      from: '2026-04-04T10:00:00Z',
      fires: ['2026-04-04T14:00Z', '2026-04-04T15:30Z', '2026-04-04T16:30Z'],
      why: '01:00 LHDT, 02:00 and 03:00 LHST',
    },
  ]);

  it('answers previous() across the change', () => {
    assert.deepEqual(walkPrevious('0 0 12 * * *', tz, '2026-04-06T00:00:00Z', 2), [
      '2026-04-05T01:30:00.000Z',
      '2026-04-04T01:00:00.000Z',
    ]);
  });
});

describe('time zones', () => {
  table([
    {
      expr: '0 9 * * *',
      tz: 'Asia/Kolkata',
      from: '2026-01-01T00:00:00Z',
      fires: ['2026-01-01T03:30Z'],
    },
    {
      expr: '0 0 * * *',
      tz: 'Pacific/Kiritimati',
      from: '2026-01-01T00:00:00Z',
      fires: ['2026-01-01T10:00Z'],
      why: 'UTC+14',
    },
    {
      expr: '0 0 * * *',
      tz: 'America/Sao_Paulo',
      from: '2018-11-03T12:00:00Z',
      fires: ['2018-11-04T03:00Z', '2018-11-05T02:00Z'],
      why: 'midnight was skipped on 2018-11-04: fires at 01:00',
    },
    {
      expr: '0 0 12 * * *',
      tz: 'europe/berlin',
      from: '2026-01-01T00:00:00Z',
      fires: ['2026-01-01T11:00Z'],
      why: 'zone names are case-insensitive',
    },
  ]);
});

interface Rejection {
  readonly expr: string;
  readonly field: CronFieldName;
  /** A part of the message that must appear, e.g. the quoted bad part. */
  readonly says: string;
  readonly tz?: string;
}

describe('rejections name the field at fault', () => {
  const rejections: readonly Rejection[] = [
    { expr: '', field: 'expression', says: 'expected 5, 6 or 7 fields' },
    { expr: '* * * *', field: 'expression', says: 'got 4' },
    { expr: '* * * * * * * *', field: 'expression', says: 'got 8' },
    { expr: '@reboot', field: 'expression', says: 'unknown macro' },
    { expr: '@daily 2030', field: 'expression', says: 'unknown macro' },
    {
      expr: '0 12 * * * 2030',
      field: 'year',
      says:
        '"0 12 * * * 2030": the 6th field looks like a year; 6-field expressions are ' +
        '"second minute hour day month weekday" — for a year use 7 fields: "0 0 12 * * * 2030"',
    },
    { expr: '0 12 * * * 2030-2035', field: 'year', says: '"0 0 12 * * * 2030-2035"' },
    { expr: '60 * * * * *', field: 'second', says: 'second "60": 60 is out of range 0-59' },
    { expr: '61 * * * *', field: 'minute', says: 'minute "61"' },
    { expr: '5-61 * * * *', field: 'minute', says: 'minute "5-61": 61 is out of range 0-59' },
    { expr: '0 24 * * *', field: 'hour', says: 'hour "24"' },
    { expr: '0 0 0 * *', field: 'day of month', says: 'day of month "0"' },
    { expr: '0 0 32 * *', field: 'day of month', says: 'day of month "32"' },
    { expr: '0 0 1,,2 * *', field: 'day of month', says: '"1,,2": a list item is empty' },
    { expr: '0 0 15W * *', field: 'day of month', says: 'W (nearest weekday) is not supported' },
    { expr: '0 0 L-2 * *', field: 'day of month', says: 'day of month "L-2"' },
    { expr: '0 0 31 2 *', field: 'day of month', says: 'never occurs in month "2"' },
    { expr: '0 0 30 FEB *', field: 'day of month', says: 'never occurs in month "FEB"' },
    { expr: '0 0 * 13 *', field: 'month', says: 'month "13"' },
    { expr: '0 0 * FOO *', field: 'month', says: '"FOO" is not a month name (JAN-DEC)' },
    { expr: '0 0 * MON *', field: 'month', says: '"MON" is not a month name' },
    { expr: '0 0 * * 8', field: 'weekday', says: 'weekday "8": 8 is out of range 0-7' },
    { expr: '0 0 * * JAN', field: 'weekday', says: '"JAN" is not a weekday name (SUN-SAT)' },
    { expr: '0 0 * * 5-1', field: 'weekday', says: 'the range starts after it ends' },
    { expr: '0 0 * * 5#6', field: 'weekday', says: 'the occurrence after "#" must be 1-5' },
    { expr: '0 0 * * 1,5#2', field: 'weekday', says: '"#" cannot be combined with a list' },
    { expr: '0 0 * * L', field: 'weekday', says: '"L" needs a weekday before it' },
    { expr: '0 0 * * constructor', field: 'weekday', says: '"constructor" is not a weekday' },
    { expr: '*/0 * * * *', field: 'minute', says: 'the step after "/" must be' },
    { expr: '1/2/3 * * * *', field: 'minute', says: 'at most one "/"' },
    { expr: '1-2-3 * * * *', field: 'minute', says: 'a range has one "-"' },
    { expr: 'H * * * *', field: 'minute', says: 'H (hashed values) is not supported' },
    { expr: '0 H(0-5) * * *', field: 'hour', says: 'H (hashed values)' },
    { expr: '0 0 ? * * *', field: 'hour', says: '"?" is only allowed in the day of month' },
    { expr: '0 JAN * * *', field: 'hour', says: 'hour takes numbers, not names' },
    { expr: '0 0 1 * * $(rm)', field: 'weekday', says: 'unexpected character "$"' },
    {
      expr: '0 0 0 * * * 1969',
      field: 'year',
      says: 'year "1969": 1969 is out of range 1970-2199',
    },
    { expr: '0 0 0 * * * 2200', field: 'year', says: '2200 is out of range' },
    { expr: '0 0 0 * * * 2035-2030', field: 'year', says: 'the range starts after it ends' },
    { expr: '0 0 0 * * * 2030,', field: 'year', says: 'a list item is empty' },
    { expr: '0 0 0 * * * MMXXX', field: 'year', says: 'unexpected character "M"' },
    { expr: '0 0 0 29 2 * 2100', field: 'year', says: 'never fires in the years it allows' },
    { expr: '0 0 0 29 2 * 2097-2199/4', field: 'year', says: 'never fires' },
    { expr: '0 0 * * *', tz: 'Mars/Olympus', field: 'timezone', says: 'unknown time zone' },
    { expr: '0 0 * * *', tz: '', field: 'timezone', says: 'unknown time zone' },
    { expr: '0 0 * * *', tz: '+01:00', field: 'timezone', says: 'unknown time zone' },
  ];
  for (const r of rejections) {
    it(`rejects ${JSON.stringify(r.expr)}${r.tz === undefined ? '' : ` in ${JSON.stringify(r.tz)}`} naming the ${r.field}`, () => {
      assert.throws(
        () => parseSchedule(r.expr, r.tz ?? 'UTC'),
        (error: unknown) => {
          assert.ok(
            error instanceof CronExpressionError,
            `not a CronExpressionError: ${String(error)}`,
          );
          assert.equal(error.cronField, r.field, error.message);
          assert.ok(error.message.includes(r.says), `message ${JSON.stringify(error.message)}`);
          if (r.field !== 'timezone' && r.field !== 'expression') {
            assert.ok(error.message.includes(r.field), 'the message names the field');
          }
          assert.ok(error instanceof CronplaneError);
          assert.equal(error.code, 'invalid_cron');
          assert.deepEqual(error.details, [{ field: 'cronExpr', message: error.message }]);
          return true;
        },
      );
    });
  }
});

describe('schedule cache', () => {
  it('returns the same schedule for the same expression and zone, and a new one otherwise', () => {
    const cache = createScheduleCache(8);
    const a = cache.get('0 0 * * *', 'UTC');
    assert.equal(cache.get('0 0 * * *', 'UTC'), a);
    assert.notEqual(cache.get('0 0 * * *', 'Europe/Berlin'), a);
    assert.equal(cache.size, 2);
  });

  it('evicts the least recently used entry beyond its bound', () => {
    let builds = 0;
    const cache = createScheduleCache(2, (expr, timeZone) => {
      builds++;
      return buildSchedule(expr, timeZone);
    });
    cache.get('1 * * * *', 'UTC');
    cache.get('2 * * * *', 'UTC');
    cache.get('1 * * * *', 'UTC'); // now the most recent
    cache.get('3 * * * *', 'UTC'); // evicts "2"
    assert.equal(cache.size, 2);
    assert.equal(builds, 3);
    cache.get('1 * * * *', 'UTC');
    assert.equal(builds, 3, '"1" was kept');
    cache.get('2 * * * *', 'UTC');
    assert.equal(builds, 4, '"2" was evicted');
  });

  it('does not keep failures', () => {
    const cache = createScheduleCache(4);
    assert.throws(() => cache.get('61 * * * *', 'UTC'), CronExpressionError);
    assert.equal(cache.size, 0);
  });

  it('shares one schedule safely: answers do not depend on earlier calls', () => {
    const shared = parseSchedule('30 2 * * *', 'Europe/Berlin');
    const fresh = () => buildSchedule('30 2 * * *', 'Europe/Berlin');
    const points = ['2026-10-25T01:10:00Z', '2026-03-29T01:10:00Z', '2026-01-01T00:00:00Z'];
    for (const point of points) {
      assert.equal(shared.next(ms(point)), fresh().next(ms(point)), point);
      assert.equal(shared.previous(ms(point)), fresh().previous(ms(point)), point);
    }
  });

  it('rejects a bound that is not a positive integer', () => {
    assert.throws(() => createScheduleCache(0), RangeError);
  });
});

describe('next() and previous() agree with each other (property)', () => {
  const transitions = [
    ['Europe/Berlin', '2026-03-29T01:00:00Z'],
    ['Europe/Berlin', '2026-10-25T01:00:00Z'],
    ['America/New_York', '2026-03-08T07:00:00Z'],
    ['America/New_York', '2026-11-01T06:00:00Z'],
  ] as const;
  const exprs = [
    '30 2 * * *',
    '0 1-3 * * *',
    '*/20 1,2 * * *',
    '*/10 * * * *',
    '15 */2 * * *',
    '0 0 12 * * * 2026',
  ];
  const dayMs = 24 * 3600_000;

  it('next(t) > t, is monotone in t, and previous(next(t)) <= t < next(previous(t)) ... near DST', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...transitions),
        fc.constantFrom(...exprs),
        fc.integer({ min: -dayMs, max: dayMs }),
        fc.integer({ min: 0, max: 3 * 3600_000 }),
        ([tz, transition], expr, offsetMs, gapMs) => {
          const schedule = parseSchedule(expr, tz);
          const t = ms(transition) + offsetMs;
          const next = schedule.next(t);
          assert.ok(next !== null && next > t, 'next(t) > t');
          assert.ok((schedule.next(t + gapMs) ?? Infinity) >= next, 'monotone');
          assert.equal(schedule.next(next - 1), next, 'no fire between t and next(t)');
          const previous = schedule.previous(next);
          assert.ok(previous === null || previous <= t, 'previous(next(t)) <= t');
          if (previous !== null) assert.equal(schedule.next(previous), next, 'adjacent fires');
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('syntax accepted by our checks is accepted by cron-parser (property)', () => {
  const value = (max: number) => fc.integer({ min: 0, max }).map(String);
  const item = (max: number) =>
    fc.oneof(
      fc.constant('*'),
      value(max),
      fc.tuple(value(max), value(max)).map(([a, b]) => `${a}-${b}`),
      fc
        .tuple(fc.constantFrom('*', '0', '1', `${max}`), fc.integer({ min: 0, max: 70 }))
        .map(([a, n]) => `${a}/${n}`),
      fc.constantFrom('L', '5L', 'MON', 'jan', 'FRI#2', '?', 'H', 'W', '#', '-', ''),
    );
  const field = (max: number) =>
    // An empty field would change the field count, which is another error.
    fc.array(item(max), { minLength: 1, maxLength: 3 }).map((items) => items.join(',') || ',');

  it('never lets a cron-parser message through as the reason', () => {
    fc.assert(
      fc.property(field(61), field(61), field(25), field(33), field(13), field(8), (...fields) => {
        const expr = fields.join(' ');
        try {
          buildSchedule(expr, 'UTC');
        } catch (error) {
          assert.ok(error instanceof CronExpressionError, String(error));
          // 'expression' here would mean cron-parser rejected what our checks let through.
          assert.notEqual(error.cronField, 'expression', error.message);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('input checks', () => {
  it('rejects a non-finite instant', () => {
    const schedule = parseSchedule('* * * * *');
    assert.throws(() => schedule.next(Number.NaN), RangeError);
    assert.throws(() => schedule.previous(Number.POSITIVE_INFINITY), RangeError);
  });

  it('keeps the trimmed expression and the zone', () => {
    const schedule = parseSchedule('  @daily ', 'Europe/Berlin');
    assert.equal(schedule.expr, '@daily');
    assert.equal(schedule.timeZone, 'Europe/Berlin');
  });
});
