-- The case read's document: per case, what GET /api/v1/cases/{id} used to
-- gather from five tables on every read (the sealed fields, the consents
-- in force, referrals, consents, services and timeline), kept as text in
-- one row by triggers on those tables. The read becomes a lookup by key
-- of one row instead of six subplans: about 60 us of PostgreSQL CPU less
-- per read (docs/benchmarks.md, 24 November, third session), paid instead
-- by the writes, which are far rarer than reads.
--
-- Writes keep reading the tables themselves, so that every answer to a
-- write is a check of the document (itest_workflow compares the read with
-- the write answers byte for byte), and `case_docs_put(ids, 'all')` makes
-- a document again from the tables (the read does so itself when one is
-- missing). The document holds what the tables hold: sealed values stay
-- sealed, and erasing a case's tables erases its document through the
-- same triggers. The case's wrapped data key stays in case_keys only (the
-- read joins it): every version of a document is a copy in the WAL, and
-- the key is what erasure destroys; a key rotation then touches no
-- document either.
--
-- Columns, in the read's row (server/cases/internal.h, COL_*): fields is
-- "path:hex,..." of case_fields; scopes the JSON array of the scopes of
-- consents in force; referrals, consents, services and events JSON arrays
-- of rows of texts, in the columns of server/cases/workflow.c (R_*, and
-- the other lists). In referrals, the overdue column holds the respond_by
-- of a pending referral in microseconds since the epoch (NULL otherwise):
-- the reader compares it with its transaction's now(), since time moves
-- and the document does not.

CREATE TABLE case_docs (
	case_id uuid PRIMARY KEY REFERENCES cases (id),
	fields text NOT NULL DEFAULT '',
	scopes text NOT NULL DEFAULT '[]',
	referrals text NOT NULL DEFAULT '[]',
	consents text NOT NULL DEFAULT '[]',
	services text NOT NULL DEFAULT '[]',
	events text NOT NULL DEFAULT '[]'
);

-- Each part of one case's document, as the read used to compute it. In
-- PL/pgSQL, so that a session plans each once (a SQL function's body is
-- planned again at every call).
CREATE FUNCTION case_doc_fields(cid uuid) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN (SELECT coalesce(string_agg(f.field || ':' ||
	    encode(f.value, 'hex'), ',' ORDER BY f.field), '')
	    FROM case_fields f WHERE f.case_id = cid);
END
$$;
CREATE FUNCTION case_doc_scopes(cid uuid) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN (SELECT coalesce(array_to_json(array_agg(DISTINCT n.scope)),
	    '[]')::text FROM consents n WHERE n.case_id = cid AND
	    n.withdrawn_at IS NULL);
END
$$;
CREATE FUNCTION case_doc_consents(cid uuid) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN (SELECT coalesce(json_agg(json_build_array(n.id::text,
	    n.scope::text, n.given_by::text, to_char(n.given_on, 'YYYY-MM-DD'),
	    to_char(n.recorded_at AT TIME ZONE 'UTC',
	    'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
	    to_char(n.withdrawn_at AT TIME ZONE 'UTC',
	    'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
	    n.organisation_id::text, encode(n.note, 'hex'))
	    ORDER BY n.recorded_at), '[]')::text
	    FROM consents n WHERE n.case_id = cid);
END
$$;
-- A referral carries its case's reference, sex, age band, childhood and
-- urgent needs (cs, the case's row).
CREATE FUNCTION case_doc_referrals(cs cases) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN (SELECT coalesce(json_agg(json_build_array(
	    r.id::text, r.case_id::text, cs.reference::text,
	    r.from_organisation_id::text, fo.name::text, fo.kind::text,
	    r.to_organisation_id::text, tob.name::text, tob.kind::text,
	    r.service::text, r.urgency::text, r.status::text,
	    to_char(r.respond_by AT TIME ZONE 'UTC',
	    'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
	    to_char(r.created_at AT TIME ZONE 'UTC',
	    'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
	    to_char(r.answered_at AT TIME ZONE 'UTC',
	    'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
	    r.decline_reason::text, r.closed_reason::text,
	    CASE WHEN r.status = 'pending' THEN (extract(epoch FROM
	    r.respond_by) * 1000000)::bigint::text END,
	    cs.sex::text, cs.age_band::text, left(cs.is_child::text, 1),
	    coalesce(cs.clear -> 'identification.urgent_needs', '[]')::text,
	    't') ORDER BY r.created_at), '[]')::text
	    FROM referrals r
	    JOIN organisations fo ON fo.id = r.from_organisation_id
	    JOIN organisations tob ON tob.id = r.to_organisation_id
	    WHERE r.case_id = cs.id);
END
$$;
CREATE FUNCTION case_doc_services(cid uuid) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN (SELECT coalesce(json_agg(json_build_array(s.id::text,
	    s.service::text, to_char(s.delivered_on, 'YYYY-MM-DD'),
	    s.organisation_id::text, so.name::text)
	    ORDER BY s.delivered_on, s.recorded_at), '[]')::text
	    FROM services_delivered s
	    JOIN organisations so ON so.id = s.organisation_id
	    WHERE s.case_id = cid);
END
$$;
CREATE FUNCTION case_doc_events(cid uuid) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN (SELECT coalesce(json_agg(json_build_array(e.id::text,
	    to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
	    e.organisation_id::text, eo.name::text, e.user_id::text,
	    e.kind::text, e.category::text, e.visibility::text,
	    e.detail::text, encode(e.body, 'hex'))
	    ORDER BY e.at, e.id), '[]')::text
	    FROM case_events e
	    LEFT JOIN organisations eo ON eo.id = e.organisation_id
	    WHERE e.case_id = cid);
END
$$;

-- Makes the part named by what ('all', 'fields', 'consents',
-- 'referrals', 'services', 'events') of the documents of cases ids again,
-- from the tables.
-- - A case without a document gets one first, and all its parts: a part
--   alone would make a document that looks whole.
-- - The rows are then locked (the insert already waits for a writer
--   whose document row is not committed) and the parts computed by the
--   statements after the lock: under READ COMMITTED each sees what a
--   writer that held the lock before committed, so that two transactions
--   writing to one case cannot leave its document without the other's
--   rows. Every write locks its case before it writes (begin_write,
--   wf_referral_peek, read_row), so that no two take a case and its
--   document in opposite orders.
-- - Generic plans: with an array for parameter, PostgreSQL's plan cache
--   otherwise plans every call anew (a referral's part measured 227 us a
--   call so, 64 us with the cached plan).
CREATE FUNCTION case_docs_put(ids uuid[], what text) RETURNS void
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
	fresh uuid[];
BEGIN
	IF ids IS NULL OR cardinality(ids) = 0 THEN
		RETURN;
	END IF;
	WITH i AS (INSERT INTO case_docs (case_id)
	    SELECT id FROM cases WHERE id = ANY (ids)
	    ON CONFLICT (case_id) DO NOTHING RETURNING case_id)
	SELECT coalesce(array_agg(case_id), '{}') INTO fresh FROM i;
	PERFORM 1 FROM case_docs WHERE case_id = ANY (ids)
	    ORDER BY case_id FOR UPDATE;
	IF what = 'all' OR cardinality(fresh) > 0 THEN
		UPDATE case_docs d SET fields = case_doc_fields(c.id),
		    scopes = case_doc_scopes(c.id),
		    consents = case_doc_consents(c.id),
		    referrals = case_doc_referrals(c),
		    services = case_doc_services(c.id),
		    events = case_doc_events(c.id)
		    FROM cases c WHERE c.id = d.case_id AND
		    d.case_id = ANY (CASE WHEN what = 'all' THEN ids ELSE fresh END);
		IF what = 'all' THEN
			RETURN;
		END IF;
	END IF;
	IF what = 'fields' THEN
		UPDATE case_docs SET fields = case_doc_fields(case_id)
		    WHERE case_id = ANY (ids);
	ELSIF what = 'consents' THEN
		UPDATE case_docs SET scopes = case_doc_scopes(case_id),
		    consents = case_doc_consents(case_id)
		    WHERE case_id = ANY (ids);
	ELSIF what = 'referrals' THEN
		UPDATE case_docs d SET referrals = case_doc_referrals(c)
		    FROM cases c WHERE c.id = d.case_id AND
		    d.case_id = ANY (ids);
	ELSIF what = 'services' THEN
		UPDATE case_docs SET services = case_doc_services(case_id)
		    WHERE case_id = ANY (ids);
	ELSIF what = 'events' THEN
		UPDATE case_docs SET events = case_doc_events(case_id)
		    WHERE case_id = ANY (ids);
	ELSE
		RAISE EXCEPTION 'case_docs_put: no part %', what;
	END IF;
END
$$;

-- The triggers of the five tables: on each statement that changes one
-- (the part it feeds in TG_ARGV[0]), the cases of its rows, before and
-- after an UPDATE. A TRUNCATE makes every document again.
CREATE FUNCTION case_docs_on_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'TRUNCATE' THEN
		PERFORM case_docs_put(ARRAY(SELECT id FROM cases), 'all');
	ELSIF TG_OP = 'UPDATE' THEN
		PERFORM case_docs_put(ARRAY(SELECT case_id FROM changed
		    UNION SELECT case_id FROM before), TG_ARGV[0]);
	ELSE
		PERFORM case_docs_put(ARRAY(SELECT DISTINCT case_id
		    FROM changed), TG_ARGV[0]);
	END IF;
	RETURN NULL;
END
$$;

DO $$
DECLARE
	t record;
BEGIN
	FOR t IN SELECT * FROM (VALUES ('case_fields', 'fields'), ('consents', 'consents'),
	    ('referrals', 'referrals'), ('services_delivered', 'services'),
	    ('case_events', 'events')) AS v(tab, part) LOOP
		EXECUTE format('CREATE TRIGGER case_docs_ins AFTER INSERT ON %I '
		    'REFERENCING NEW TABLE AS changed FOR EACH STATEMENT '
		    'EXECUTE FUNCTION case_docs_on_rows(%L)', t.tab, t.part);
		EXECUTE format('CREATE TRIGGER case_docs_upd AFTER UPDATE ON %I '
		    'REFERENCING OLD TABLE AS before NEW TABLE AS changed '
		    'FOR EACH STATEMENT EXECUTE FUNCTION case_docs_on_rows(%L)',
		    t.tab, t.part);
		EXECUTE format('CREATE TRIGGER case_docs_del AFTER DELETE ON %I '
		    'REFERENCING OLD TABLE AS changed FOR EACH STATEMENT '
		    'EXECUTE FUNCTION case_docs_on_rows(%L)', t.tab, t.part);
		EXECUTE format('CREATE TRIGGER case_docs_truncate AFTER TRUNCATE '
		    'ON %I FOR EACH STATEMENT EXECUTE FUNCTION '
		    'case_docs_on_rows(%L)', t.tab, t.part);
	END LOOP;
END
$$;

-- A new case gets its document: the defaults are the parts of a case with
-- no rows in the other tables, and the triggers of the rows its statement
-- also wrote make their parts. A referral carries the case's reference,
-- sex, age band, childhood and urgent needs, so a change to those makes
-- its referrals again.
CREATE FUNCTION case_docs_on_cases_ins() RETURNS trigger LANGUAGE plpgsql
AS $$
BEGIN
	INSERT INTO case_docs (case_id) SELECT id FROM changed
	    ON CONFLICT (case_id) DO NOTHING;
	RETURN NULL;
END
$$;
CREATE FUNCTION case_docs_on_cases_upd() RETURNS trigger LANGUAGE plpgsql
AS $$
BEGIN
	PERFORM case_docs_put(ARRAY(SELECT n.id FROM changed n
	    JOIN before o ON o.id = n.id
	    WHERE n.reference IS DISTINCT FROM o.reference OR
	    n.sex IS DISTINCT FROM o.sex OR
	    n.age_band IS DISTINCT FROM o.age_band OR
	    n.is_child IS DISTINCT FROM o.is_child OR
	    (n.clear -> 'identification.urgent_needs') IS DISTINCT FROM
	    (o.clear -> 'identification.urgent_needs')), 'referrals');
	RETURN NULL;
END
$$;
CREATE TRIGGER case_docs_cases_ins AFTER INSERT ON cases
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT
    EXECUTE FUNCTION case_docs_on_cases_ins();
CREATE TRIGGER case_docs_cases_upd AFTER UPDATE ON cases
    REFERENCING OLD TABLE AS before NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION case_docs_on_cases_upd();

-- Organisations' names and kinds are in referrals, services and events.
-- The documents are locked against writers first (EXCLUSIVE; the read's
-- plain SELECT goes on): a writer that made a document with the old name
-- has committed before the cases to make again are looked for, and one
-- that comes after waits, then reads the new name. Locking the three
-- tables instead deadlocked with a writer that had made its document and
-- was about to write its timeline event.
CREATE FUNCTION case_docs_on_orgs() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	orgs uuid[] := ARRAY(SELECT n.id FROM changed n JOIN before o
	    ON o.id = n.id WHERE n.name IS DISTINCT FROM o.name OR
	    n.kind IS DISTINCT FROM o.kind);
	ids uuid[];
BEGIN
	IF cardinality(orgs) = 0 THEN
		RETURN NULL;
	END IF;
	LOCK TABLE case_docs IN EXCLUSIVE MODE;
	ids := ARRAY(SELECT case_id FROM referrals WHERE
	    from_organisation_id = ANY (orgs) OR to_organisation_id = ANY (orgs)
	    UNION SELECT case_id FROM services_delivered WHERE
	    organisation_id = ANY (orgs)
	    UNION SELECT case_id FROM case_events WHERE
	    organisation_id = ANY (orgs));
	PERFORM case_docs_put(ids, 'referrals');
	PERFORM case_docs_put(ids, 'services');
	PERFORM case_docs_put(ids, 'events');
	RETURN NULL;
END
$$;
CREATE TRIGGER case_docs_orgs_upd AFTER UPDATE ON organisations
    REFERENCING OLD TABLE AS before NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION case_docs_on_orgs();

-- Every case that exists gets its document.
SELECT case_docs_put(ARRAY(SELECT id FROM cases), 'all');
