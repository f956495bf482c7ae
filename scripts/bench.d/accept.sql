-- pgbench: what PostgreSQL alone does for accepting one referral.
-- Same work as POST /api/v1/referrals/{id}/accept in database terms: the
-- session by its key; which case the referral is about; the conditional
-- update of the referral; the receiver's access; the timeline event; the
-- audit record; the referral as answered; commit. Each client accepts its
-- own range of pending referrals (bench_refs, numbered from base + 1), one
-- per transaction. Variables (-D): nsess, base, stride, org (the receiver),
-- user, h32, k=0.
\set k :k + 1
\set n :base + :client_id * :stride + (:k % :stride) + 1
\set s :nsess + random(1, :nsess)
BEGIN;
SELECT u.id, u.username, u.role, u.must_change_password, o.id, o.name,
    o.kind, o.region
  FROM bench_sessions b JOIN sessions s ON s.token_hash = b.token_hash
  JOIN users u ON u.id = s.user_id
  JOIN organisations o ON o.id = u.organisation_id
  WHERE b.n = :s AND u.active AND s.expires_at > now();
SELECT r.id AS rid, r.case_id AS rcase, r.status
  FROM bench_refs b JOIN referrals r ON r.id = b.id
  WHERE b.n = :n AND (r.from_organisation_id = :org OR r.to_organisation_id = :org)
\gset
UPDATE referrals SET status = 'accepted', answered_at = now(),
    answered_by = :user
  WHERE id = :rid AND to_organisation_id = :org AND status = 'pending'
  RETURNING case_id, service;
INSERT INTO case_access (case_id, organisation_id, reason, referral_id)
  VALUES (:rcase, :org, 'referral', :rid)
  ON CONFLICT (case_id, organisation_id) WHERE ended_at IS NULL DO NOTHING;
INSERT INTO case_events (id, case_id, organisation_id, user_id, kind,
    visibility, detail)
  VALUES (gen_random_uuid(), :rcase, :org, :user, 'referral.accepted', 'case',
    jsonb_build_object('referral_id', :rid::text, 'service', 'shelter'));
INSERT INTO bench_audit (chain, seq, at_us, at, user_id, organisation_id,
    action, resource_type, resource_id, fields, address, detail, prev_hash,
    hash)
  VALUES (:org, nextval('bench_audit_seq'),
    (extract(epoch FROM clock_timestamp()) * 1000000)::bigint, now(), :user,
    :org, 'referral.accepted', 'case', :rcase, '{}', '127.0.0.1',
    '{"referral_id":"' || :rid || '","service":"shelter"}',
    decode(:h32, 'hex'), decode(:h32, 'hex'));
SELECT r.id, r.case_id, c.reference, r.from_organisation_id, fo.name, fo.kind,
    r.to_organisation_id, tob.name, tob.kind, r.service, r.urgency, r.status,
    r.respond_by, r.created_at, r.answered_at, r.decline_reason,
    r.closed_reason, (r.status = 'pending' AND r.respond_by < now()),
    c.sex, c.age_band, c.is_child,
    coalesce(c.clear -> 'identification.urgent_needs', '[]')::text,
    EXISTS (SELECT 1 FROM case_access a WHERE a.case_id = r.case_id AND
      a.organisation_id = :org AND a.ended_at IS NULL)
  FROM referrals r JOIN cases c ON c.id = r.case_id
  JOIN organisations fo ON fo.id = r.from_organisation_id
  JOIN organisations tob ON tob.id = r.to_organisation_id
  WHERE r.id = :rid AND (r.from_organisation_id = :org OR r.to_organisation_id = :org);
COMMIT;
