import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from './support/harness.ts';

const ROOT = join(import.meta.dirname, '..');
const TOKEN = 'alerts-metrics-token-0123456789';
/** Series Prometheus makes itself for every target; no exporter serves them. */
const FROM_PROMETHEUS = new Set(['up']);
const METRIC = /\b(?:afilnet_sync_\w+|process_\w+|nodejs_\w+|up)(?=\s*[{[)\s]|$)/g;

/** The names a scrape can carry: every declared family, with a histogram's and summary's series. */
function exportedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\w+)$/gm)) {
    const [, name = '', type = ''] = m;
    names.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
    if (type === 'summary') for (const s of ['_sum', '_count']) names.add(name + s);
  }
  return names;
}

/** Metric names in PromQL expressions. */
const namesIn = (exprs: readonly string[]): string[] => [
  ...new Set(exprs.flatMap((e) => [...e.matchAll(METRIC)].map((m) => m[0]))),
];

function dashboardExprs(): string[] {
  const dashboard = JSON.parse(
    readFileSync(join(ROOT, 'deploy/grafana/afilnet-sync.json'), 'utf8'),
  ) as { panels: { targets?: { expr: string }[] }[] };
  return dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
}

function ruleExprs(): string[] {
  const text = readFileSync(join(ROOT, 'deploy/prometheus/alerts.yml'), 'utf8');
  // Each rule's expr, one line or a block; annotations cite metric names in prose, checked too.
  return text.split('\n').filter((l) => !/^\s*#/.test(l));
}

describe('the dashboard and the alert rules', () => {
  let h: Harness;
  let exported: Set<string>;
  beforeAll(async () => {
    h = await createHarness({ env: { ADMIN_TOKEN: TOKEN } });
    const daemon = await h.startDaemon();
    const res = await fetch(`${daemon.adminUrl}/metrics`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(res.status).toBe(200);
    exported = exportedNames(await res.text());
  }, 60_000);
  afterAll(async () => h?.close());

  it('scrape a daemon that exports the sync gauges and counters', () => {
    expect(exported).toContain('afilnet_sync_oldest_unsynced_change_age_seconds');
    expect(exported).toContain('afilnet_sync_api_call_duration_seconds_bucket');
    expect(exported).not.toContain('afilnet_sync_no_such_metric');
  });

  it('use only metric names the daemon exports (the dashboard)', () => {
    const used = namesIn(dashboardExprs());
    expect(used.length).toBeGreaterThan(10);
    expect(used.filter((n) => !exported.has(n))).toEqual([]);
  });

  it('use only metric names the daemon exports (the rules)', () => {
    const used = namesIn(ruleExprs());
    expect(used).toContain('afilnet_sync_account_paused');
    expect(used.filter((n) => !exported.has(n) && !FROM_PROMETHEUS.has(n))).toEqual([]);
  });
});
