-- Organisations, accounts, sessions, login throttling and the audit trail.
-- Migrations are append-only: never edit an applied file, add a new one.

CREATE TABLE organisations (
	id uuid PRIMARY KEY,
	name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
	kind text NOT NULL CHECK (kind ~ '^[a-z_]{2,40}$'),
	region text CHECK (region ~ '^[a-z_]{2,40}$'),
	services text[] NOT NULL DEFAULT '{}',
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX organisations_name_key ON organisations (lower(name));

CREATE TABLE users (
	id uuid PRIMARY KEY,
	username text NOT NULL CHECK (username ~ '^[a-z0-9._-]{3,64}$'),
	password_hash text NOT NULL,
	role text NOT NULL CHECK (role IN
	    ('caseworker', 'supervisor', 'analyst', 'auditor', 'admin')),
	organisation_id uuid NOT NULL REFERENCES organisations (id),
	active boolean NOT NULL DEFAULT true,
	must_change_password boolean NOT NULL DEFAULT false,
	created_at timestamptz NOT NULL DEFAULT now(),
	password_changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_username_key ON users (username);
CREATE INDEX users_organisation_idx ON users (organisation_id);

-- Only a keyed hash of each token is kept: a stolen table opens no session.
CREATE TABLE sessions (
	token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
	user_id uuid NOT NULL REFERENCES users (id),
	created_at timestamptz NOT NULL DEFAULT now(),
	last_seen timestamptz NOT NULL DEFAULT now(),
	expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

-- Failed logins, by account name and by client address, each kept only as a
-- keyed hash (a password typed into the user name field must not be kept);
-- in PostgreSQL so that every server sees the same counts.
CREATE TABLE login_failures (
	subject_kind char(1) NOT NULL CHECK (subject_kind IN ('a', 'i')),
	subject bytea NOT NULL CHECK (length(subject) = 32),
	at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_subject_idx
    ON login_failures (subject_kind, subject, at);

-- The audit trail: append-only, hash-chained. One chain per organisation
-- (and one for actions without an organisation), so that concurrent writes
-- of different organisations never wait on one chain head.
CREATE TABLE audit_heads (
	chain uuid PRIMARY KEY,
	seq bigint NOT NULL,
	hash bytea NOT NULL
);

CREATE TABLE audit_log (
	id bigserial PRIMARY KEY,
	chain uuid NOT NULL,
	seq bigint NOT NULL,
	at_us bigint NOT NULL,	-- microseconds since 1970, as hashed
	at timestamptz NOT NULL,
	user_id uuid,
	organisation_id uuid,
	action text NOT NULL,
	resource_type text,
	resource_id text,
	fields text[] NOT NULL DEFAULT '{}',
	address text,
	detail text,		-- JSON, kept as the exact bytes hashed
	prev_hash bytea NOT NULL,
	hash bytea NOT NULL,
	UNIQUE (chain, seq)
);
CREATE INDEX audit_log_user_idx ON audit_log (user_id, id);
CREATE INDEX audit_log_org_idx ON audit_log (organisation_id, id);
CREATE INDEX audit_log_resource_idx ON audit_log (resource_id, id);
CREATE INDEX audit_log_at_idx ON audit_log (at);

CREATE FUNCTION audit_log_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'the audit trail is append-only'
	    USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse();
CREATE TRIGGER audit_heads_no_delete BEFORE DELETE ON audit_heads
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse();
CREATE TRIGGER audit_heads_no_truncate BEFORE TRUNCATE ON audit_heads
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse();
