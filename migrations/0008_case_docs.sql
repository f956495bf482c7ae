-- The case read's document: per case, what GET /api/v1/cases/{id} used to
-- gather from six tables on every read (the data key, the sealed fields,
-- the consents in force, referrals, consents, services and timeline),
-- kept as text in one row by triggers on those tables. The read becomes
-- a lookup by key of one row instead of seven subplans: about 60 us of
-- PostgreSQL CPU less per read (docs/benchmarks.md, 24 November, third
-- session), paid instead by the writes, which read far less often.
--
-- Writes keep reading the tables themselves, so that every answer to a
-- write is a check of the document (itest_workflow compares the read with
-- the write answers byte for byte), and `case_docs_put(ids, 'all')` makes
-- a document again from the tables (the read does so itself when one is
-- missing). The document holds what the tables hold: sealed values stay
-- sealed, and erasing a case's tables erases its document through the
-- same triggers.
--
-- Columns, in the read's row (server/cases/internal.h, COL_*): wrapped is
-- case_keys.wrapped; fields is "path:hex,..." of case_fields; scopes the
-- JSON array of the scopes of consents in force; referrals, consents,
-- services and events JSON arrays of rows of texts, in the columns of
-- server/cases/workflow.c (R_*, and the other lists). In referrals, the
-- overdue column holds the respond_by of a pending referral in
-- microseconds since the epoch (NULL otherwise): the reader compares it
-- with its transaction's now(), since time moves and the document does not.

CREATE TABLE case_docs (
	case_id uuid PRIMARY KEY REFERENCES cases (id),
	wrapped bytea,
	fields text NOT NULL DEFAULT '',
	scopes text NOT NULL DEFAULT '[]',
	referrals text NOT NULL DEFAULT '[]',
	consents text NOT NULL DEFAULT '[]',
	services text NOT NULL DEFAULT '[]',
	events text NOT NULL DEFAULT '[]'
);

-- Makes the parts named by what ('all', 'wrapped', 'fields', 'consents',
-- 'referrals', 'services', 'events') of the documents of cases ids again,
-- from the tables. The rows are locked first, in one order, and the parts
-- computed by the next statements: under READ COMMITTED each sees what a
-- writer that held the lock before committed, so that two transactions
-- writing to one case cannot leave a document without the other's rows.
-- Generic plans: with an array for parameter, PostgreSQL's plan cache
-- otherwise plans every call anew (a referral's part measured 227 us a
-- call so, 64 us with the cached plan).
CREATE FUNCTION case_docs_put(ids uuid[], what text) RETURNS void
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
BEGIN
	IF ids IS NULL OR cardinality(ids) = 0 THEN
		RETURN;
	END IF;
	PERFORM 1 FROM case_docs WHERE case_id = ANY (ids)
	    ORDER BY case_id FOR UPDATE;
	IF what IN ('all', 'wrapped') THEN
		INSERT INTO case_docs (case_id, wrapped)
		SELECT c.id, k.wrapped FROM cases c
		    LEFT JOIN case_keys k ON k.case_id = c.id
		    WHERE c.id = ANY (ids)
		ON CONFLICT (case_id) DO UPDATE SET wrapped = EXCLUDED.wrapped;
	END IF;
	IF what IN ('all', 'fields') THEN
		INSERT INTO case_docs (case_id, fields)
		SELECT c.id, (SELECT coalesce(string_agg(f.field || ':' ||
		    encode(f.value, 'hex'), ',' ORDER BY f.field), '')
		    FROM case_fields f WHERE f.case_id = c.id)
		    FROM cases c WHERE c.id = ANY (ids)
		ON CONFLICT (case_id) DO UPDATE SET fields = EXCLUDED.fields;
	END IF;
	IF what IN ('all', 'consents') THEN
		INSERT INTO case_docs (case_id, scopes, consents)
		SELECT c.id,
		    (SELECT coalesce(array_to_json(array_agg(DISTINCT n.scope)),
		    '[]')::text FROM consents n WHERE n.case_id = c.id AND
		    n.withdrawn_at IS NULL),
		    (SELECT coalesce(json_agg(json_build_array(n.id::text,
		    n.scope::text, n.given_by::text,
		    to_char(n.given_on, 'YYYY-MM-DD'),
		    to_char(n.recorded_at AT TIME ZONE 'UTC',
		    'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
		    to_char(n.withdrawn_at AT TIME ZONE 'UTC',
		    'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
		    n.organisation_id::text, encode(n.note, 'hex'))
		    ORDER BY n.recorded_at), '[]')::text
		    FROM consents n WHERE n.case_id = c.id)
		    FROM cases c WHERE c.id = ANY (ids)
		ON CONFLICT (case_id) DO UPDATE SET scopes = EXCLUDED.scopes,
		    consents = EXCLUDED.consents;
	END IF;
	IF what IN ('all', 'referrals') THEN
		INSERT INTO case_docs (case_id, referrals)
		SELECT c.id, (SELECT coalesce(json_agg(json_build_array(
		    r.id::text, r.case_id::text, c.reference::text,
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
		    c.sex::text, c.age_band::text, left(c.is_child::text, 1),
		    coalesce(c.clear -> 'identification.urgent_needs',
		    '[]')::text, 't') ORDER BY r.created_at), '[]')::text
		    FROM referrals r
		    JOIN organisations fo ON fo.id = r.from_organisation_id
		    JOIN organisations tob ON tob.id = r.to_organisation_id
		    WHERE r.case_id = c.id)
		    FROM cases c WHERE c.id = ANY (ids)
		ON CONFLICT (case_id) DO UPDATE SET referrals = EXCLUDED.referrals;
	END IF;
	IF what IN ('all', 'services') THEN
		INSERT INTO case_docs (case_id, services)
		SELECT c.id, (SELECT coalesce(json_agg(json_build_array(
		    s.id::text, s.service::text,
		    to_char(s.delivered_on, 'YYYY-MM-DD'),
		    s.organisation_id::text, so.name::text)
		    ORDER BY s.delivered_on, s.recorded_at), '[]')::text
		    FROM services_delivered s
		    JOIN organisations so ON so.id = s.organisation_id
		    WHERE s.case_id = c.id)
		    FROM cases c WHERE c.id = ANY (ids)
		ON CONFLICT (case_id) DO UPDATE SET services = EXCLUDED.services;
	END IF;
	IF what IN ('all', 'events') THEN
		INSERT INTO case_docs (case_id, events)
		SELECT c.id, (SELECT coalesce(json_agg(json_build_array(
		    e.id::text, to_char(e.at AT TIME ZONE 'UTC',
		    'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
		    e.organisation_id::text, eo.name::text, e.user_id::text,
		    e.kind::text, e.category::text, e.visibility::text,
		    e.detail::text, encode(e.body, 'hex'))
		    ORDER BY e.at, e.id), '[]')::text
		    FROM case_events e
		    LEFT JOIN organisations eo ON eo.id = e.organisation_id
		    WHERE e.case_id = c.id)
		    FROM cases c WHERE c.id = ANY (ids)
		ON CONFLICT (case_id) DO UPDATE SET events = EXCLUDED.events;
	END IF;
END
$$;

-- One trigger function per part, on each statement that changes its
-- table (INSERT, UPDATE and DELETE each have a trigger: a transition
-- table serves one event), with the cases it touched.
CREATE FUNCTION case_docs_on_keys() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM case_docs_put(ARRAY(SELECT DISTINCT case_id FROM changed),
	    'wrapped');
	RETURN NULL;
END
$$;
CREATE FUNCTION case_docs_on_fields() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM case_docs_put(ARRAY(SELECT DISTINCT case_id FROM changed),
	    'fields');
	RETURN NULL;
END
$$;
CREATE FUNCTION case_docs_on_consents() RETURNS trigger LANGUAGE plpgsql
AS $$
BEGIN
	PERFORM case_docs_put(ARRAY(SELECT DISTINCT case_id FROM changed),
	    'consents');
	RETURN NULL;
END
$$;
CREATE FUNCTION case_docs_on_referrals() RETURNS trigger LANGUAGE plpgsql
AS $$
BEGIN
	PERFORM case_docs_put(ARRAY(SELECT DISTINCT case_id FROM changed),
	    'referrals');
	RETURN NULL;
END
$$;
CREATE FUNCTION case_docs_on_services() RETURNS trigger LANGUAGE plpgsql
AS $$
BEGIN
	PERFORM case_docs_put(ARRAY(SELECT DISTINCT case_id FROM changed),
	    'services');
	RETURN NULL;
END
$$;
CREATE FUNCTION case_docs_on_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM case_docs_put(ARRAY(SELECT DISTINCT case_id FROM changed),
	    'events');
	RETURN NULL;
END
$$;

CREATE TRIGGER case_docs_keys_ins AFTER INSERT ON case_keys
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT
    EXECUTE FUNCTION case_docs_on_keys();
CREATE TRIGGER case_docs_keys_upd AFTER UPDATE ON case_keys
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT
    EXECUTE FUNCTION case_docs_on_keys();
CREATE TRIGGER case_docs_keys_del AFTER DELETE ON case_keys
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT
    EXECUTE FUNCTION case_docs_on_keys();
CREATE TRIGGER case_docs_fields_ins AFTER INSERT ON case_fields
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT
    EXECUTE FUNCTION case_docs_on_fields();
CREATE TRIGGER case_docs_fields_upd AFTER UPDATE ON case_fields
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT
    EXECUTE FUNCTION case_docs_on_fields();
CREATE TRIGGER case_docs_fields_del AFTER DELETE ON case_fields
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT
    EXECUTE FUNCTION case_docs_on_fields();
CREATE TRIGGER case_docs_consents_ins AFTER INSERT ON consents
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT
    EXECUTE FUNCTION case_docs_on_consents();
CREATE TRIGGER case_docs_consents_upd AFTER UPDATE ON consents
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT
    EXECUTE FUNCTION case_docs_on_consents();
CREATE TRIGGER case_docs_consents_del AFTER DELETE ON consents
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT
    EXECUTE FUNCTION case_docs_on_consents();
CREATE TRIGGER case_docs_referrals_ins AFTER INSERT ON referrals
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT
    EXECUTE FUNCTION case_docs_on_referrals();
CREATE TRIGGER case_docs_referrals_upd AFTER UPDATE ON referrals
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT
    EXECUTE FUNCTION case_docs_on_referrals();
CREATE TRIGGER case_docs_referrals_del AFTER DELETE ON referrals
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT
    EXECUTE FUNCTION case_docs_on_referrals();
CREATE TRIGGER case_docs_services_ins AFTER INSERT ON services_delivered
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT
    EXECUTE FUNCTION case_docs_on_services();
CREATE TRIGGER case_docs_services_upd AFTER UPDATE ON services_delivered
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT
    EXECUTE FUNCTION case_docs_on_services();
CREATE TRIGGER case_docs_services_del AFTER DELETE ON services_delivered
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT
    EXECUTE FUNCTION case_docs_on_services();
CREATE TRIGGER case_docs_events_ins AFTER INSERT ON case_events
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT
    EXECUTE FUNCTION case_docs_on_events();
CREATE TRIGGER case_docs_events_upd AFTER UPDATE ON case_events
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT
    EXECUTE FUNCTION case_docs_on_events();
CREATE TRIGGER case_docs_events_del AFTER DELETE ON case_events
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT
    EXECUTE FUNCTION case_docs_on_events();

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
