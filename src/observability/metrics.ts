import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The daemon's Prometheus metrics, on a registry of its own (tests create several). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'afilnet_sync_' });
  return {
    registry,
    calls: new Counter({
      name: 'afilnet_sync_api_calls_total',
      help: 'Afilnet API calls by method and outcome',
      labelNames: ['method', 'outcome'] as const,
      registers: [registry],
    }),
    callSeconds: new Histogram({
      name: 'afilnet_sync_api_call_seconds',
      help: 'Afilnet API call latency',
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
      name: 'afilnet_sync_allowed_rate',
      help: 'Current allowed API calls per second (adaptive, account-wide)',
      registers: [registry],
    }),
    budgetWaitSeconds: new Counter({
      name: 'afilnet_sync_budget_wait_seconds_total',
      help: 'Time spent waiting for the rate budget',
      labelNames: ['priority'] as const,
      registers: [registry],
    }),
    relayed: new Counter({
      name: 'afilnet_sync_outbox_relayed_total',
      help: 'Outbox rows turned into queued work',
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
