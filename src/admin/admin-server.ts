import { fastify, LogController, type FastifyBaseLogger, type FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import type { AddressInfo } from 'node:net';
import type pg from 'pg';
import type { AfilnetClient } from '../afilnet/index.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { checkResyncProgress, readRun, startResync } from '../resync/index.ts';
import type { ApiCaller } from '../gateway/api-caller.ts';
import type { GroupQueue } from '../sync/group-queue.ts';
import { AdminAccess, assertAdminExposureAllowed } from './admin-access.ts';
import { createAccessHook, pathOf } from './access-hook.ts';
import { registerMonitoringRoutes } from './monitoring-routes.ts';
import { approveGroupDeletes } from '../operator/approve-group-deletes.ts';
import { readAccountPause, readAllowedRate } from '../operator/allowed-rate.ts';
import { errorReport } from '../operator/error-report.ts';
import { withGroupControls } from '../operator/group-controls.ts';
import { groupDetail } from '../operator/group-detail.ts';
import { pauseGroupSync, resumeGroupSync } from '../operator/group-pause.ts';
import { clearContactOptOut, optOutReport } from '../operator/opt-outs.ts';
import { retryFailed } from '../operator/retry-failed.ts';
import { statusReport } from '../operator/status-report.ts';
import { operatorErrorStatus, registerOperatorRoutes } from './operator-routes.ts';
import { registerQueueBoard } from './queue-board.ts';
import { registerQueueLogin } from './queue-login.ts';
import { registerOperatorUi } from './ui-routes.ts';
import { createReadinessCheck } from './readiness.ts';
import { createScrapeMetrics } from './scrape-metrics.ts';

/** What the admin server reads and acts on: the running daemon's own connections. */
export interface AdminDeps {
  pool: pg.Pool;
  /**
   * A small pool of the daemon's whose statement_timeout is short: /readyz and /metrics read
   * through it, so an abandoned probe or scrape is cancelled by the server and gives its
   * connection back, and probes never wait behind the workers. Defaults to `pool`.
   */
  monitorPool?: pg.Pool;
  redis: Redis;
  queue: GroupQueue;
  metrics: Metrics;
  /** QUEUE_PREFIX: where the account-wide rate budget lives in Redis. */
  prefix: string;
  /** AFILNET_RATE_LIMIT: the allowed rate until the budget learns a lower one. */
  rateCeiling: number;
  logger: Logger;
  /** The daemon's Afilnet client and caller: a resync's reads share its rate budget. */
  client: AfilnetClient;
  caller: ApiCaller;
  /** REMOTE_REMOVALS, for the resyncs started here. */
  remoteRemovals?: 'respect' | 'readd';
}

export interface AdminOptions {
  host: string;
  /** 0 picks a free port (tests use that); the chosen one is in `url`. */
  port: number;
  token: string | undefined;
  /** ADMIN_TRUST_PROXY: believe X-Forwarded-Proto/-Host from a proxy in front (TLS there). */
  trustProxy?: boolean;
}

/** A listening admin server. */
export interface RunningAdmin {
  /** e.g. http://127.0.0.1:8080 */
  url: string;
  close(): Promise<void>;
}

/** What a log line may say about a request: never its query or headers. */
const safeRequest = (req: FastifyRequest) => ({ method: req.method, path: pathOf(req.url) });

/**
 * Starts the admin HTTP server: health, readiness, metrics, operator actions and Bull Board.
 * Refuses a non-loopback host without a token before binding anything.
 */
export async function startAdminServer(deps: AdminDeps, opts: AdminOptions): Promise<RunningAdmin> {
  assertAdminExposureAllowed(opts.host, opts.token);
  const access = new AdminAccess(opts.token);
  const logger = deps.logger.child({ component: 'admin' });
  // Typed as Fastify's base logger so the instance keeps Fastify's default generics.
  const loggerInstance: FastifyBaseLogger = logger;
  const app = fastify({
    loggerInstance,
    // Request logs would carry the URL and headers; a mistyped URL may hold a secret.
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { ignoreTrailingSlash: true },
    trustProxy: opts.trustProxy ?? false,
  });
  app.addHook('onRequest', createAccessHook(access));
  app.setErrorHandler((err: Error & { statusCode?: number }, request, reply) => {
    const known = operatorErrorStatus(err);
    const status =
      known ?? (err.statusCode !== undefined && err.statusCode >= 400 ? err.statusCode : 500);
    if (status >= 500) logger.error({ err, req: safeRequest(request) }, 'admin request failed');
    const error = status >= 500 ? 'internal error' : status === 404 ? 'not found' : 'bad request';
    return reply.code(status).send({ error, message: err.message });
  });

  const monitorPool = deps.monitorPool ?? deps.pool;
  registerMonitoringRoutes(app, {
    readiness: createReadinessCheck({
      pool: monitorPool,
      redis: deps.redis,
      accountPause: () => readAccountPause(deps.redis, deps.prefix),
    }),
    isAdmin: (request) => access.matchesBearer(request.headers.authorization),
    metrics: createScrapeMetrics({
      pool: monitorPool,
      queue: deps.queue.queue,
      registry: deps.metrics.registry,
      allowedRate: async () =>
        (await readAllowedRate(deps.redis, deps.prefix, deps.rateCeiling)).rate,
      allowedRateGauge: deps.metrics.allowedRate,
      accountPaused: async () => (await readAccountPause(deps.redis, deps.prefix)) !== null,
      logger,
    }),
  });
  const stores = { pool: deps.pool, queue: deps.queue };
  registerOperatorRoutes(app, {
    status: async () =>
      withGroupControls(
        deps.pool,
        await statusReport({
          ...stores,
          redis: deps.redis,
          prefix: deps.prefix,
          rateCeiling: deps.rateCeiling,
        }),
      ),
    errors: (opts) => errorReport(stores, opts),
    retry: (selection) =>
      retryFailed(stores, 'all' in selection ? { all: true } : { groupIds: selection.groups }),
    approveDeletes: (groupId, by) => approveGroupDeletes(stores, groupId, by),
    resync: (selection, { dryRun }) =>
      startResync(
        {
          ...stores,
          client: deps.client,
          caller: deps.caller,
          logger: deps.logger,
          ...(deps.remoteRemovals !== undefined ? { remoteRemovals: deps.remoteRemovals } : {}),
        },
        { ...selection, dryRun, startedBy: 'admin-http' },
      ),
    resyncRun: async (runId) =>
      (await readRun(deps.pool, runId)) ? checkResyncProgress(deps.pool, runId) : null,
    pause: (groupId, by) => pauseGroupSync(stores, groupId, by),
    resume: (groupId) => resumeGroupSync(stores, groupId),
    optOuts: (groupId) => optOutReport(stores, groupId),
    clearOptOut: (groupId, contactId) => clearContactOptOut(stores, groupId, contactId),
    group: (groupId) => groupDetail(stores, groupId),
  });
  await registerQueueLogin(app, access);
  await registerOperatorUi(app, opts.token);
  await registerQueueBoard(app, [deps.queue.queue]);

  await app.listen({ host: opts.host, port: opts.port });
  const { port } = app.server.address() as AddressInfo;
  const url = `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`;
  logger.info(
    {
      url,
      auth: access.enabled
        ? 'bearer token'
        : 'none configured: protected routes answer 401 until ADMIN_TOKEN is set',
    },
    access.enabled
      ? 'admin server listening (/healthz and /readyz open; the rest need the token)'
      : 'admin server listening; ADMIN_TOKEN is not set, so only /healthz and /readyz answer',
  );
  return { url, close: () => app.close() };
}
