import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, waitFor, type Harness } from './support/harness.ts';
import { drained } from './support/sync-helpers.ts';

const TOKEN = 'admin-resync-test-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
const json = { ...auth, 'content-type': 'application/json' };

describe('resync over the admin API', () => {
  let h: Harness;
  let base: string;
  beforeAll(async () => {
    h = await createHarness({ env: { ADMIN_TOKEN: TOKEN } });
    base = (await h.startDaemon()).adminUrl;
    await h.db.query(`BEGIN;
      INSERT INTO groups (id, name, type, fields) VALUES ('g1', 'Customers', 'mobile', '{mobile,name}');
      INSERT INTO contacts (id, mobile, attributes)
        SELECT 'c' || i, '3462' || lpad(i::text, 7, '0'), jsonb_build_object('name', 'N' || i)
        FROM generate_series(1, 30) i;
      INSERT INTO group_members SELECT 'g1', id FROM contacts;
      COMMIT;`);
    await waitFor(() => drained(h), 30_000, 'the first sync');
  });
  afterAll(async () => h?.close());

  it('plans a dry-run resync on POST /resync and answers 400 for a group it cannot resync', async () => {
    const dry = await fetch(`${base}/resync`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ groups: ['g1'], dryRun: true }),
    });
    expect(dry.status).toBe(200);
    expect(await dry.json()).toMatchObject({ dryRun: true, status: 'planned', groupIds: ['g1'] });
    const bad = await fetch(`${base}/resync`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ groups: ['nope'] }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/nope: no such group/);
  });

  it('accepts a resync with 202 and reports its progress on GET /resync/:id until done', async () => {
    const res = await fetch(`${base}/resync`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ groups: ['g1'] }),
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    let status = '';
    await waitFor(
      async () => {
        const run = await fetch(`${base}/resync/${id}`, { headers: auth });
        status = ((await run.json()) as { status: string }).status;
        return status === 'done' || status === 'failed';
      },
      30_000,
      'the resync to finish',
    );
    expect(status).toBe('done');
    expect((await fetch(`${base}/resync/999999`, { headers: auth })).status).toBe(404);
  });
});
