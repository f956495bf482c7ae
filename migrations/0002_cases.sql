-- Victims' cases. Only coarse categories needed for statistics and routing
-- are kept in clear; every identifying field is a ciphertext in case_fields,
-- sealed under the case's own data key, itself kept only wrapped.

-- The master key the data keys are wrapped under (its public id only). A
-- server whose key file names another key refuses to start, and a key
-- wrapped under a stale key is refused here, so that no case is ever
-- written under a key that a rotation has replaced.
CREATE TABLE master_key (
	singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
	key_id text NOT NULL CHECK (key_id ~ '^[0-9a-f]{8}$'),
	since timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE case_counters (
	year integer PRIMARY KEY,
	last integer NOT NULL
);

CREATE TABLE cases (
	id uuid PRIMARY KEY,
	reference text NOT NULL UNIQUE,
	lead_organisation_id uuid NOT NULL REFERENCES organisations (id),
	created_by uuid REFERENCES users (id),
	stage text NOT NULL,
	version integer NOT NULL DEFAULT 1,
	opened_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	stage_since timestamptz NOT NULL DEFAULT now(),
	-- Clear categories (SOP codes), kept after erasure for statistics.
	sex text,
	age_band text NOT NULL DEFAULT 'unknown',
	is_child boolean NOT NULL DEFAULT false,
	nationality text,
	region text,
	identified_on date,
	identifying_kind text NOT NULL,
	exploitation_types text[] NOT NULL DEFAULT '{}',
	clear jsonb NOT NULL DEFAULT '{}',	-- other clear SOP fields
	erased_at timestamptz
);
CREATE INDEX cases_lead_idx ON cases (lead_organisation_id, opened_at DESC);
CREATE INDEX cases_opened_idx ON cases (opened_at DESC, id DESC);
CREATE INDEX cases_stage_idx ON cases (stage);

CREATE TABLE case_keys (
	case_id uuid PRIMARY KEY REFERENCES cases (id),
	key_id text NOT NULL,
	wrapped bytea NOT NULL
);

CREATE FUNCTION case_keys_current() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.key_id IS DISTINCT FROM (SELECT key_id FROM master_key) THEN
		RAISE EXCEPTION 'data key wrapped under a master key that is not current'
		    USING ERRCODE = 'object_not_in_prerequisite_state';
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER case_keys_current BEFORE INSERT OR UPDATE ON case_keys
    FOR EACH ROW EXECUTE FUNCTION case_keys_current();

-- Keys that must outlive a rotation of the master key (blind indexes, the
-- audit chain): random, kept wrapped like data keys, rewrapped on rotation.
CREATE TABLE stored_keys (
	purpose text PRIMARY KEY CHECK (purpose IN ('blind', 'audit')),
	key_id text NOT NULL,
	wrapped bytea NOT NULL
);
CREATE TRIGGER stored_keys_current BEFORE INSERT OR UPDATE ON stored_keys
    FOR EACH ROW EXECUTE FUNCTION case_keys_current();

-- One ciphertext per encrypted field; the field's name and the case id are
-- bound into it (associated data), so it opens nowhere else.
CREATE TABLE case_fields (
	case_id uuid NOT NULL REFERENCES cases (id),
	field text NOT NULL,	-- "victim.given_name"
	value bytea NOT NULL,
	PRIMARY KEY (case_id, field)
);

-- Blind indexes: truncated keyed hashes of normalised names, so that each
-- value matches several people; candidates are confirmed by decrypting.
CREATE TABLE case_blind (
	case_id uuid NOT NULL REFERENCES cases (id),
	purpose text NOT NULL,	-- "name", "name_dob"
	bucket integer NOT NULL,
	PRIMARY KEY (case_id, purpose)
);
CREATE INDEX case_blind_bucket_idx ON case_blind (purpose, bucket);

-- Which organisations may open a case: the lead, and (later) those with an
-- accepted referral. Ended access is kept, dated, with its reason.
CREATE TABLE case_access (
	case_id uuid NOT NULL REFERENCES cases (id),
	organisation_id uuid NOT NULL REFERENCES organisations (id),
	reason text NOT NULL,	-- "lead", "referral", "former_lead"
	granted_at timestamptz NOT NULL DEFAULT now(),
	ended_at timestamptz,
	ended_reason text
);
CREATE UNIQUE INDEX case_access_open_idx ON case_access (case_id,
    organisation_id) WHERE ended_at IS NULL;
CREATE INDEX case_access_org_idx ON case_access (organisation_id)
    WHERE ended_at IS NULL;

-- Each involved organisation assigns the case to one of its people.
CREATE TABLE case_assignments (
	case_id uuid NOT NULL REFERENCES cases (id),
	organisation_id uuid NOT NULL REFERENCES organisations (id),
	user_id uuid NOT NULL REFERENCES users (id),
	assigned_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (case_id, organisation_id)
);
CREATE INDEX case_assignments_user_idx ON case_assignments (user_id);
