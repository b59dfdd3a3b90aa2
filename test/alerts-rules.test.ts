import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const RULES = join(ROOT, 'deploy/prometheus/alerts.yml');
const RULE_TESTS = join(ROOT, 'deploy/prometheus/alerts.test.yml');
const PROMTOOL = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p));
const run = promisify(execFile);

/** Runs promtool, answering its exit code and output instead of throwing on a failure. */
async function promtool(args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(PROMTOOL ?? 'promtool', args, { cwd: ROOT });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

const alertNames = (text: string): string[] =>
  [...text.matchAll(/^\s*- alert: (\w+)$/gm)].map((m) => m[1] ?? '');

describe('the Prometheus alert rules', () => {
  it('alert on a stall, old changes, a paused account, held deletes and failures', () => {
    const text = readFileSync(RULES, 'utf8');
    expect(alertNames(text)).toEqual(
      expect.arrayContaining([
        'AfilnetSyncStalled',
        'AfilnetSyncChangesOld',
        'AfilnetSyncAccountPaused',
        'AfilnetSyncDeletesHeld',
        'AfilnetSyncMembersFailing',
        'AfilnetSyncCallFailureRate',
      ]),
    );
    for (const metric of [
      'afilnet_sync_oldest_unsynced_change_age_seconds',
      'afilnet_sync_account_paused',
      'afilnet_sync_held_deletes',
      'afilnet_sync_members{state="failed"}',
      'afilnet_sync_api_calls_total{outcome!="success"}',
    ]) {
      expect(text).toContain(metric);
    }
  });

  it.skipIf(PROMTOOL === undefined)('pass `promtool check rules`', async () => {
    const result = await promtool(['check', 'rules', RULES]);
    expect(result.output).toMatch(/SUCCESS: \d+ rules found/);
    expect(result.code).toBe(0);
  });

  it.skipIf(PROMTOOL === undefined)(
    'fire when their unit tests say (`promtool test rules`)',
    async () => {
      const result = await promtool(['test', 'rules', RULE_TESTS]);
      expect(result.output).toContain('SUCCESS');
      expect(result.code).toBe(0);
    },
  );

  it.skipIf(PROMTOOL === undefined)('are checked by a promtool that can fail', async () => {
    const result = await promtool(['check', 'rules', join(ROOT, 'package.json')]);
    expect(result.code).not.toBe(0);
  });
});
