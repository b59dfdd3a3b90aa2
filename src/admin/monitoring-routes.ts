import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Readiness } from './readiness.ts';
import type { ScrapeMetrics } from './scrape-metrics.ts';

export interface MonitoringDeps {
  /** The cached, shared readiness check (createReadinessCheck). */
  readiness: () => Promise<Readiness>;
  metrics: ScrapeMetrics;
  /** Whether the request carries the admin token: only then does /readyz say why. */
  isAdmin: (request: FastifyRequest) => boolean;
}

/**
 * GET /healthz (the process answers), GET /readyz (Postgres, Redis and migrations) and
 * GET /metrics (Prometheus text). /readyz is open to probers, which need only the verdict; its
 * details (error texts naming hosts and users, disabled capture triggers) go to token holders
 * only. The access hook decides who reaches /metrics.
 */
export function registerMonitoringRoutes(app: FastifyInstance, deps: MonitoringDeps): void {
  app.get('/healthz', (_request, reply) => reply.send({ status: 'ok' }));

  app.get('/readyz', async (request, reply) => {
    const result = await deps.readiness();
    const status = result.ready ? 'ready' : 'not ready';
    void reply.code(result.ready ? 200 : 503).header('cache-control', 'no-store');
    if (!deps.isAdmin(request)) return reply.send({ status });
    const failing = Object.entries(result.checks)
      .filter(([, check]) => !check.ok)
      .map(([name]) => name);
    return reply.send({
      status,
      ...(failing.length > 0 ? { failing } : {}),
      checks: result.checks,
      warnings: result.warnings,
    });
  });

  app.get('/metrics', async (_request, reply) => {
    const text = await deps.metrics.render();
    return reply.header('content-type', deps.metrics.contentType).send(text);
  });
}
