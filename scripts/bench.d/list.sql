-- pgbench: what PostgreSQL alone does for one page of the case list.
-- Same work as GET /api/v1/cases in database terms: the session by its key,
-- the server's list query (50 newest cases visible to the organisation, with
-- data keys and sealed names), one audit record naming the 50 cases, commit.
-- Variables (-D): nsess, org, user, h32. (chr(58) is a colon: pgbench would
-- take one in a literal for a variable.)
\set s random(1, :nsess)
BEGIN;
SELECT u.id, u.username, u.role, u.must_change_password, o.id, o.name,
    o.kind, o.region
  FROM bench_sessions b JOIN sessions s ON s.token_hash = b.token_hash
  JOIN users u ON u.id = s.user_id
  JOIN organisations o ON o.id = u.organisation_id
  WHERE b.n = :s AND u.active AND s.expires_at > now();
SELECT c.id, c.reference, c.stage, c.lead_organisation_id, o.name,
    c.age_band, c.sex,
    to_char(c.opened_at AT TIME ZONE 'UTC',
      'YYYY-MM-DD"T"HH24' || chr(58) || 'MI' || chr(58) || 'SS"Z"'),
    k.wrapped, encode(gn.value, 'hex'), encode(fn.value, 'hex'),
    (extract(epoch FROM c.opened_at) * 1000000)::bigint,
    c.erased_at IS NOT NULL
  FROM case_access a JOIN cases c ON c.id = a.case_id
  JOIN organisations o ON o.id = c.lead_organisation_id
  LEFT JOIN case_keys k ON k.case_id = c.id
  LEFT JOIN case_fields gn ON gn.case_id = c.id
    AND gn.field = 'victim.given_name'
  LEFT JOIN case_fields fn ON fn.case_id = c.id
    AND fn.field = 'victim.family_name'
  WHERE a.organisation_id = :org AND a.ended_at IS NULL
  ORDER BY c.opened_at DESC, c.id DESC LIMIT 51;
INSERT INTO bench_audit (chain, seq, at_us, at, user_id, organisation_id,
    action, resource_type, resource_id, fields, address, detail, prev_hash,
    hash)
  VALUES (:org, nextval('bench_audit_seq'),
    (extract(epoch FROM clock_timestamp()) * 1000000)::bigint, now(), :user,
    :org, 'case.list', 'case', NULL,
    '{victim.given_name,victim.family_name}', '127.0.0.1',
    '{"cases":[' || repeat('"' || gen_random_uuid() || '",', 49)
      || '"' || gen_random_uuid() || '"]}',
    decode(:h32, 'hex'), decode(:h32, 'hex'));
COMMIT;
