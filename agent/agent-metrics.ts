/**
 * The agent's Prometheus metrics. Job names appear as a label only on `cronplane_runs_total`,
 * where the number of jobs bounds them; everything else is fleet-wide.
 */
import {
  LATENCY_BUCKETS_SECONDS,
  createMetricsRegistry,
  type Counter,
  type Histogram,
  type MetricsRegistry,
} from '../core/metrics.ts';

export interface AgentMetrics {
  readonly registry: MetricsRegistry;
  readonly runs: Counter;
  readonly fireLateness: Histogram;
  readonly claims: Counter;
  readonly skippedTicks: Counter;
  readonly kills: Counter;
  readonly etcdCall: Histogram;
  readonly mongoCall: Histogram;
  readonly webhooks: Counter;
}

export function createAgentMetrics(): AgentMetrics {
  const registry = createMetricsRegistry();
  return {
    registry,
    runs: registry.counter('cronplane_runs_total', 'Runs ended on this agent, by job and status.'),
    fireLateness: registry.histogram(
      'cronplane_fire_lateness_seconds',
      'Process start minus the tick it serves.',
      LATENCY_BUCKETS_SECONDS,
    ),
    claims: registry.counter(
      'cronplane_claims_total',
      'Tick claims attempted, by outcome (won, taken, locked, gone, fenced, failed).',
    ),
    skippedTicks: registry.counter(
      'cronplane_skipped_ticks_total',
      'Ticks found skipped when the next tick was claimed.',
    ),
    kills: registry.counter('cronplane_kills_total', 'Runs killed on request.'),
    etcdCall: registry.histogram(
      'cronplane_etcd_call_duration_seconds',
      'etcd transactions by operation.',
      LATENCY_BUCKETS_SECONDS,
    ),
    mongoCall: registry.histogram(
      'cronplane_mongo_call_duration_seconds',
      'MongoDB writes by operation.',
      LATENCY_BUCKETS_SECONDS,
    ),
    webhooks: registry.counter(
      'cronplane_webhook_deliveries_total',
      'Webhook deliveries by outcome.',
    ),
  };
}
