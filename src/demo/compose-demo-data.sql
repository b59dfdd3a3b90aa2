-- Demo dataset for `docker compose up`: the one-shot `demo-data` service runs this with psql
-- against the compose Postgres. Plain SQL, as a CRM would write it; the triggers capture every
-- change and the daemon carries it to the emulator (see http://localhost:8787/__emulator/state).
-- Safe to run again: inserts skip rows that exist.
\set ON_ERROR_STOP on

BEGIN;
INSERT INTO groups (id, name, type, fields) VALUES
  ('demo-customers', 'Customers', 'mobile', '{mobile,name,city}'),
  ('demo-newsletter', 'Newsletter', 'email', '{email,name}'),
  ('demo-vip', 'VIP', 'mobile', '{mobile,name}')
ON CONFLICT (id) DO NOTHING;

INSERT INTO contacts (id, mobile, email, attributes)
SELECT 'c' || i, '3460' || lpad(i::text, 7, '0'), 'user' || i || '@example.com',
       jsonb_build_object('name', 'Customer ' || i,
                          'city', (ARRAY['Madrid', 'Sevilla', 'Bilbao', 'Valencia'])[1 + i % 4])
FROM generate_series(1, 200) i
ON CONFLICT (id) DO NOTHING;

-- Two records that cannot be synced, on purpose: they show up in `afilnet-sync errors` and in
-- GET /status with their reasons, without holding up anyone else.
INSERT INTO contacts (id, mobile, email, attributes) VALUES
  ('bad-no-mobile', NULL, 'nomobile@example.com', '{"name": "No Mobile"}'),
  ('bad-too-long', '34699999999', 'toolong@example.com', jsonb_build_object('name', repeat('x', 300)))
ON CONFLICT (id) DO NOTHING;

INSERT INTO group_members (group_id, contact_id)
SELECT 'demo-customers', id FROM contacts
UNION ALL SELECT 'demo-newsletter', 'c' || i FROM generate_series(2, 200, 2) i
UNION ALL SELECT 'demo-newsletter', id FROM contacts WHERE id LIKE 'bad-%'
UNION ALL SELECT 'demo-vip', 'c' || i FROM generate_series(10, 200, 10) i
ON CONFLICT DO NOTHING;
COMMIT;

-- Changes made before the first sync would be folded into it (the daemon sends current values),
-- so give it a moment: then each change below costs one call per group that shows the field.
SELECT pg_sleep(5);

-- A few day-to-day changes after the load.
UPDATE contacts SET attributes = attributes || '{"name": "Renamed"}' WHERE id IN ('c10', 'c20');
UPDATE contacts SET attributes = attributes || '{"city": "Zaragoza"}' WHERE id = 'c3';
DELETE FROM group_members WHERE group_id = 'demo-customers' AND contact_id = 'c4';

SELECT (SELECT count(*) FROM groups) AS groups, (SELECT count(*) FROM contacts) AS contacts,
       (SELECT count(*) FROM group_members) AS memberships;
