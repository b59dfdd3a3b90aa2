import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The daemon's Prometheus metrics, on a registry of its own (tests create several). Node's default
 * metrics keep their standard names (`process_*`, `nodejs_*`), which dashboards expect; the
 * project's own carry the `afilnet_sync_` prefix and their unit (`_seconds`, `_per_second`,
 * `_total` for counters).
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    calls: new Counter({
      name: 'afilnet_sync_api_calls_total',
      help: 'Afilnet API calls by method and outcome',
      labelNames: ['method', 'outcome'] as const,
      registers: [registry],
    }),
    callSeconds: new Histogram({
      name: 'afilnet_sync_api_call_duration_seconds',
      help: 'Afilnet API call latency in seconds',
      labelNames: ['method'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'afilnet_sync_api_rate_limited_total',
      help: 'HTTP 429 answers from Afilnet',
      registers: [registry],
    }),
    allowedRate: new Gauge({
      name: 'afilnet_sync_api_allowed_calls_per_second',
      help: 'API calls per second currently allowed (adaptive, account-wide)',
      registers: [registry],
    }),
    budgetWaitSeconds: new Counter({
      name: 'afilnet_sync_budget_wait_seconds_total',
      help: 'Seconds spent waiting for the rate budget',
      labelNames: ['priority'] as const,
      registers: [registry],
    }),
    relayed: new Counter({
      name: 'afilnet_sync_outbox_relayed_total',
      help: 'Outbox rows turned into queued work',
      registers: [registry],
    }),
    driftMembers: new Gauge({
      name: 'afilnet_sync_drift_members',
      help: 'Members out of step found by the last drift check, by group and kind (missing, unexpected, stale)',
      labelNames: ['group', 'kind'] as const,
      registers: [registry],
    }),
    groupRuns: new Counter({
      name: 'afilnet_sync_group_runs_total',
      help: 'Group runs by outcome (done, more, retry, account-refused, failed, shadow)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
