-- pgbench: what PostgreSQL alone does for one authenticated case read.
-- Same work as GET /api/v1/cases/{id} in database terms: the session by its
-- key, the case with its sealed fields and data key by its key, one audit
-- record, commit. Variables (-D): nsess, ncases, org, user, h32.
\set s random(1, :nsess)
\set i random(1, :ncases)
BEGIN;
SELECT u.id, u.username, u.role, u.must_change_password, o.id, o.name,
    o.kind, o.region
  FROM bench_sessions b JOIN sessions s ON s.token_hash = b.token_hash
  JOIN users u ON u.id = s.user_id
  JOIN organisations o ON o.id = u.organisation_id
  WHERE b.n = :s AND u.active AND s.expires_at > now();
SELECT c.id, c.reference, c.stage, c.version, c.lead_organisation_id, o.name,
    o.kind, to_char(c.opened_at AT TIME ZONE 'UTC',
      'YYYY-MM-DD"T"HH24' || chr(58) || 'MI' || chr(58) || 'SS"Z"'), c.sex, c.age_band, c.clear::text,
    c.erased_at IS NOT NULL, k.wrapped,
    (SELECT coalesce(json_object_agg(field, encode(value, 'hex')), '{}')::text
       FROM case_fields WHERE case_id = c.id)
  FROM bench_cases b JOIN cases c ON c.id = b.case_id
  JOIN organisations o ON o.id = c.lead_organisation_id
  LEFT JOIN case_keys k ON k.case_id = c.id
  WHERE b.n = :i;
INSERT INTO bench_audit (chain, seq, at_us, at, user_id, organisation_id,
    action, resource_type, resource_id, fields, address, detail, prev_hash,
    hash)
  VALUES (:org, nextval('bench_audit_seq'),
    (extract(epoch FROM clock_timestamp()) * 1000000)::bigint, now(), :user,
    :org, 'case.read', 'case', md5(:i::text)::uuid::text,
    '{victim.given_name,victim.family_name,victim.phone}', '127.0.0.1', NULL,
    decode(:h32, 'hex'), decode(:h32, 'hex'));
COMMIT;
