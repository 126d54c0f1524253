import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startControlPlane, type RunningControlPlane } from '../../control-plane/entry/node.ts';
import { fetchTrusting, readTlsFiles } from '../../control-plane/entry/tls.ts';
import { startRelay, type RunningRelay } from '../../relay/server.ts';
import { startStack, uniqueDatabase, uniquePrefix, type Stack } from '../stack/index.ts';
import { startAgentProcess } from '../agent/agent-process.ts';

const SECRET = 'https-test-relay-secret-0123456789';
const ADMIN = 'https-test-admin-token-0123456789';
const AGENT = 'https-test-agent-token-0123456789';

/** A self-signed certificate for 127.0.0.1: its own CA, as in a small private deployment. */
function selfSignedCertificate(): { certFile: string; keyFile: string } {
  const dir = mkdtempSync(join(tmpdir(), 'cronplane-tls-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  return { certFile, keyFile };
}

describe('HTTPS on Node', () => {
  let stack: Stack;
  let relay: RunningRelay;
  let controlPlane: RunningControlPlane;
  const certificate = selfSignedCertificate();
  const prefix = uniquePrefix();
  const database = uniqueDatabase();

  before(async () => {
    stack = await startStack();
    const tls = readTlsFiles(certificate);
    relay = await startRelay({
      etcdEndpoints: stack.etcd.endpoints,
      mongoUrl: stack.mongo.url,
      database,
      prefix,
      secret: SECRET,
      port: 0,
      host: '127.0.0.1',
      tls,
    });
    controlPlane = await startControlPlane({
      port: 0,
      host: '127.0.0.1',
      data: { kind: 'relay', url: relay.url, secret: SECRET, caFile: certificate.certFile },
      tokens: [
        { name: 'admin', role: 'admin', token: ADMIN },
        { name: 'agent', role: 'agent', token: AGENT },
      ],
      tls,
    });
  });
  after(async () => {
    await controlPlane.stop();
    await relay.stop();
    await stack.stop();
  });

  it('serves the control plane and the relay over HTTPS, and a client trusting the CA gets through both', async () => {
    assert.match(relay.url, /^https:\/\//);
    assert.match(controlPlane.url, /^https:\/\//);
    const trusting = fetchTrusting(certificate.certFile);
    const response = await trusting(`${controlPlane.url}/v1/jobs`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    assert.equal(response.status, 200, 'the control plane reached the relay over verified TLS');
    assert.deepEqual(await response.json(), { jobs: [] });
  });

  it('is refused by clients that do not trust the certificate', async () => {
    await assert.rejects(
      fetch(`${controlPlane.url}/healthz`),
      'an unverified certificate is not accepted',
    );
    const blind = await startControlPlane({
      port: 0,
      host: '127.0.0.1',
      data: { kind: 'relay', url: relay.url, secret: SECRET },
      tokens: [{ name: 'admin', role: 'admin', token: ADMIN }],
    });
    try {
      const response = await fetch(`${blind.url}/v1/jobs`, {
        headers: { authorization: `Bearer ${ADMIN}` },
      });
      assert.equal(response.status, 503, 'a relay client without the CA cannot reach the relay');
    } finally {
      await blind.stop();
    }
  });

  it('lets an agent open its health session over wss:// with a custom CA, and only with it', async () => {
    const common = {
      etcdEndpoints: stack.etcd.endpoints,
      mongoUrl: stack.mongo.url,
      database,
      prefix,
    };
    const trusting = startAgentProcess({
      ...common,
      agentId: 'tls-trusting',
      extraArgs: [
        '--control-plane-url',
        controlPlane.url,
        '--agent-token',
        AGENT,
        '--control-plane-ca-file',
        certificate.certFile,
      ],
    });
    const blind = startAgentProcess({
      ...common,
      agentId: 'tls-blind',
      extraArgs: ['--control-plane-url', controlPlane.url, '--agent-token', AGENT],
    });
    try {
      await trusting.waitForEvent('health:connected');
      const refused = await blind.waitForEvent('health:error');
      assert.match(String(refused.error), /certificate/i);
      assert.ok(!blind.events.some((e) => e.event === 'health:connected'));
    } finally {
      await Promise.all([trusting.stop(), blind.stop()]);
    }
  });
});
