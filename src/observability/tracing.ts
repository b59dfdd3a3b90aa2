import { createRequire } from 'node:module';
import { context, propagation, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ParentBasedSampler, TracerProvider } from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { BullMQOtel } from 'bullmq-otel';
import type { Telemetry } from 'bullmq';
import type { DaemonConfig } from '../config/config.ts';
import type { Logger } from './logger.ts';
import { HousekeepingSampler } from './housekeeping-sampler.ts';
import { QuietClaimFilter } from './quiet-claim-filter.ts';

/** What a claim reports on its span: changes taken from the outbox, groups marked dirty. */
export type ClaimNote = (claimed: number, groups: number) => void;
/** Runs one claim (and the enqueue of what it marked) inside a span. */
export type ClaimSpan = <T>(run: (note: ClaimNote) => Promise<T>) => Promise<T>;

/** A started tracer provider and the hooks the daemon's parts take. */
export interface Tracing {
  /** BullMQ's own integration: producer spans carry their context into the job. */
  telemetry: Telemetry;
  claimSpan: ClaimSpan;
  /** Exports what is buffered, then stops. */
  shutdown(): Promise<void>;
}

export const CLAIM_SPAN = 'outbox.claim';

/**
 * Starts OpenTelemetry tracing: spans of the relay's claims, BullMQ's jobs, pg's queries and
 * undici's calls, exported over OTLP/HTTP (JSON) to OTEL_EXPORTER_OTLP_ENDPOINT. Imported
 * lazily by the daemon only when that is set. No span records a query's parameters
 * (`enhancedDatabaseReporting` off) or an HTTP body: Afilnet's credentials travel in the body.
 */
export function startTracing(config: Readonly<DaemonConfig>, logger: Logger): Tracing {
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.OTEL_SERVICE_NAME }),
    sampler: new ParentBasedSampler({ root: new HousekeepingSampler() }),
    spanProcessors: [
      new QuietClaimFilter(
        new BatchSpanProcessor({
          exporter: new OTLPTraceExporter(),
          scheduledDelayMillis: config.OTEL_BSP_SCHEDULE_DELAY,
        }),
        CLAIM_SPAN,
      ),
    ],
  });
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const unregister = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      // Only inside a trace: the relay's sweeps and the probes would each be a trace of their own.
      new PgInstrumentation({ requireParentSpan: true, enhancedDatabaseReporting: false }),
      new UndiciInstrumentation({ requireParentforSpans: true }),
    ],
  });
  // pg is CommonJS, already loaded by the ESM import graph, which require hooks do not see; a
  // require() through the now-hooked loader patches the shared prototypes (Client, pg-pool).
  const requirePg = createRequire(import.meta.url);
  requirePg('pg');
  createRequire(requirePg.resolve('pg'))('pg-pool');

  const tracer = trace.getTracer('afilnet-sync');
  // The endpoint's host only: a collector URL may carry credentials (user:password@host).
  const endpointHost = new URL(config.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://unset').host;
  logger.info({ endpoint: endpointHost }, 'tracing on');
  return {
    telemetry: new BullMQOtel({ tracerName: 'bullmq' }),
    claimSpan: (run) =>
      tracer.startActiveSpan(CLAIM_SPAN, async (span) => {
        try {
          return await run((claimed, groups) =>
            span.setAttributes({
              'outbox.changes_claimed': claimed,
              'outbox.groups_marked': groups,
            }),
          );
        } catch (err) {
          span.recordException(err instanceof Error ? err : String(err));
          span.setStatus({ code: SpanStatusCode.ERROR });
          throw err;
        } finally {
          span.end();
        }
      }),
    async shutdown() {
      unregister();
      await provider
        .shutdown()
        .catch((err: unknown) => logger.warn({ err }, 'trace export failed'));
    },
  };
}
