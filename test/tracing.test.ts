import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { startEmulator, type RunningEmulator } from '../src/emulator/index.ts';
import { SYNC_QUEUE } from '../src/sync/group-queue.ts';
import { DaemonProcess } from './support/daemon-process.ts';
import { createHarness, emulatorState, waitFor, type Harness } from './support/harness.ts';
import { drained } from './support/sync-helpers.ts';

const PASSWORD = 'Tr4ce-s3cret-pw';

interface OtlpValue {
  stringValue?: string;
  intValue?: number | string;
  boolValue?: boolean;
  doubleValue?: number;
  arrayValue?: { values: OtlpValue[] };
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: { key: string; value: OtlpValue }[];
}
const CONSUMER = 5;
const CLIENT = 3;

/** An OTLP/HTTP (JSON) trace receiver on 127.0.0.1: what the daemon's exporter sends it. */
class Collector {
  readonly spans: OtlpSpan[] = [];
  readonly bodies: string[] = [];
  private readonly server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      this.bodies.push(body);
      if (req.url === '/v1/traces') {
        const doc = JSON.parse(body) as {
          resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[];
        };
        for (const r of doc.resourceSpans)
          for (const s of r.scopeSpans) this.spans.push(...s.spans);
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const attr = (s: OtlpSpan, key: string): OtlpValue | undefined =>
  s.attributes?.find((a) => a.key === key)?.value;

/** The span's ancestors, nearest first, as far as the collected spans reach. */
function ancestors(span: OtlpSpan, byId: Map<string, OtlpSpan>): OtlpSpan[] {
  const chain: OtlpSpan[] = [];
  for (let p = byId.get(span.parentSpanId ?? ''); p; p = byId.get(p.parentSpanId ?? '')) {
    chain.push(p);
  }
  return chain;
}

/** An Afilnet POST whose ancestry runs up to a claim, through a BullMQ job's run. */
function callTracedToClaim(spans: OtlpSpan[], emulatorUrl: string) {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  for (const call of spans) {
    const url = attr(call, 'url.full')?.stringValue ?? '';
    if (call.kind !== CLIENT || !url.startsWith(emulatorUrl)) continue;
    const chain = ancestors(call, byId);
    const root = chain.at(-1);
    const job = chain.find((s) => s.kind === CONSUMER && s.name === 'process group-sync');
    if (root?.name === 'outbox.claim' && root.parentSpanId === undefined && job) {
      return { call, chain, root, job, trace: spans.filter((s) => s.traceId === call.traceId) };
    }
  }
  return null;
}

describe('OpenTelemetry traces', () => {
  let h: Harness;
  let emulator: RunningEmulator;
  const collector = new Collector();
  let collectorUrl: string;
  let daemon: DaemonProcess | null = null;

  beforeAll(async () => {
    collectorUrl = await collector.listen();
    // An account of its own: a password no span may carry.
    emulator = await startEmulator({ accounts: [{ user: 'tracer', password: PASSWORD }] });
    h = await createHarness({
      env: { AFILNET_BASE_URL: emulator.url, AFILNET_USER: 'tracer', AFILNET_PASSWORD: PASSWORD },
    });
    await h.db
      .query(`INSERT INTO groups (id, name, type, fields) VALUES ('g', 'G', 'mobile', '{mobile,name}');
      INSERT INTO contacts (id, mobile, email, attributes) VALUES
        ('c1', '34600000001', NULL, '{"name": "One"}'), ('c2', '34600000002', NULL, '{"name": "Two"}')`);
  });
  afterAll(async () => {
    await daemon?.kill();
    await h?.close();
    await emulator?.close();
    await collector.close();
  });

  const remoteContacts = async () =>
    (await emulatorState(emulator.url)).reduce((n, g) => n + g.contacts.length, 0);

  it('sends nothing to a collector when OTEL_EXPORTER_OTLP_ENDPOINT is unset', async () => {
    daemon = new DaemonProcess(h.env);
    daemon.start();
    await h.db.query(`INSERT INTO group_members (group_id, contact_id) VALUES ('g', 'c1')`);
    await waitFor(
      async () => (await remoteContacts()) === 1,
      30_000,
      `the first member remotely: ${daemon.output}`,
    );
    // No job left queued: the traced daemon's run of the next change is the one its claim queued.
    const redis = new Redis(h.env.REDIS_URL ?? '', { maxRetriesPerRequest: null });
    const queue = new Queue(SYNC_QUEUE, { connection: redis, prefix: h.env.QUEUE_PREFIX ?? '' });
    try {
      await waitFor(
        async () =>
          (await drained(h)) &&
          Object.values(await queue.getJobCounts('wait', 'delayed', 'active', 'prioritized')).every(
            (n) => n === 0,
          ),
        30_000,
        'an idle daemon',
      );
    } finally {
      await queue.close();
      redis.disconnect();
    }
    expect(await daemon.kill('SIGTERM'), daemon.output).toBe(0);
    expect(collector.bodies).toEqual([]);
  }, 60_000);

  it('traces a change from the claim that took it to the Afilnet call that carried it', async () => {
    daemon = new DaemonProcess({
      ...h.env,
      OTEL_EXPORTER_OTLP_ENDPOINT: collectorUrl,
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
    daemon.start();
    await h.db.query(`INSERT INTO group_members (group_id, contact_id) VALUES ('g', 'c2')`);
    await waitFor(async () => (await remoteContacts()) === 2, 30_000, 'the second member remotely');
    await waitFor(
      () => Promise.resolve(callTracedToClaim(collector.spans, emulator.url) !== null),
      15_000,
      `a traced call (${collector.spans.length} spans: ${[...new Set(collector.spans.map((s) => s.name))].join(', ')})`,
    );
    const found = callTracedToClaim(collector.spans, emulator.url);
    if (!found) throw new Error('unreachable');
    const { call, chain, root, job, trace } = found;

    expect(attr(call, 'http.request.method')?.stringValue).toBe('POST');
    expect(attr(call, 'url.full')?.stringValue).toBe(`${emulator.url}/api/http/`);
    // claim → BullMQ's addBulk (producer) → the job's run (consumer) → … → the HTTP call.
    expect(chain.map((s) => s.name)).toContain('addBulk group-sync');
    expect(chain.indexOf(job)).toBeLessThan(chain.indexOf(root));
    expect(Number(attr(root, 'outbox.changes_claimed')?.intValue)).toBeGreaterThanOrEqual(1);
    expect(Number(attr(root, 'outbox.groups_marked')?.intValue)).toBe(1);
    const pgSpans = trace.filter((s) => attr(s, 'db.system.name')?.stringValue === 'postgresql');
    expect(pgSpans.length).toBeGreaterThan(0);
    // The claim's own query is in the trace, as SQL with placeholders and no parameter values.
    expect(
      pgSpans.some((s) => attr(s, 'db.query.text')?.stringValue?.includes('sync_outbox')),
    ).toBe(true);
    for (const s of collector.spans) {
      for (const a of s.attributes ?? []) expect(a.key).not.toMatch(/values|parameter/);
    }
    console.log(
      `tracing: ${collector.spans.length} spans exported; the traced call's trace has ${trace.length} ` +
        `(${pgSpans.length} pg, ${trace.filter((s) => s.kind === CLIENT && !attr(s, 'db.system.name')).length} HTTP); ` +
        `chain: ${[call, ...chain].map((s) => s.name).join(' ← ')}`,
    );

    expect(await daemon.kill('SIGTERM'), daemon.output).toBe(0);
    // Nothing exported, attributes or otherwise, carries the Afilnet password.
    expect(collector.bodies.length).toBeGreaterThan(0);
    for (const body of collector.bodies) expect(body).not.toContain(PASSWORD);
    expect(JSON.stringify(collector.spans)).not.toContain(PASSWORD);
    // No trace starts with BullMQ's housekeeping (polls, lock renewals, stalled checks): the
    // worker's start alone would export a startStalledCheckTimer trace.
    const ids = new Set(collector.spans.map((s) => s.spanId));
    const roots = collector.spans.filter((s) => !s.parentSpanId || !ids.has(s.parentSpanId));
    for (const r of roots) {
      expect(r.name).not.toMatch(
        /^(getNextJob|extendLocks|moveStalledJobsToWait|startStalledCheckTimer)\b/,
      );
    }
    // Empty claims (every poll) are not exported: each exported claim took something.
    const claims = collector.spans.filter((s) => s.name === 'outbox.claim');
    expect(claims.length).toBeGreaterThan(0);
    for (const c of claims)
      expect(Number(attr(c, 'outbox.changes_claimed')?.intValue)).toBeGreaterThan(0);
  }, 60_000);
});
