import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareWithEmulator, createHarness, waitFor, type Harness } from './support/harness.ts';
import { DaemonProcess } from './support/daemon-process.ts';
import { drained } from './support/sync-helpers.ts';

describe('SIGKILL of the daemon every few seconds', () => {
  let h: Harness;
  const daemons: DaemonProcess[] = [];
  beforeAll(async () => {
    h = await createHarness({
      env: { AFILNET_RATE_LIMIT: '400', AFILNET_BATCH_SIZE: '100', SWEEP_AFTER_MS: '2000' },
    });
    await h.db.query(`INSERT INTO groups (id, name, type, fields) VALUES
      ('a', 'A', 'mobile', '{mobile,name}'), ('b', 'B', 'email', '{email,name}')`);
  });
  afterAll(async () => {
    for (const d of daemons) await d.kill();
    await h?.close();
  });

  it('loses no change and duplicates no contact over a run of 10,000 changes', async () => {
    const daemon = new DaemonProcess(h.env);
    daemons.push(daemon);
    daemon.start();
    let stop = false;
    const killer = (async () => {
      let kills = 0;
      while (!stop) {
        await new Promise((r) => setTimeout(r, 2_000 + Math.random() * 1_500));
        if (stop) break;
        await daemon.kill('SIGKILL');
        kills++;
        daemon.start();
      }
      return kills;
    })();
    // ≥10,000 changes (memberships added, contacts updated, memberships deleted) in many transactions.
    let changes = 0;
    for (let round = 0; round < 24; round++) {
      const base = round * 200;
      const client = await h.db.connect();
      try {
        await client.query('BEGIN');
        await client.query(`INSERT INTO contacts (id, mobile, email, attributes)
          SELECT 'c' || i, '3480' || lpad(i::text, 7, '0'), 'u' || i || '@example.com', jsonb_build_object('name', 'N' || i)
          FROM generate_series(${base + 1}, ${base + 200}) i`);
        changes +=
          (
            await client.query(
              `INSERT INTO group_members SELECT 'a', 'c' || i FROM generate_series(${base + 1}, ${base + 200}) i`,
            )
          ).rowCount ?? 0;
        changes +=
          (
            await client.query(
              `INSERT INTO group_members SELECT 'b', 'c' || i FROM generate_series(${base + 1}, ${base + 100}) i`,
            )
          ).rowCount ?? 0;
        await client.query('COMMIT');
      } finally {
        client.release();
      }
      changes +=
        (
          await h.db
            .query(`UPDATE contacts SET attributes = jsonb_build_object('name', 'R${round}-' || id)
        WHERE id IN (SELECT 'c' || i FROM generate_series(1, ${base + 100}) i WHERE i % 5 = ${round % 5})`)
        ).rowCount ?? 0;
      changes +=
        (
          await h.db.query(`DELETE FROM group_members WHERE group_id = 'a'
        AND contact_id IN (SELECT 'c' || i FROM generate_series(${base + 1}, ${base + 10}) i)`)
        ).rowCount ?? 0;
      await new Promise((r) => setTimeout(r, 700));
    }
    stop = true;
    const kills = await killer;
    expect(changes).toBeGreaterThanOrEqual(10_000);
    expect(kills).toBeGreaterThanOrEqual(3);
    await waitFor(() => drained(h), 150_000, 'convergence after the kills');
    expect(await compareWithEmulator(h)).toEqual([]);
  }, 300_000);
});
