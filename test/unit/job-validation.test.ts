import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../../core/errors.ts';
import {
  JOB_DEFAULTS,
  MAX_COMMAND_BYTES,
  MAX_TIMEOUT_SEC,
  labelsMatch,
  parseJob,
  readStoredJob,
  validateJob,
  type JobValidation,
} from '../../core/job.ts';

const minimal = { name: 'backup', command: 'echo hello', cronExpr: '0 3 * * *' };

/** The fields that carry an error, in order. */
function errorFields(result: JobValidation): string[] {
  assert.equal(result.ok, false, 'expected the job to be rejected');
  return result.ok ? [] : result.errors.map((e) => e.field);
}

function errorFor(result: JobValidation, field: string): string {
  assert.ok(!result.ok, 'expected the job to be rejected');
  const error = result.errors.find((e) => e.field === field);
  assert.ok(error, `no error for ${field}: ${JSON.stringify(result.errors)}`);
  return error.message;
}

describe('defaults', () => {
  it('applies every default to a job with only name, command and cronExpr', () => {
    const result = validateJob(minimal);
    assert.ok(result.ok);
    assert.deepEqual(result.job, { ...minimal, ...JOB_DEFAULTS, labels: {} });
    assert.equal(result.job.timezone, 'UTC');
    assert.equal(result.job.enabled, true);
    assert.equal(result.job.timeoutSec, 0);
    assert.equal(result.job.concurrency, 'forbid');
    assert.equal(result.job.description, '');
    assert.equal(result.job.updatedAt, 0);
  });

  it('keeps given values and trims the expression', () => {
    const result = validateJob({
      ...minimal,
      cronExpr: '  30 2 * * *  ',
      timezone: 'Europe/Berlin',
      enabled: false,
      timeoutSec: MAX_TIMEOUT_SEC,
      concurrency: 'allow',
      labels: { env: 'prod', 'k8s.io/zone': 'eu-1' },
      description: 'nightly',
      updatedAt: 1767225600000,
    });
    assert.ok(result.ok);
    assert.equal(result.job.cronExpr, '30 2 * * *');
    assert.equal(result.job.timezone, 'Europe/Berlin');
    assert.equal(result.job.enabled, false);
    assert.equal(result.job.timeoutSec, MAX_TIMEOUT_SEC);
    assert.equal(result.job.concurrency, 'allow');
    assert.deepEqual(result.job.labels, { env: 'prod', 'k8s.io/zone': 'eu-1' });
  });

  it('treats null as absent', () => {
    const result = validateJob({ ...minimal, timezone: null, labels: null, enabled: null });
    assert.ok(result.ok);
    assert.equal(result.job.timezone, 'UTC');
  });

  it('copies labels, so later changes to the input do not reach the job', () => {
    const labels = { env: 'prod' };
    const result = validateJob({ ...minimal, labels });
    assert.ok(result.ok);
    labels.env = 'dev';
    assert.deepEqual(result.job.labels, { env: 'prod' });
  });
});

describe('every field error at once', () => {
  it('reports each invalid field, not only the first', () => {
    const result = validateJob({
      name: '../etc',
      command: '   ',
      cronExpr: '61 * * * *',
      timezone: 'Mars/Olympus',
      enabled: 'yes',
      timeoutSec: -1,
      concurrency: 'sometimes',
      labels: { 'bad key!': 'v' },
      description: 'x'.repeat(1025),
      updatedAt: 1.5,
      timeout: 30,
    });
    assert.deepEqual(errorFields(result).sort(), [
      'command',
      'concurrency',
      'cronExpr',
      'description',
      'enabled',
      'labels.bad key!',
      'name',
      'timeout',
      'timeoutSec',
      'timezone',
      'updatedAt',
    ]);
    assert.equal(errorFor(result, 'timeout'), 'unknown field');
    assert.match(errorFor(result, 'cronExpr'), /minute "61"/);
  });

  it('rejects what is not a JSON object', () => {
    for (const input of [null, undefined, [], 'job', 42, true]) {
      assert.deepEqual(errorFields(validateJob(input)), [''], JSON.stringify(input));
    }
  });

  it('throws a ValidationError carrying every error from parseJob', () => {
    assert.throws(
      () => parseJob({ name: '', command: '', cronExpr: '' }),
      (error: unknown) => {
        assert.ok(error instanceof ValidationError);
        assert.equal(error.code, 'invalid_input');
        assert.deepEqual(
          error.details.map((d) => d.field),
          ['name', 'command', 'cronExpr'],
        );
        return true;
      },
    );
    assert.equal(parseJob(minimal).name, 'backup');
  });
});

describe('Go crontab compatibility', () => {
  // The shape the Go crontab writes: three fields, a 7-field expression (second first, year last).
  const goJob = '{"name":"job1","command":"echo hello","cronExpr":"*/5 * * * * * *"}';

  it('reads a job written by the Go crontab without error', () => {
    const result = readStoredJob(goJob);
    assert.ok(result.ok, JSON.stringify(result));
    assert.equal(result.job.name, 'job1');
    assert.equal(result.job.cronExpr, '*/5 * * * * * *');
    assert.equal(result.job.timezone, 'UTC');
    assert.equal(result.job.concurrency, 'forbid');
  });

  it('accepts the same job through the API', () => {
    assert.ok(validateJob(JSON.parse(goJob)).ok);
  });

  it('tolerates fields it does not know when reading from etcd, but not through the API', () => {
    const stored = JSON.stringify({ ...minimal, addedByNewerVersion: { x: 1 } });
    assert.ok(readStoredJob(stored).ok);
    assert.deepEqual(errorFields(validateJob(JSON.parse(stored))), ['addedByNewerVersion']);
  });

  it('rejects stored values that are not JSON objects', () => {
    assert.deepEqual(errorFields(readStoredJob('{not json')), ['']);
    assert.equal(errorFor(readStoredJob('{not json'), ''), 'stored job is not valid JSON');
    assert.deepEqual(errorFields(readStoredJob('[1]')), ['']);
    assert.deepEqual(errorFields(readStoredJob('null')), ['']);
  });
});

describe('names', () => {
  const hostile: ReadonlyArray<[label: string, name: unknown]> = [
    ['a path escape', '../x'],
    ['a slash', 'a/b'],
    ['empty', ''],
    ['65 characters', 'x'.repeat(65)],
    ['non-ASCII', 'jöb'],
    ['an emoji', 'job🙂'],
    ['"."', '.'],
    ['".."', '..'],
    ['a space', 'a b'],
    ['a NUL', 'a\u0000b'],
    ['a newline', 'a\nb'],
    ['a number', 42],
    ['null', null],
  ];
  for (const [label, name] of hostile) {
    it(`rejects a name with ${label}`, () => {
      assert.deepEqual(errorFields(validateJob({ ...minimal, name })), ['name']);
    });
  }

  it('accepts 64 characters of the allowed set', () => {
    assert.ok(validateJob({ ...minimal, name: 'a'.repeat(64) }).ok);
    assert.ok(validateJob({ ...minimal, name: 'Nightly_backup-2.v1' }).ok);
    assert.ok(validateJob({ ...minimal, name: '...' }).ok, '"..." is not a path segment');
  });
});

describe('command', () => {
  it('accepts exactly 64 KiB and rejects one byte more', () => {
    assert.ok(validateJob({ ...minimal, command: 'x'.repeat(MAX_COMMAND_BYTES) }).ok);
    const result = validateJob({ ...minimal, command: 'x'.repeat(MAX_COMMAND_BYTES + 1) });
    assert.equal(errorFor(result, 'command'), `must be at most ${MAX_COMMAND_BYTES} bytes`);
  });

  it('counts UTF-8 bytes, not characters', () => {
    assert.ok(validateJob({ ...minimal, command: 'é'.repeat(MAX_COMMAND_BYTES / 2) }).ok);
    assert.deepEqual(
      errorFields(validateJob({ ...minimal, command: 'é'.repeat(MAX_COMMAND_BYTES / 2 + 1) })),
      ['command'],
    );
    assert.ok(validateJob({ ...minimal, command: '🙂'.repeat(MAX_COMMAND_BYTES / 4) }).ok);
    assert.deepEqual(
      errorFields(validateJob({ ...minimal, command: '🙂'.repeat(MAX_COMMAND_BYTES / 4 + 1) })),
      ['command'],
    );
  });

  it('counts a lone surrogate as the 3 bytes it is stored as, not half of a pair', () => {
    // 16,384 x (lone high surrogate + CJK character) is 98,304 bytes once encoded.
    const command = '\uD800\u4E00'.repeat(MAX_COMMAND_BYTES / 4);
    assert.equal(Buffer.byteLength(command, 'utf8'), 98_304);
    assert.deepEqual(errorFields(validateJob({ ...minimal, command })), ['command']);
  });

  it('rejects blank commands, NUL characters and non-strings', () => {
    assert.deepEqual(errorFields(validateJob({ ...minimal, command: ' \t\n' })), ['command']);
    assert.deepEqual(errorFields(validateJob({ ...minimal, command: 'echo\u0000x' })), ['command']);
    assert.deepEqual(errorFields(validateJob({ ...minimal, command: ['echo'] })), ['command']);
  });
});

describe('cronExpr and timezone', () => {
  it('reports the cron field at fault', () => {
    const message = errorFor(validateJob({ ...minimal, cronExpr: '0 0 31 2 *' }), 'cronExpr');
    assert.match(message, /day of month "31": never occurs in month "2"/);
  });

  it('suggests the 7-field form for a year in 6 fields', () => {
    const message = errorFor(validateJob({ ...minimal, cronExpr: '0 12 * * * 2030' }), 'cronExpr');
    assert.match(message, /for a year use 7 fields: "0 0 12 \* \* \* 2030"/);
  });

  it('rejects expressions over 256 characters before parsing them', () => {
    const cronExpr = `0 0 * * * ${'1,'.repeat(130)}1`;
    assert.equal(
      errorFor(validateJob({ ...minimal, cronExpr }), 'cronExpr'),
      'must be at most 256 characters',
    );
  });

  it('rejects a bad zone once, without also failing the expression', () => {
    const result = validateJob({ ...minimal, timezone: 'Mars/Olympus' });
    assert.deepEqual(errorFields(result), ['timezone']);
    assert.deepEqual(errorFields(validateJob({ ...minimal, timezone: 42 })), ['timezone']);
    assert.deepEqual(errorFields(validateJob({ ...minimal, timezone: '' })), ['timezone']);
  });

  it('accepts macros, names and 7 fields', () => {
    for (const cronExpr of ['@midnight', '0 0 * JAN MON-FRI', '0 0 0 1 1 * 2030-2035']) {
      assert.ok(validateJob({ ...minimal, cronExpr }).ok, cronExpr);
    }
    assert.deepEqual(errorFields(validateJob({ ...minimal, cronExpr: 5 })), ['cronExpr']);
  });
});

describe('other fields', () => {
  it('bounds timeoutSec to whole seconds from 0 to a week', () => {
    for (const timeoutSec of [0, 1, MAX_TIMEOUT_SEC]) {
      assert.ok(validateJob({ ...minimal, timeoutSec }).ok, String(timeoutSec));
    }
    for (const timeoutSec of [-1, 1.5, MAX_TIMEOUT_SEC + 1, '10', Number.NaN]) {
      assert.deepEqual(errorFields(validateJob({ ...minimal, timeoutSec })), ['timeoutSec']);
    }
  });

  it('checks label keys, values and count', () => {
    const tooMany = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v']));
    assert.deepEqual(errorFields(validateJob({ ...minimal, labels: tooMany })), ['labels']);
    assert.deepEqual(errorFields(validateJob({ ...minimal, labels: { env: 'a b' } })), [
      'labels.env',
    ]);
    assert.deepEqual(errorFields(validateJob({ ...minimal, labels: { env: 1 } })), ['labels.env']);
    assert.deepEqual(errorFields(validateJob({ ...minimal, labels: ['env'] })), ['labels']);
  });

  it('keeps a "__proto__" label as a plain key without touching the prototype', () => {
    const result = readStoredJob(
      `{"name":"a","command":"b","cronExpr":"@daily","labels":{"__proto__":"x"}}`,
    );
    assert.ok(result.ok);
    assert.equal(Object.getPrototypeOf(result.job.labels), Object.prototype);
    assert.ok(Object.hasOwn(result.job.labels, '__proto__'));
    assert.equal(labelsMatch(result.job.labels, {}), false);
  });
});

describe('labelsMatch', () => {
  it('requires every job label on the agent, with the same value', () => {
    assert.equal(labelsMatch({}, { any: 'thing' }), true);
    assert.equal(labelsMatch({ env: 'prod' }, { env: 'prod', zone: 'a' }), true);
    assert.equal(labelsMatch({ env: 'prod' }, { env: 'dev' }), false);
    assert.equal(labelsMatch({ env: 'prod', zone: 'a' }, { env: 'prod' }), false);
  });
});
