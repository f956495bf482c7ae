-- pgbench: what PostgreSQL alone does for one case registration.
-- Same work as POST /api/v1/cases in database terms: the session by its key;
-- the duplicate candidates of a common name (the server's query, for the
-- bucket of an existing case) and the audit record of that check; then, in
-- one statement, the year's reference counter, the case, its wrapped data
-- key, two sealed fields, its blind index, the lead's access and assignment,
-- the timeline event and the audit record; commit. The counter's row is
-- locked until commit, so every registration in the country waits for the
-- one before: taking it last keeps that wait to the commit itself, which is
-- the best the database can do with gapless references.
-- Variables (-D): nsess, ncases, org, user, kind, year, keyid, wrapped,
-- given, family, h32.
\set s random(1, :nsess)
\set i random(1, :ncases)
BEGIN;
SELECT u.id, u.username, u.role, u.must_change_password, o.id, o.name,
    o.kind, o.region
  FROM bench_sessions b JOIN sessions s ON s.token_hash = b.token_hash
  JOIN users u ON u.id = s.user_id
  JOIN organisations o ON o.id = u.organisation_id
  WHERE b.n = :s AND u.active AND s.expires_at > now();
SELECT c.id, c.reference, k.wrapped, encode(gn.value, 'hex'),
    encode(fn.value, 'hex'), encode(dob.value, 'hex'),
    EXISTS (SELECT 1 FROM case_access a WHERE a.case_id = c.id AND
      a.organisation_id = :org AND a.ended_at IS NULL)
  FROM case_blind b JOIN cases c ON c.id = b.case_id
  JOIN case_keys k ON k.case_id = c.id
  LEFT JOIN case_fields gn ON gn.case_id = c.id
    AND gn.field = 'victim.given_name'
  LEFT JOIN case_fields fn ON fn.case_id = c.id
    AND fn.field = 'victim.family_name'
  LEFT JOIN case_fields dob ON dob.case_id = c.id
    AND dob.field = 'victim.date_of_birth'
  WHERE b.purpose = 'name' AND b.bucket = (SELECT bl.bucket FROM bench_cases x
      JOIN case_blind bl ON bl.case_id = x.case_id AND bl.purpose = 'name'
      WHERE x.n = :i)
    AND c.erased_at IS NULL ORDER BY c.opened_at DESC LIMIT 200;
INSERT INTO bench_audit (chain, seq, at_us, at, user_id, organisation_id,
    action, resource_type, resource_id, fields, address, detail, prev_hash,
    hash)
  VALUES (:org, nextval('bench_audit_seq'),
    (extract(epoch FROM clock_timestamp()) * 1000000)::bigint, now(), :user,
    :org, 'case.duplicate_check', 'case', md5(:i::text)::uuid::text,
    '{victim.given_name,victim.family_name,victim.date_of_birth}',
    '127.0.0.1', '{"candidates": 200, "matches": 150, "shown": 20}',
    decode(:h32, 'hex'), decode(:h32, 'hex'));
WITH n AS (INSERT INTO case_counters (year, last) VALUES (:year, 1)
      ON CONFLICT (year) DO UPDATE SET last = case_counters.last + 1
      RETURNING last),
  c AS (INSERT INTO cases (id, reference, lead_organisation_id, created_by,
      stage, sex, age_band, is_child, nationality, region, identified_on,
      identifying_kind, exploitation_types, clear)
    SELECT gen_random_uuid(), 'PGB-' || :year || '-' || lpad(n.last::text, 6, '0'),
      :org, :user, 'identification', 'female', '25-34', false, NULL, 'bamako',
      current_date, :kind, '{forced_labour}',
      '{"victim.sex": "female", "victim.age_estimate": 30, "identification.date": "2026-01-01", "identification.region": "bamako", "identification.exploitation_types": ["forced_labour"]}'::jsonb
    FROM n RETURNING id),
  k AS (INSERT INTO case_keys (case_id, key_id, wrapped)
    SELECT id, :keyid, decode(:wrapped, 'hex') FROM c),
  f AS (INSERT INTO case_fields (case_id, field, value)
    SELECT c.id, u.field, decode(u.hex, 'hex') FROM c,
      unnest('{victim.given_name,victim.family_name}'::text[],
        ARRAY[:given, :family]::text[]) AS u(field, hex)),
  b AS (INSERT INTO case_blind (case_id, purpose, bucket)
    SELECT id, 'name', 1234 FROM c),
  a AS (INSERT INTO case_access (case_id, organisation_id, reason)
    SELECT id, :org, 'lead' FROM c),
  s AS (INSERT INTO case_assignments (case_id, organisation_id, user_id)
    SELECT id, :org, :user FROM c),
  e AS (INSERT INTO case_events (id, case_id, organisation_id, user_id, kind,
      visibility, detail)
    SELECT gen_random_uuid(), id, :org, :user, 'case.created', 'case',
      '{"stage": "identification"}'::jsonb FROM c)
INSERT INTO bench_audit (chain, seq, at_us, at, user_id, organisation_id,
    action, resource_type, resource_id, fields, address, detail, prev_hash,
    hash)
  SELECT :org, nextval('bench_audit_seq'),
    (extract(epoch FROM clock_timestamp()) * 1000000)::bigint, now(), :user,
    :org, 'case.create', 'case', c.id::text,
    '{victim.given_name,victim.family_name}', '127.0.0.1', NULL,
    decode(:h32, 'hex'), decode(:h32, 'hex') FROM c;
COMMIT;
