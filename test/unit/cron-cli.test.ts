/** `cronplane cron next`, run as a user runs it: the real bin, a child process, its output. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

function cronplane(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['bin/cronplane.js', 'cron', ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const lines = (...instants: string[]) => instants.map((i) => `${i}\n`).join('');

describe('cronplane cron next prints fire times', () => {
  const table: ReadonlyArray<{ args: string[]; stdout: string; why: string }> = [
    {
      args: ['next', '0 12 * * *', '--from', '2026-01-01T00:00:00Z', '--count', '3'],
      stdout: lines(
        '2026-01-01T12:00:00.000Z',
        '2026-01-02T12:00:00.000Z',
        '2026-01-03T12:00:00.000Z',
      ),
      why: 'a 5-field expression',
    },
    {
      args: ['next', '*/20 * * * * *', '--from', '2026-01-01T00:00:00Z'],
      stdout: lines(
        '2026-01-01T00:00:20.000Z',
        '2026-01-01T00:00:40.000Z',
        '2026-01-01T00:01:00.000Z',
        '2026-01-01T00:01:20.000Z',
        '2026-01-01T00:01:40.000Z',
      ),
      why: 'five by default, 6 fields',
    },
    {
      args: [
        'next',
        '30 2 * * *',
        '--tz',
        'Europe/Berlin',
        '--from',
        '2026-03-28T12:00:00Z',
        '--count',
        '2',
      ],
      stdout: lines('2026-03-29T01:30:00.000Z', '2026-03-30T00:30:00.000Z'),
      why: 'the skipped 02:30 fires at 03:30 CEST',
    },
    {
      args: [
        'next',
        '@midnight',
        '--tz',
        'America/New_York',
        '--from',
        '2026-01-01T00:00:00Z',
        '--count',
        '1',
      ],
      stdout: lines('2026-01-01T05:00:00.000Z'),
      why: 'a macro in a zone',
    },
    {
      args: ['next', '@daily', '--from', '2026-03-29T03:00:00+02:00', '--count', '1'],
      stdout: lines('2026-03-30T00:00:00.000Z'),
      why: '--from with an offset',
    },
    {
      args: ['--count=2', 'next', '0 0 * * MON#1', '--from=2026-01-01T00:00Z'],
      stdout: lines('2026-01-05T00:00:00.000Z', '2026-02-02T00:00:00.000Z'),
      why: 'options before the sub-command, with =',
    },
  ];
  for (const { args, stdout, why } of table) {
    it(`${why}: ${args.join(' ')}`, () => {
      const result = cronplane(...args);
      assert.equal(result.stderr, '');
      assert.equal(result.stdout, stdout);
      assert.equal(result.status, 0);
    });
  }

  it('prints fewer lines, and says so, when the schedule ends', () => {
    const result = cronplane('next', '0 0 12 1 1 * 2030,2032', '--from', '2026-01-01T00:00:00Z');
    assert.equal(result.stdout, lines('2030-01-01T12:00:00.000Z', '2032-01-01T12:00:00.000Z'));
    assert.match(result.stderr, /the schedule ends after 2 fire time/);
    assert.equal(result.status, 0);
  });

  it('prints up to 1000 lines', () => {
    const result = cronplane(
      'next',
      '* * * * * *',
      '--from',
      '2026-01-01T00:00:00Z',
      '--count',
      '1000',
    );
    const printed = result.stdout.trimEnd().split('\n');
    assert.equal(printed.length, 1000);
    assert.equal(printed.at(-1), '2026-01-01T00:16:40.000Z');
    assert.equal(result.status, 0);
  });

  it('prints usage on --help', () => {
    const result = cronplane('--help');
    assert.match(result.stdout, /^usage: cronplane cron next "<expr>"/);
    assert.equal(result.status, 0);
  });
});

describe('cronplane cron next rejects bad input with exit code 2', () => {
  const table: ReadonlyArray<{ args: string[]; stderr: RegExp; why: string }> = [
    {
      args: ['next', '61 * * * *'],
      stderr: /minute "61": 61 is out of range 0-59/,
      why: 'a bad field',
    },
    {
      args: ['next', '0 12 * * * 2030'],
      stderr: /for a year use 7 fields: "0 0 12 \* \* \* 2030"/,
      why: 'a year in 6 fields',
    },
    { args: ['next', '* * * *'], stderr: /expected 5, 6 or 7 fields/, why: 'too few fields' },
    {
      args: ['next', '@daily', '--tz', 'Mars/Olympus'],
      stderr: /unknown time zone "Mars\/Olympus"/,
      why: 'a bad zone',
    },
    {
      args: ['next', '@daily', '--from', '2026-02-30T00:00:00Z'],
      stderr: /--from "2026-02-30T00:00:00Z" is not a valid ISO 8601 instant/,
      why: 'a date that does not exist',
    },
    {
      args: ['next', '@daily', '--from', '2026-01-01T00:00:00'],
      stderr: /is not a valid ISO 8601 instant with an offset/,
      why: 'a local time without offset',
    },
    {
      args: ['next', '@daily', '--from', 'yesterday'],
      stderr: /--from "yesterday"/,
      why: 'not a date',
    },
    {
      args: ['next', '@daily', '--count', '0'],
      stderr: /--count "0" must be a whole number from 1 to 1000/,
      why: 'count 0',
    },
    {
      args: ['next', '@daily', '--count', '1001'],
      stderr: /from 1 to 1000/,
      why: 'count over the maximum',
    },
    {
      args: ['next', '@daily', '--count', '2.5'],
      stderr: /--count "2.5"/,
      why: 'a fractional count',
    },
    { args: ['next', '@daily', '--count', '-3'], stderr: /--count/, why: 'a negative count' },
    {
      args: ['next', '@daily', '--bogus'],
      stderr: /Unknown option '--bogus'/,
      why: 'an unknown flag',
    },
    { args: ['next', '@daily', '--tz'], stderr: /--tz/, why: 'a flag without its value' },
    { args: ['next', '0', '12', '*', '*', '*'], stderr: /quote it/, why: 'an unquoted expression' },
    { args: ['next'], stderr: /missing the cron expression/, why: 'no expression' },
    {
      args: ['previous', '@daily'],
      stderr: /unknown sub-command "previous"/,
      why: 'an unknown sub-command',
    },
    { args: [], stderr: /missing the sub-command "next"/, why: 'nothing at all' },
  ];
  for (const { args, stderr, why } of table) {
    it(`${why}: ${JSON.stringify(args)}`, () => {
      const result = cronplane(...args);
      assert.equal(result.status, 2, result.stderr);
      assert.equal(result.stdout, '');
      assert.match(result.stderr, stderr);
    });
  }
});
