import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';

/**
 * Drops the traces of claims that found nothing. The relay claims on every NOTIFY and every poll
 * (each RELAY_POLL_MS), and a claim only learns whether it took anything at its end; exported,
 * the empty ones would be a trace a second of BEGIN, claim, COMMIT. So the finished spans of a
 * trace rooted in a running claim are held until the claim ends, then passed on, or dropped if
 * it claimed nothing. Other traces (and spans of a claim's trace that end after it: the jobs it
 * queued) pass straight through; only the spans of claims in flight are ever held.
 */
export class QuietClaimFilter implements SpanProcessor {
  readonly #held = new Map<string, ReadableSpan[]>();

  constructor(
    private readonly next: SpanProcessor,
    private readonly claimSpanName: string,
  ) {}

  onStart(span: Span, parentContext: Context): void {
    if (this.isClaimRoot(span)) this.#held.set(span.spanContext().traceId, []);
    this.next.onStart(span, parentContext);
  }

  onEnd(span: ReadableSpan): void {
    const traceId = span.spanContext().traceId;
    const held = this.#held.get(traceId);
    if (held === undefined) {
      this.next.onEnd(span);
      return;
    }
    if (!this.isClaimRoot(span)) {
      held.push(span);
      return;
    }
    this.#held.delete(traceId);
    // A claim that failed has no count: kept, its error is the point.
    if (span.attributes['outbox.changes_claimed'] === 0) return;
    for (const child of held) this.next.onEnd(child);
    this.next.onEnd(span);
  }

  forceFlush(): Promise<void> {
    return this.next.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.next.shutdown();
  }

  private isClaimRoot(span: ReadableSpan): boolean {
    return span.name === this.claimSpanName && span.parentSpanContext === undefined;
  }
}
