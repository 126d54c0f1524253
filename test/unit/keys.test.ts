import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CronplaneError } from '../../core/errors.ts';
import {
  DEFAULT_PREFIX,
  createKeyLayout,
  decodeTick,
  encodeTick,
  isValidPrefix,
} from '../../core/keys.ts';

const nameChars = 'abcXYZ019._-'.split('');
const validName = fc
  .array(fc.constantFrom(...nameChars), { minLength: 1, maxLength: 64 })
  .map((chars) => chars.join(''))
  .filter((name) => name !== '.' && name !== '..');

describe('layout', () => {
  it('puts every key under the default prefix /cron/', () => {
    const keys = createKeyLayout();
    assert.equal(DEFAULT_PREFIX, '/cron/');
    assert.equal(keys.job('backup'), '/cron/jobs/backup');
    assert.equal(keys.killer('backup'), '/cron/killer/backup');
    assert.equal(keys.lock('backup'), '/cron/lock/backup');
    assert.equal(keys.tick('backup'), '/cron/ticks/backup');
    assert.equal(keys.worker('agent-1'), '/cron/workers/agent-1');
    assert.equal(keys.running('backup', 'run.1'), '/cron/running/backup/run.1');
    assert.equal(keys.runningOfJob('backup'), '/cron/running/backup/');
    assert.equal(keys.maintenance('retention'), '/cron/maintenance/retention');
    assert.equal(keys.jobsPrefix, '/cron/jobs/');
    assert.equal(keys.killerPrefix, '/cron/killer/');
    assert.equal(keys.lockPrefix, '/cron/lock/');
    assert.equal(keys.ticksPrefix, '/cron/ticks/');
    assert.equal(keys.workersPrefix, '/cron/workers/');
    assert.equal(keys.runningPrefix, '/cron/running/');
  });

  it('uses a configured prefix', () => {
    const keys = createKeyLayout('/team-a/cron/');
    assert.equal(keys.job('x'), '/team-a/cron/jobs/x');
    assert.equal(keys.prefix, '/team-a/cron/');
  });

  it('refuses prefixes that are not /-delimited paths of name segments', () => {
    for (const prefix of ['', 'cron/', '/cron', '/cron//', '/../', '/cron/./', '/a b/', '/cr*n/']) {
      assert.equal(isValidPrefix(prefix), false, prefix);
      assert.throws(
        () => createKeyLayout(prefix),
        (error: unknown) => error instanceof CronplaneError && error.code === 'invalid_config',
        prefix,
      );
    }
    assert.equal(isValidPrefix('/'), true);
  });
});

describe('parse', () => {
  const keys = createKeyLayout();

  it('round-trips every kind of key', () => {
    fc.assert(
      fc.property(validName, validName, (name, other) => {
        assert.deepEqual(keys.parse(keys.job(name)), { kind: 'jobs', name });
        assert.deepEqual(keys.parse(keys.killer(name)), { kind: 'killer', name });
        assert.deepEqual(keys.parse(keys.lock(name)), { kind: 'lock', name });
        assert.deepEqual(keys.parse(keys.tick(name)), { kind: 'ticks', name });
        assert.deepEqual(keys.parse(keys.worker(name)), { kind: 'workers', agentId: name });
        assert.deepEqual(keys.parse(keys.running(name, other)), {
          kind: 'running',
          name,
          runId: other,
        });
      }),
    );
    assert.deepEqual(keys.parse(keys.maintenance('retention')), {
      kind: 'maintenance',
      task: 'retention',
    });
  });

  it('returns null for keys that are not of this layout', () => {
    for (const key of [
      '/other/jobs/a',
      '/cron/jobs/',
      '/cron/jobs/a/b',
      '/cron/jobs/..',
      '/cron/jobs/a b',
      '/cron/unknown/a',
      '/cron/jobs',
      '/cron/running/a',
      '/cron/running/a/',
      '/cron/running/a/b/c',
      '/cron/maintenance/',
      '/cron/maintenance/a/b',
      '/cron/',
    ]) {
      assert.equal(keys.parse(key), null, key);
    }
  });

  it('does not read keys of another prefix that starts the same way', () => {
    assert.equal(createKeyLayout('/cron/a/').parse('/cron/jobs/a'), null);
  });
});

describe('names that must not reach a key', () => {
  const keys = createKeyLayout();
  const hostile = ['../x', 'a/b', '', '.', '..', 'x'.repeat(65), 'jöb', 'a b', 'a\u0000b'];

  for (const name of hostile) {
    it(`throws for ${JSON.stringify(name)}`, () => {
      const isInvalidInput = (error: unknown) =>
        error instanceof CronplaneError && error.code === 'invalid_input';
      assert.throws(() => keys.job(name), isInvalidInput);
      assert.throws(() => keys.killer(name), isInvalidInput);
      assert.throws(() => keys.lock(name), isInvalidInput);
      assert.throws(() => keys.tick(name), isInvalidInput);
      assert.throws(() => keys.worker(name), isInvalidInput);
      assert.throws(() => keys.runningOfJob(name), isInvalidInput);
      assert.throws(() => keys.running(name, 'r1'), isInvalidInput);
      // Run ids may be up to 128 characters; every other hostile name is a hostile run id too.
      const runId = name.length === 65 ? 'x'.repeat(129) : name;
      assert.throws(() => keys.running('job', runId), isInvalidInput);
    });
  }
});

describe('ticks', () => {
  it('orders encoded ticks as strings exactly as the numbers', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        (a, b) => {
          const [ea, eb] = [encodeTick(a), encodeTick(b)];
          assert.equal(ea < eb, a < b);
          assert.equal(ea === eb, a === b);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('orders across a change in the number of digits', () => {
    assert.ok(encodeTick(999) < encodeTick(1000));
    assert.ok(encodeTick(9_999_999_999_999) < encodeTick(10_000_000_000_000));
  });

  it('encodes to 16 digits and decodes back', () => {
    assert.equal(encodeTick(Date.UTC(2026, 0, 1)), '0001767225600000');
    assert.equal(encodeTick(0), '0000000000000000');
    for (const bad of [1.9, -5, Number.NaN])
      assert.throws(() => encodeTick(bad), /non-negative epoch ms/);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (tick) => {
        assert.equal(encodeTick(tick).length, 16);
        assert.equal(decodeTick(encodeTick(tick)), tick);
      }),
    );
  });

  it('decodes only digit strings', () => {
    for (const value of ['', 'abc', '-1', '1.5', '1e5', ' 1', '1'.repeat(17)]) {
      assert.equal(decodeTick(value), null, value);
    }
    assert.equal(decodeTick('42'), 42);
  });
});
