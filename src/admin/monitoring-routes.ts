import type { FastifyInstance } from 'fastify';
import { checkReadiness, type ReadinessDeps } from './readiness.ts';
import type { ScrapeMetrics } from './scrape-metrics.ts';

/**
 * GET /healthz (the process answers), GET /readyz (Postgres, Redis and migrations; 503 naming what
 * failed) and GET /metrics (Prometheus text). Only /metrics needs the token: the access hook decides.
 */
export function registerMonitoringRoutes(
  app: FastifyInstance,
  deps: { readiness: ReadinessDeps; metrics: ScrapeMetrics },
): void {
  app.get('/healthz', (_request, reply) => reply.send({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const result = await checkReadiness(deps.readiness);
    const failing = Object.entries(result.checks)
      .filter(([, check]) => !check.ok)
      .map(([name]) => name);
    return reply.code(result.ready ? 200 : 503).send({
      status: result.ready ? 'ready' : 'not ready',
      ...(failing.length > 0 ? { failing } : {}),
      checks: result.checks,
    });
  });

  app.get('/metrics', async (_request, reply) => {
    const text = await deps.metrics.render();
    return reply.header('content-type', deps.metrics.contentType).send(text);
  });
}
