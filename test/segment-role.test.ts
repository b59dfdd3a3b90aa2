import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { migrate } from '../src/db/migrate.ts';
import { statusReport } from '../src/operator/status-report.ts';
import { runCli } from './support/run-cli.ts';
import { createHarness, waitFor, type Harness } from './support/harness.ts';

/**
 * Issue 15: "Expressions run read-only with a statement timeout, with no way to write or to read
 * the daemon's own sync_ tables." The write-time check sees only the filter's own tree; what a
 * CRM function or view does inside is stopped by running the filter as afilnet_segment.
 */
describe('segment filters run as the least-privileged afilnet_segment role', () => {
  let h: Harness;
  const members = async (groupId: string): Promise<string[]> =>
    (
      await h.db.query<{ contact_id: string }>(
        'SELECT contact_id FROM group_members WHERE group_id = $1 ORDER BY contact_id',
        [groupId],
      )
    ).rows.map((r) => r.contact_id);
  const addSegment = (id: string, segment: string) =>
    h.db.query(
      `INSERT INTO groups (id, name, type, fields, segment) VALUES ($1, $1, 'mobile', '{mobile}', $2)`,
      [id, segment],
    );
  const failureOf = async (groupId: string): Promise<string> => {
    let error: string | null = null;
    await waitFor(
      async () => {
        const r = await h.db.query<{ error: string | null }>(
          'SELECT error FROM sync_segment_state WHERE group_id = $1',
          [groupId],
        );
        error = r.rows[0]?.error ?? null;
        return error !== null;
      },
      15_000,
      `the failure of ${groupId} to be recorded`,
    );
    return error ?? '';
  };

  beforeAll(async () => {
    h = await createHarness({ env: { SEGMENT_REFRESH_MS: '500' } });
    await h.db.query(`INSERT INTO contacts (id, mobile, attributes) VALUES
      ('ana', '34600000001', '{"city": "Madrid"}'),
      ('bea', '34600000002', '{"city": "Madrid"}'),
      ('cai', '34600000003', '{"city": "Lyon"}')`);
    await h.startDaemon();
  });
  afterAll(async () => h?.close());

  it('cannot read sync_ tables through a CRM stable function: the failure is on the group, other segments go on', async () => {
    await h.db.query(
      `CREATE FUNCTION crm_peek() RETURNS boolean STABLE LANGUAGE sql AS $$ SELECT count(*) >= 0 FROM sync_outbox $$`,
    );
    await addSegment('peek', 'crm_peek()');
    await addSegment('madrid', `c.attributes->>'city' = 'Madrid'`);
    expect(await failureOf('peek')).toBe('permission denied for table sync_outbox');
    await waitFor(async () => (await members('madrid')).length === 2, 15_000, 'madrid');
    expect(await members('madrid')).toEqual(['ana', 'bea']);
    expect(await members('peek')).toEqual([]);
    // The incremental evaluation of a changed contact fails the same way, and nothing else.
    await h.db.query(`UPDATE contacts SET attributes = '{"city": "Madrid"}' WHERE id = 'cai'`);
    await waitFor(async () => (await members('madrid')).length === 3, 15_000, 'cai to enter');
    expect(await members('peek')).toEqual([]);
    const text = await runCli(['status'], {
      DATABASE_URL: h.env.DATABASE_URL as string,
      REDIS_URL: h.env.REDIS_URL as string,
      QUEUE_PREFIX: h.env.QUEUE_PREFIX as string,
    });
    expect(text.stdout).toMatch(
      /peek: segment, 0 members, .*failing: permission denied for table sync_outbox/,
    );
    expect(text.stdout).not.toMatch(/unconfined/);
    await h.db.query(`UPDATE groups SET segment = NULL WHERE id = 'peek'`);
  });

  it('cannot switch back to the daemon role from inside a filter', async () => {
    await h.db.query(`CREATE FUNCTION crm_escape() RETURNS boolean STABLE LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM set_config('role', session_user::text, true);
        RETURN EXISTS (SELECT 1 FROM sync_outbox);
      END $$`);
    await addSegment('escape', 'crm_escape()');
    expect(await failureOf('escape')).toMatch(
      /cannot set parameter "role" within security-definer function/,
    );
    expect(await members('escape')).toEqual([]);
    await h.db.query(`UPDATE groups SET segment = NULL WHERE id = 'escape'`);
  });

  it('cannot write, even through a volatile function a stable one calls, even where granted', async () => {
    await h.db.query(`CREATE TABLE crm_log (at timestamptz)`);
    await h.db.query(`GRANT SELECT, INSERT ON crm_log TO afilnet_segment`);
    await h.db.query(
      `CREATE FUNCTION crm_write() RETURNS boolean VOLATILE LANGUAGE sql AS $$ INSERT INTO crm_log VALUES (now()) RETURNING true $$`,
    );
    await h.db.query(
      `CREATE FUNCTION crm_sneak() RETURNS boolean STABLE LANGUAGE sql AS $$ SELECT crm_write() $$`,
    );
    await addSegment('sneak', 'crm_sneak()');
    expect(await failureOf('sneak')).toBe('cannot execute INSERT in a read-only transaction');
    expect((await h.db.query('SELECT 1 FROM crm_log')).rowCount).toBe(0);
    await h.db.query(`UPDATE groups SET segment = NULL WHERE id = 'sneak'`);
  });

  it('refuses a filter reading a table the role may not read, naming the grant; accepts it after', async () => {
    await h.db.query(`CREATE TABLE crm_vip (contact_id text PRIMARY KEY)`);
    await h.db.query(`INSERT INTO crm_vip VALUES ('cai')`);
    const vip = 'exists (select 1 from crm_vip v where v.contact_id = c.id)';
    await expect(addSegment('vip', vip)).rejects.toThrow(
      'segment of group "vip" is refused: the segment reads crm_vip, which afilnet_segment may not read (GRANT SELECT ON crm_vip TO afilnet_segment)',
    );
    await h.db.query(`GRANT SELECT ON crm_vip TO afilnet_segment`);
    await addSegment('vip', vip);
    await waitFor(async () => (await members('vip')).length === 1, 15_000, 'vip');
    expect(await members('vip')).toEqual(['cai']);
  });

  it('refuses views over sync_ tables, even granted ones', async () => {
    await h.db.query(`GRANT SELECT ON afilnet_opt_outs TO afilnet_segment`);
    await expect(
      addSegment(
        'optin',
        'not exists (select 1 from afilnet_opt_outs o where o.contact_id = c.id)',
      ),
    ).rejects.toThrow(
      /refused: the segment may not read afilnet_opt_outs, which reads sync_opt_outs \(afilnet-sync's own tables are private\)/,
    );
    // A CRM's view of a view of the outbox.
    await h.db.query(`CREATE VIEW crm_changes AS SELECT contact_id FROM sync_outbox`);
    await h.db.query(`CREATE VIEW crm_recent AS SELECT contact_id FROM crm_changes`);
    await h.db.query(`GRANT SELECT ON crm_recent, crm_changes TO afilnet_segment`);
    await expect(
      addSegment('recent', 'c.id in (select contact_id from crm_recent)'),
    ).rejects.toThrow(/may not read crm_recent, which reads sync_outbox/);
  });

  it('refuses a security-definer function (it would run with its owner privileges)', async () => {
    await h.db.query(
      `CREATE FUNCTION crm_definer() RETURNS boolean STABLE SECURITY DEFINER LANGUAGE sql AS $$ SELECT true $$`,
    );
    await expect(addSegment('definer', 'crm_definer()')).rejects.toThrow(
      /may not call the security-definer function crm_definer\(\)/,
    );
  });

  it('status says segments are confined', async () => {
    expect((await statusReport({ pool: h.db })).segmentConfinement).toBeNull();
  });
});

describe('when the migrating user may not create roles', () => {
  const admin = new URL(inject('databaseUrl'));
  const suffix = randomBytes(5).toString('hex');
  const role = `t_nocreaterole_${suffix}`;
  const name = `t_unconfined_${suffix}`;
  const asRole = new URL(admin.toString());
  asRole.username = role;
  asRole.password = 'pw';
  asRole.pathname = `/${name}`;
  const asAdmin = new URL(admin.toString());
  asAdmin.pathname = `/${name}`;
  const onAdmin = async (url: URL, sql: string): Promise<pg.QueryResult> => {
    const c = new pg.Client({ connectionString: url.toString() });
    await c.connect();
    try {
      return await c.query(sql);
    } finally {
      await c.end();
    }
  };

  beforeAll(async () => {
    await onAdmin(admin, `CREATE ROLE ${role} LOGIN CREATEDB NOCREATEROLE PASSWORD 'pw'`);
    await onAdmin(admin, `CREATE DATABASE ${name} OWNER ${role}`);
  });
  afterAll(async () => {
    await onAdmin(admin, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await onAdmin(admin, `DROP ROLE IF EXISTS ${role}`);
  });

  it('migrates, says why in a notice, and evaluates segments unconfined until a superuser confines them', async () => {
    const lines: string[] = [];
    await migrate(asRole.toString(), { log: (l) => lines.push(l) });
    expect(lines).toContainEqual(
      expect.stringMatching(
        /segment_role: segment filters will run unconfined, with afilnet-sync's privileges: .*SELECT sync_segment_confine\(\);/,
      ),
    );
    const db = new pg.Pool({ connectionString: asRole.toString(), max: 2 });
    db.on('error', () => undefined); // the drop WITH (FORCE) may reach a client still closing
    try {
      expect((await statusReport({ pool: db })).segmentConfinement).toMatch(
        /^segment filters run unconfined, .*a superuser runs in this database: SELECT sync_segment_confine\(\);$/,
      );
      await db.query(`INSERT INTO contacts (id, mobile) VALUES ('ana', '34600000001')`);
      await db.query(
        `CREATE FUNCTION crm_peek() RETURNS boolean STABLE LANGUAGE sql AS $$ SELECT count(*) >= 0 FROM sync_outbox $$`,
      );
      await db.query(
        `INSERT INTO groups (id, name, type, fields, segment) VALUES ('peek', 'peek', 'mobile', '{mobile}', 'crm_peek()')`,
      );
      // As before the role existed: the filter runs with the daemon's privileges.
      const before = await db.query<{ size: number }>(
        `SELECT size FROM sync_segment_evaluate('peek')`,
      );
      expect(before.rows[0]?.size).toBe(1);

      await onAdmin(asAdmin, 'SELECT sync_segment_confine()');
      expect((await statusReport({ pool: db })).segmentConfinement).toBeNull();
      await expect(db.query(`SELECT size FROM sync_segment_evaluate('peek')`)).rejects.toThrow(
        'permission denied for table sync_outbox',
      );
    } finally {
      await db.end();
    }
  });
});
