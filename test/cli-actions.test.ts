import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useOperatorFixture } from './support/operator-fixture.ts';
import { parseJson, runCli } from './support/run-cli.ts';

const fx = useOperatorFixture();

describe('retry', () => {
  it('refuses to guess the scope', async () => {
    const [none, both, unknown] = await Promise.all([
      runCli(['retry'], fx.env),
      runCli(['retry', '--all', '--group', 'g1'], fx.env),
      runCli(['retry', '--group', 'nope'], fx.env),
    ]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('--group <id> (repeatable) or --all');
    expect(both.code).toBe(2);
    expect(unknown.code).toBe(1);
    expect(await fx.queuedGroups()).toEqual([]);
  });

  it('marks a group’s failed members dirty with a fresh seq and queues the group', async () => {
    const before = await fx.db.query<{ seq: string }>(
      `SELECT last_value::text AS seq FROM sync_dirty_seq`,
    );
    const r = await runCli(['retry', '--group', 'g1', '--json'], fx.env);
    expect(r.code).toBe(0);
    expect(parseJson(r)).toEqual({ members: 1, groups: 0, enqueued: ['g1'] });
    const mark = await fx.db.query<{ seq: string; bulk: boolean }>(
      `SELECT seq::text AS seq, bulk FROM sync_dirty WHERE group_id = 'g1' AND contact_id = 'c16'`,
    );
    expect(BigInt(mark.rows[0]?.seq ?? '0')).toBeGreaterThan(BigInt(before.rows[0]?.seq ?? '0'));
    expect(mark.rows[0]?.bulk).toBe(false);
    expect(await fx.queuedGroups()).toEqual(['g1']);
  });

  it('with --all also marks failed groups dirty, and prints counts', async () => {
    const r = await runCli(['retry', '--all'], fx.env);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(
      'Marked 2 failed members and 1 failed group for another sync; queued 2 groups: g1, g2',
    );
    const g2 = await fx.db.query<{ dirty: boolean }>(
      `SELECT dirty FROM sync_group_state WHERE group_id = 'g2'`,
    );
    expect(g2.rows[0]?.dirty).toBe(true);
    expect(await fx.queuedGroups()).toEqual(['g1', 'g2']);
  });
});

describe('approve-deletes', () => {
  it('approves the open holds of a group, refreshes its marks and queues it', async () => {
    const before = await fx.db.query<{ seq: string }>(
      `SELECT max(seq)::text AS seq FROM sync_dirty WHERE group_id = 'g1'`,
    );
    const r = await runCli(['approve-deletes', 'gone', '--json'], fx.env);
    expect(r.code).toBe(0);
    expect(parseJson(r)).toMatchObject({ groupId: 'gone', released: 1 });
    const text = await runCli(['approve-deletes', 'g1'], fx.env);
    expect(text.stdout).toMatch(/^Approved 1 hold for group g1/);
    const holds = await fx.db.query<{ approved_by: string | null }>(
      `SELECT approved_by FROM sync_holds ORDER BY id`,
    );
    expect(holds.rows.map((h) => h.approved_by?.startsWith('cli'))).toEqual([true, true]);
    const after = await fx.db.query<{ seq: string }>(
      `SELECT min(seq)::text AS seq FROM sync_dirty WHERE group_id = 'g1'`,
    );
    expect(BigInt(after.rows[0]?.seq ?? '0')).toBeGreaterThan(BigInt(before.rows[0]?.seq ?? '0'));
    const gone = await fx.db.query<{ dirty: boolean }>(
      `SELECT dirty FROM sync_group_state WHERE group_id = 'gone'`,
    );
    expect(gone.rows[0]?.dirty).toBe(true);
    expect(await fx.queuedGroups()).toContain('gone');
  });

  it('says when there was nothing to approve, and refuses an unknown or missing group', async () => {
    const [again, unknown, missing] = await Promise.all([
      runCli(['approve-deletes', 'g1'], fx.env),
      runCli(['approve-deletes', 'nope'], fx.env),
      runCli(['approve-deletes'], fx.env),
    ]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^No open holds for group g1/);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('No group "nope"');
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain("missing required argument 'group-id'");
  });
});

describe('import', () => {
  it('imports a file, adds the members and prints a JSON summary', async () => {
    const file = join(fx.dir, 'crm.csv');
    const report = join(fx.dir, 'rejects.ndjson');
    await writeFile(file, 'id,mobile,name\nimp-1,34690000001,"One, First"\nimp-2,bad,Two\n');
    const r = await runCli(
      ['import', file, '--group', 'g1', '--report', report, '--max-rejects', '1', '--json'],
      fx.env,
    );
    expect(r.code).toBe(0);
    expect(parseJson(r)).toMatchObject({
      read: 2,
      imported: 1,
      rejected: 1,
      membersAdded: 1,
      reportPath: report,
    });
    expect(
      (await readFile(report, 'utf8'))
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { line: number }).line),
    ).toEqual([3]);
    const member = await fx.db.query(
      `SELECT 1 FROM group_members WHERE group_id = 'g1' AND contact_id = 'imp-1'`,
    );
    expect(member.rowCount).toBe(1);
    const again = await runCli(['import', file, '--group', 'g1', '--report', report], fx.env);
    expect(again.code).toBe(1);
    expect(again.stdout).toMatch(
      /^Read 2 rows in .*: 0 imported \(0 new, 0 changed\), 1 unchanged, 1 rejected\./,
    );
  });

  it('exits 1 for a missing file or an unknown group, and 2 for an unknown format', async () => {
    const file = join(fx.dir, 'ok.csv');
    await writeFile(file, 'id\nx\n');
    const [missing, group, format] = await Promise.all([
      runCli(['import', join(fx.dir, 'absent.csv')], fx.env),
      runCli(['import', file, '--group', 'nope'], fx.env),
      runCli(['import', file, '--format', 'xml'], fx.env),
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read .*absent\.csv: ENOENT/);
    expect(group.code).toBe(1);
    expect(group.stderr).toContain('No group "nope"');
    expect(format.code).toBe(2);
    expect(format.stderr).toContain('--format');
  });
});
