import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { defaultAgentId, loadAgentConfig } from '../../agent/config.ts';
import { CronplaneError } from '../../core/errors.ts';

describe('agent configuration', () => {
  it('layers file, then environment, then flags', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cronplane-config-'));
    const file = join(dir, 'agent.json');
    writeFileSync(
      file,
      JSON.stringify({
        agentId: 'from-file',
        shell: '/bin/sh',
        labels: { zone: 'a' },
        maxConcurrentRuns: 3,
      }),
    );
    const config = loadAgentConfig(['--config', file, '--agent-id', 'from-flag'], {
      CRONPLANE_AGENT_ID: 'from-env',
      CRONPLANE_SHELL: '/bin/dash',
      CRONPLANE_LABELS: 'zone=b,gpu=yes',
    });
    assert.equal(config.agentId, 'from-flag');
    assert.equal(config.shell, '/bin/dash');
    assert.deepEqual(config.labels, { zone: 'b', gpu: 'yes' });
    assert.equal(config.maxConcurrentRuns, 3);
    assert.equal(config.maxOutputBytes, 256 * 1024, 'defaults fill the rest');
    assert.equal(config.prefix, '/cron/');
    assert.equal(config.database, 'cron');
  });

  it('names every invalid field at once', () => {
    assert.throws(
      () =>
        loadAgentConfig(
          [
            '--session-ttl-seconds',
            '1',
            '--prefix',
            'cron',
            '--etcd-endpoints',
            'localhost:2379',
            '--max-output-bytes',
            'lots',
          ],
          {},
        ),
      (error: unknown) => {
        assert.ok(error instanceof CronplaneError);
        assert.equal(error.code, 'invalid_config');
        const fields = error.details.map((d) => d.field).sort();
        assert.deepEqual(fields, [
          'etcdEndpoints',
          'maxOutputBytes',
          'prefix',
          'sessionTtlSeconds',
        ]);
        return true;
      },
    );
  });

  it("refuses an output cap whose run record could outgrow MongoDB's 16 MB document limit", () => {
    const load = (bytes: number) =>
      loadAgentConfig(
        ['--etcd-endpoints', 'http://localhost:2379', '--max-output-bytes', String(bytes)],
        {},
      );
    assert.equal(load(4 * 1024 * 1024).maxOutputBytes, 4 * 1024 * 1024);
    assert.throws(
      () => load(16 * 1024 * 1024),
      (error: unknown) =>
        error instanceof CronplaneError && error.details.some((d) => d.field === 'maxOutputBytes'),
    );
  });

  it('rejects unknown settings in the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cronplane-config-'));
    const file = join(dir, 'agent.json');
    writeFileSync(file, JSON.stringify({ agentID: 'typo' }));
    assert.throws(
      () => loadAgentConfig(['--config', file], {}),
      /agentID \(config file\) is not a known setting/,
    );
  });

  it('derives a key-safe, stable agent id from the host name', () => {
    assert.equal(defaultAgentId('web-01.example.com'), 'web-01.example.com');
    assert.equal(defaultAgentId('host with spaces/and:colons'), 'host-with-spaces-and-colons');
  });

  it('exits non-zero with the field named when started with a bad configuration', () => {
    const result = spawnSync(
      process.execPath,
      ['bin/cronplane.js', 'agent', '--mongo-url', 'http://nope'],
      { encoding: 'utf8' },
    );
    assert.equal(result.status, 2);
    assert.match(result.stderr, /mongoUrl must be a mongodb:\/\//);
  });
});
