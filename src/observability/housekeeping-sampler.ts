import type { Attributes, Context, Link, SpanKind } from '@opentelemetry/api';
import { type Sampler, SamplingDecision, type SamplingResult } from '@opentelemetry/sdk-trace';

/**
 * BullMQ's own background work: the worker's polls, lock renewals and stalled-job checks run
 * every few seconds whether or not anything changed, and each would start a trace of its own.
 * Their span names are `<operation> <queue>`.
 */
const HOUSEKEEPING = new Set([
  'getNextJob',
  'extendLocks',
  'moveStalledJobsToWait',
  'startStalledCheckTimer',
  'promoteJobs',
  'trimEvents',
  'drain',
  'close',
]);

/**
 * The root sampler: every trace is kept except one that would start with BullMQ housekeeping,
 * so traces are the daemon's work (a claim and what it carried, an operator's action), not a
 * clock. Used under ParentBasedSampler: a span inside a kept trace is always kept.
 */
export class HousekeepingSampler implements Sampler {
  shouldSample(
    _context: Context,
    _traceId: string,
    spanName: string,
    _kind: SpanKind,
    _attributes: Attributes,
    _links: Link[],
  ): SamplingResult {
    const operation = spanName.split(' ', 1)[0] ?? '';
    return {
      decision: HOUSEKEEPING.has(operation)
        ? SamplingDecision.NOT_RECORD
        : SamplingDecision.RECORD_AND_SAMPLED,
    };
  }

  toString(): string {
    return 'HousekeepingSampler';
  }
}
