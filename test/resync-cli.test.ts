import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AfilnetClient } from '../src/afilnet/index.ts';
import {
  compareWithEmulator,
  createHarness,
  emulatorState,
  waitFor,
  type Harness,
} from './support/harness.ts';
import { drained } from './support/sync-helpers.ts';

const BIN = fileURLToPath(new URL('../bin/afilnet-sync.mjs', import.meta.url));

/** Runs the CLI with the harness's environment; never throws on a non-zero exit. */
function cli(
  h: Harness,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { PATH: process.env.PATH ?? '', ...h.env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('afilnet-sync resync', () => {
  let h: Harness;
  let lost: string[] = [];
  beforeAll(async () => {
    // Contacts deleted in Afilnet are re-added here: REMOTE_REMOVALS=readd (the default,
    // respect, records them as opt-outs: test/opt-out.test.ts).
    h = await createHarness({ env: { DELETE_GUARD_PERCENT: '100', REMOTE_REMOVALS: 'readd' } });
    await h.db.query(`
      INSERT INTO groups (id, name, type, fields) VALUES ('cli', 'Cli', 'email', '{email,name}');
      INSERT INTO contacts (id, email, attributes)
        SELECT 'e' || i, 'user' || i || '@example.com', jsonb_build_object('name', 'N' || i)
        FROM generate_series(1, 50) i;
      INSERT INTO group_members SELECT 'cli', 'e' || i FROM generate_series(1, 50) i;`);
    await h.startDaemon();
    await waitFor(() => drained(h), 30_000, 'the first sync');
    // Two contacts lost in Afilnet.
    const client = AfilnetClient.fromConfig(h.config);
    const remote = (await emulatorState(h.emulator.url))[0];
    for (const c of (remote?.contacts ?? []).slice(0, 2)) {
      await client.deletecontact(String(remote?.idgroup), String(c.idcontact));
    }
    lost = (remote?.contacts ?? [])
      .slice(0, 2)
      .map((c) => c.fields.email ?? '')
      .sort();
    await client.close();
  });
  afterAll(async () => h?.close());

  it('prints the planned counts and examples as JSON in a dry run', async () => {
    const { code, stdout } = await cli(h, ['resync', '--group', 'cli', '--dry-run', '--json']);
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as {
      status: string;
      dryRun: boolean;
      startedBy: string;
      counts: Record<string, unknown>;
      examples: { kind: string; mainValue: string }[];
    };
    expect(report).toMatchObject({ status: 'planned', dryRun: true, counts: { cli: { add: 2 } } });
    expect(report.startedBy).toMatch(/.@./);
    expect(report.examples.map((e) => [e.kind, e.mainValue])).toEqual(lost.map((m) => ['add', m]));
  });

  it('prints a readable report in a dry run', async () => {
    const { code, stdout } = await cli(h, ['resync', '--group', 'cli', '--dry-run']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/\(dry run\) by .+: planned/);
    expect(stdout).toContain('group cli (48 remote contacts read): 2 add');
    const contactId = `e${(lost[0] ?? '').replace(/\D/g, '')}`;
    expect(stdout).toContain(`add           ${lost[0]} (contact ${contactId})`);
  });

  it('follows the daemon applying it, in plain lines when not on a terminal, and exits 0', async () => {
    const { code, stdout, stderr } = await cli(h, ['resync', '--group', 'cli']);
    expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toMatch(/Resync run \d+ done/);
    expect(stdout).toContain('group cli: planned 2 add; applied 2 add');
    await waitFor(() => drained(h), 30_000, 'the sync to drain');
    expect(await compareWithEmulator(h)).toEqual([]);
  });

  it('says what is missing when no group is named', async () => {
    const { code, stderr } = await cli(h, ['resync', '--dry-run']);
    expect(code).toBe(1);
    expect(stderr).toContain('name at least one group, or ask for all');
  });
});
