/** The OpenAPI 3.1 description of the API, served at `/openapi.json`; kept next to the routes. */
import {
  DEFAULT_CRON_PREVIEW_COUNT,
  DEFAULT_RUNS_PAGE_SIZE,
  MAX_CRON_PREVIEW_COUNT,
  MAX_RUNS_PAGE_SIZE,
  MAX_REQUEST_BODY_BYTES,
  RUN_OUTPUT_PREVIEW_CHARS,
} from '../core/api.ts';
import { HEARTBEAT_INTERVAL_MS, STALE_AFTER_MS } from '../core/health.ts';
import { RUN_STATUSES } from '../core/run-log.ts';
import { HEALTH_SUBPROTOCOL } from './subprotocols.ts';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object) => ({ 'application/json': { schema } });
const errorResponse = (description: string) => ({ description, content: json(ref('Error')) });

const epochMs = { type: 'integer', minimum: 0, description: 'epoch milliseconds' };
const name = { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' };
const runId = { type: 'string', pattern: '^[A-Za-z0-9._-]{1,128}$' };
const sha256 = { type: 'string', pattern: '^[0-9a-f]{64}$' };
const labels = { type: 'object', additionalProperties: { type: 'string' }, maxProperties: 16 };

const nameParam = { name: 'name', in: 'path', required: true, schema: name };
const common = {
  '401': errorResponse('missing or unknown bearer token'),
  '403': errorResponse('the token’s role may not do this'),
};
const read = 'Roles: admin, viewer.';
const write = 'Roles: admin.';

const jobFields = {
  name,
  command: { type: 'string', minLength: 1, description: 'run with /bin/sh -c' },
  cronExpr: {
    type: 'string',
    description: '5, 6 (seconds first) or 7 (… year) fields, or a macro such as @hourly',
  },
  timezone: { type: 'string', default: 'UTC', description: 'IANA time zone' },
  enabled: { type: 'boolean', default: true },
  timeoutSec: { type: 'integer', minimum: 0, default: 0, description: '0: no timeout' },
  concurrency: { enum: ['forbid', 'allow'], default: 'forbid' },
  labels: { ...labels, description: 'agents must carry every one of these labels' },
  description: { type: 'string', maxLength: 1024, default: '' },
  updatedAt: { ...epochMs, description: 'set by the server on every PUT' },
};

const runFields = {
  runId,
  jobName: name,
  command: { type: 'string' },
  err: { type: 'string' },
  outputTruncated: { type: 'boolean', description: 'the agent kept only the head of the output' },
  planTime: { ...epochMs, description: 'the tick this run serves' },
  scheduleTime: epochMs,
  startTime: epochMs,
  endTime: epochMs,
  agentId: { type: 'string' },
  host: { type: 'string' },
  status: { enum: RUN_STATUSES },
  exitCode: { type: ['integer', 'null'] },
  signal: { type: ['string', 'null'] },
};

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'cronplane',
    version: '1',
    description:
      'A distributed crontab. Every route but /healthz needs `Authorization: Bearer <token>`. ' +
      'Roles: admin (everything), viewer (every GET), agent (agent endpoints only). ' +
      `Request bodies over ${MAX_REQUEST_BODY_BYTES} bytes get 413.`,
  },
  security: [{ bearer: [] }],
  paths: {
    '/healthz': {
      get: {
        summary: 'Reachability of etcd and MongoDB (or of the relay)',
        security: [],
        responses: {
          '200': { description: 'all reachable', content: json(ref('HealthReport')) },
          '503': { description: 'something is unreachable', content: json(ref('HealthReport')) },
        },
      },
    },
    '/openapi.json': {
      get: {
        summary: 'This document',
        description: read,
        responses: { '200': { description: 'OpenAPI 3.1', content: json({}) }, ...common },
      },
    },
    '/v1/jobs': {
      get: {
        summary: 'Every job with its last run',
        description: read,
        responses: {
          '200': {
            description: 'jobs by name',
            content: json({
              type: 'object',
              properties: { jobs: { type: 'array', items: ref('JobView') } },
            }),
          },
          ...common,
        },
      },
    },
    '/v1/jobs/{name}': {
      parameters: [nameParam],
      get: {
        summary: 'One job with its revision (also the ETag) and last run',
        description: read,
        responses: {
          '200': { description: 'the job', content: json(ref('JobView')) },
          '400': errorResponse('invalid name'),
          '404': errorResponse('no such job'),
          ...common,
        },
      },
      put: {
        summary: 'Create or replace a job',
        description: `${write} The body's name, if given, must equal the URL's.`,
        parameters: [
          {
            name: 'If-Match',
            in: 'header',
            required: false,
            description: 'write only if the job is still at this revision (its ETag)',
            schema: { type: 'string' },
          },
        ],
        requestBody: { required: true, content: json(ref('JobInput')) },
        responses: {
          '200': { description: 'replaced', content: json(ref('VersionedJob')) },
          '201': { description: 'created', content: json(ref('VersionedJob')) },
          '400': errorResponse('invalid job; `details` lists every field error'),
          '412': errorResponse('the job changed since the revision in If-Match'),
          '413': errorResponse('body too large'),
          ...common,
        },
      },
      delete: {
        summary: 'Delete a job and its tick record (runs in flight are not killed)',
        description: write,
        responses: {
          '204': { description: 'deleted' },
          '404': errorResponse('no such job'),
          ...common,
        },
      },
    },
    '/v1/jobs/{name}/kill': {
      parameters: [nameParam],
      post: {
        summary: 'Ask the agents to kill the job’s runs (all, or one by runId)',
        description: `${write} The kill request lives for about 10 seconds.`,
        requestBody: {
          required: false,
          content: json({ type: 'object', properties: { runId }, additionalProperties: false }),
        },
        responses: {
          '202': {
            description: 'kill requested',
            content: json({
              type: 'object',
              properties: { job: name, request: ref('KillRequest') },
            }),
          },
          '404': errorResponse('no such job'),
          ...common,
        },
      },
    },
    '/v1/jobs/{name}/run': {
      parameters: [nameParam],
      post: {
        summary: 'Start one extra run now, exactly once, on an eligible agent',
        description: `${write} Answers once an agent has claimed the run; the run record says trigger "manual" and who asked.`,
        responses: {
          '202': {
            description: 'an agent claimed the run',
            content: json({
              type: 'object',
              properties: { job: name, runId, requestedBy: { type: 'string' } },
            }),
          },
          '404': errorResponse('no such job'),
          '409': errorResponse(
            'a forbid job has a run in flight, or a run-now request is already waiting',
          ),
          '503': errorResponse('no agent claimed the run in time; nothing was run'),
          ...common,
        },
      },
    },
    '/v1/jobs/{name}/runs': {
      parameters: [nameParam],
      get: {
        summary: 'Runs of a job, newest first, one page at a time',
        description: `${read} Each run's output is cut to ${RUN_OUTPUT_PREVIEW_CHARS} characters.`,
        parameters: [
          {
            name: 'limit',
            in: 'query',
            schema: {
              type: 'integer',
              minimum: 1,
              maximum: MAX_RUNS_PAGE_SIZE,
              default: DEFAULT_RUNS_PAGE_SIZE,
            },
          },
          {
            name: 'before',
            in: 'query',
            description: 'nextCursor of the previous page',
            schema: { type: 'string' },
          },
        ],
        responses: {
          '200': { description: 'a page', content: json(ref('RunPage')) },
          '400': errorResponse('invalid name, limit or cursor'),
          ...common,
        },
      },
    },
    '/v1/runs/{runId}': {
      parameters: [{ name: 'runId', in: 'path', required: true, schema: runId }],
      get: {
        summary: 'One run with its full output',
        description: read,
        responses: {
          '200': {
            description: 'the run',
            content: json({ type: 'object', properties: { run: ref('RunRecord') } }),
          },
          '404': errorResponse('no such run'),
          ...common,
        },
      },
    },
    '/v1/workers': {
      get: {
        summary: 'Agents: the etcd registry merged with live health',
        description: `${read} Agents known only to the health hub are listed with registered: false.`,
        responses: {
          '200': {
            description: 'agents, by agentId',
            content: json({
              type: 'object',
              properties: { workers: { type: 'array', items: ref('WorkerView') } },
            }),
          },
          ...common,
        },
      },
    },
    '/v1/agents/bootstrap': {
      get: {
        summary:
          'What a new agent needs: etcd endpoints, MongoDB URL, prefix, control-plane URL, and where to download the agent bundle and its launcher',
        description:
          'Roles: agent only (it carries database credentials). Cache-Control: no-store. Served when the control plane is configured for the installer. The downloads are public; install.sh refuses any whose SHA-256 differs from the one given here.',
        responses: {
          '200': { description: 'the connection settings', content: json(ref('AgentBootstrap')) },
          '404': errorResponse('the installer is not configured'),
          ...common,
        },
      },
    },
    '/v1/agents/connect': {
      get: {
        summary: "An agent's health session (WebSocket)",
        description:
          'Roles: agent. A WebSocket upgrade; the agent sends hello, then a heartbeat every ' +
          `${HEARTBEAT_INTERVAL_MS} ms, then bye (core/health.ts). An invalid frame closes the ` +
          'session with 1008.',
        responses: {
          '101': { description: 'switching to the WebSocket' },
          '400': errorResponse('not a WebSocket upgrade'),
          ...common,
        },
      },
    },
    '/v1/health/stream': {
      get: {
        summary: 'Live agent health (WebSocket)',
        description:
          `${read} A WebSocket upgrade; the token may also come as the subprotocol ` +
          `"bearer.<token>" next to "${HEALTH_SUBPROTOCOL}" (browsers cannot set headers). ` +
          'The server sends {type:"snapshot", agents: AgentHealthView[]}, then ' +
          '{type:"agent", agent: AgentHealthView} for each change.',
        responses: {
          '101': { description: 'switching to the WebSocket' },
          '400': errorResponse('not a WebSocket upgrade'),
          ...common,
        },
      },
    },
    '/v1/running': {
      get: {
        summary: 'Runs in flight now',
        description: read,
        responses: {
          '200': {
            description: 'runs in flight',
            content: json({
              type: 'object',
              properties: { running: { type: 'array', items: ref('RunningEntry') } },
            }),
          },
          ...common,
        },
      },
    },
    '/v1/whoami': {
      get: {
        summary: 'The name and role of the calling token',
        description: `${read}`,
        responses: {
          '200': {
            description: 'the caller',
            content: json({
              type: 'object',
              properties: {
                name: { type: 'string' },
                role: { type: 'string', enum: ['admin', 'viewer', 'agent'] },
              },
            }),
          },
          ...common,
        },
      },
    },
    '/v1/cron/next': {
      get: {
        summary: 'Next fire times of a cron expression',
        description: read,
        parameters: [
          { name: 'expr', in: 'query', required: true, schema: { type: 'string' } },
          { name: 'tz', in: 'query', schema: { type: 'string', default: 'UTC' } },
          {
            name: 'count',
            in: 'query',
            schema: {
              type: 'integer',
              minimum: 1,
              maximum: MAX_CRON_PREVIEW_COUNT,
              default: DEFAULT_CRON_PREVIEW_COUNT,
            },
          },
        ],
        responses: {
          '200': {
            description: 'fire times; fewer than count when the schedule ends',
            content: json({
              type: 'object',
              properties: {
                expr: { type: 'string' },
                timezone: { type: 'string' },
                next: { type: 'array', items: { type: 'string', format: 'date-time' } },
              },
            }),
          },
          '400': errorResponse('invalid expression or time zone, with the reason'),
          ...common,
        },
      },
    },
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    schemas: {
      Error: {
        type: 'object',
        required: ['error', 'code', 'details'],
        properties: {
          error: { type: 'string' },
          code: { type: 'string' },
          details: {
            type: 'array',
            items: {
              type: 'object',
              properties: { field: { type: 'string' }, message: { type: 'string' } },
            },
          },
        },
      },
      Job: { type: 'object', required: Object.keys(jobFields), properties: jobFields },
      JobInput: {
        type: 'object',
        required: ['command', 'cronExpr'],
        additionalProperties: false,
        properties: jobFields,
      },
      VersionedJob: {
        type: 'object',
        properties: { job: ref('Job'), revision: { type: 'string', description: 'etcd revision' } },
      },
      JobView: {
        type: 'object',
        properties: {
          job: ref('Job'),
          revision: { type: 'string' },
          lastRun: { oneOf: [ref('LastRunSummary'), { type: 'null' }] },
        },
      },
      LastRunSummary: {
        type: 'object',
        properties: {
          jobName: name,
          runId,
          status: runFields.status,
          planTime: epochMs,
          startTime: epochMs,
          endTime: epochMs,
          exitCode: runFields.exitCode,
          agentId: { type: 'string' },
        },
      },
      RunRecord: {
        type: 'object',
        properties: { ...runFields, output: { type: 'string' } },
      },
      RunListItem: {
        type: 'object',
        properties: {
          ...runFields,
          output: { type: 'string', description: 'the head of the output' },
          outputClipped: { type: 'boolean', description: 'output here is shorter than stored' },
        },
      },
      RunPage: {
        type: 'object',
        properties: {
          runs: { type: 'array', items: ref('RunListItem') },
          nextCursor: { type: ['string', 'null'] },
        },
      },
      WorkerRegistration: {
        type: 'object',
        properties: {
          agentId: name,
          host: { type: 'string' },
          ip: { type: 'string' },
          pid: { type: 'integer' },
          version: { type: 'string' },
          labels,
          startedAt: epochMs,
        },
      },
      AgentHealthView: {
        type: 'object',
        properties: {
          agentId: name,
          host: { type: 'string' },
          version: { type: 'string' },
          labels,
          startedAt: epochMs,
          status: {
            enum: ['online', 'stale', 'offline'],
            description: `stale: silent for over ${STALE_AFTER_MS} ms; offline: session closed`,
          },
          connectedAt: epochMs,
          lastSeenAt: epochMs,
          heartbeat: { type: ['object', 'null'], description: 'the latest heartbeat' },
        },
      },
      WorkerView: {
        type: 'object',
        properties: {
          agentId: name,
          host: { type: 'string' },
          version: { type: 'string' },
          labels,
          startedAt: epochMs,
          ip: { type: ['string', 'null'], description: 'null when not registered' },
          pid: { type: ['integer', 'null'], description: 'null when not registered' },
          registered: { type: 'boolean', description: 'holds a registration in etcd' },
          health: { oneOf: [ref('AgentHealthView'), { type: 'null' }] },
        },
      },
      RunningEntry: {
        type: 'object',
        properties: {
          runId,
          jobName: name,
          agentId: { type: 'string' },
          host: { type: 'string' },
          pid: { type: 'integer' },
          planTime: epochMs,
          startTime: epochMs,
          command: { type: 'string' },
        },
      },
      KillRequest: {
        type: 'object',
        properties: { requestedAt: epochMs, runId, requestedBy: { type: 'string' } },
      },
      AgentBootstrap: {
        type: 'object',
        required: [
          'etcdEndpoints',
          'mongoUrl',
          'database',
          'prefix',
          'controlPlaneUrl',
          'agent',
          'launchers',
        ],
        properties: {
          etcdEndpoints: { type: 'array', items: { type: 'string' } },
          mongoUrl: { type: 'string' },
          database: { type: 'string' },
          prefix: { type: 'string' },
          controlPlaneUrl: { type: 'string' },
          agent: {
            type: 'object',
            required: ['version', 'url', 'sha256'],
            properties: { version: { type: 'string' }, url: { type: 'string' }, sha256 },
            description: 'the agent bundle offered to new installs',
          },
          launchers: {
            type: 'object',
            properties: { amd64: ref('Download'), arm64: ref('Download') },
            description:
              'cronplane-launcher of the same version, by Linux architecture; one not built is left out (the agent then starts runs with Node)',
          },
        },
      },
      Download: {
        type: 'object',
        required: ['url', 'sha256'],
        properties: { url: { type: 'string' }, sha256 },
      },
      HealthReport: {
        type: 'object',
        properties: {
          ok: { type: 'boolean' },
          checks: {
            type: 'object',
            additionalProperties: {
              type: 'object',
              properties: { ok: { type: 'boolean' }, error: { type: 'string' } },
            },
          },
        },
      },
    },
  },
} as const;
