-- The referral workflow: consents, referrals, the case's timeline (with
-- transitions, notes, services delivered and the justice track). Free text
-- is sealed under the case key like every identifying field; codes, dates
-- and states stay clear for routing and statistics.

ALTER TABLE cases ADD COLUMN justice_status text NOT NULL DEFAULT 'none';

CREATE TABLE consents (
	id uuid PRIMARY KEY,
	case_id uuid NOT NULL REFERENCES cases (id),
	scope text NOT NULL,
	given_by text NOT NULL CHECK (given_by IN ('victim', 'guardian')),
	given_on date NOT NULL,
	note bytea,			-- sealed
	recorded_by uuid NOT NULL REFERENCES users (id),
	organisation_id uuid NOT NULL REFERENCES organisations (id),
	recorded_at timestamptz NOT NULL DEFAULT now(),
	withdrawn_at timestamptz,
	withdrawn_by uuid REFERENCES users (id)
);
CREATE INDEX consents_case_idx ON consents (case_id);

CREATE TABLE referrals (
	id uuid PRIMARY KEY,
	case_id uuid NOT NULL REFERENCES cases (id),
	from_organisation_id uuid NOT NULL REFERENCES organisations (id),
	to_organisation_id uuid NOT NULL REFERENCES organisations (id),
	service text NOT NULL,
	urgency text NOT NULL,
	consent_id uuid REFERENCES consents (id),
	note bytea,			-- sealed
	status text NOT NULL DEFAULT 'pending' CHECK (status IN
	    ('pending', 'accepted', 'declined', 'withdrawn', 'completed')),
	respond_by timestamptz NOT NULL,
	created_by uuid NOT NULL REFERENCES users (id),
	created_at timestamptz NOT NULL DEFAULT now(),
	answered_at timestamptz,
	answered_by uuid REFERENCES users (id),
	decline_reason text,		-- a SOP code, for statistics
	closed_note bytea,		-- sealed: decline, withdrawal, completion
	closed_at timestamptz,
	closed_reason text		-- "consent_withdrawn", ...
);
CREATE INDEX referrals_case_idx ON referrals (case_id);
CREATE INDEX referrals_to_idx ON referrals (to_organisation_id, status);
CREATE INDEX referrals_from_idx ON referrals (from_organisation_id, status);
CREATE INDEX referrals_pending_due_idx ON referrals (respond_by)
    WHERE status = 'pending';
-- One pending referral per case, receiver and service at a time.
CREATE UNIQUE INDEX referrals_one_pending_idx ON referrals (case_id,
    to_organisation_id, service) WHERE status = 'pending';

ALTER TABLE case_access ADD COLUMN referral_id uuid REFERENCES referrals (id);

-- Everything that happened to a case. detail holds codes only (clear);
-- text is sealed in body. visibility: "case" (every organisation that may
-- see the case, subject to the SOP's grants for category) or
-- "organisation" (only organisation_id).
CREATE TABLE case_events (
	id uuid PRIMARY KEY,
	case_id uuid NOT NULL REFERENCES cases (id),
	at timestamptz NOT NULL DEFAULT now(),
	organisation_id uuid REFERENCES organisations (id),
	user_id uuid REFERENCES users (id),
	kind text NOT NULL,
	category text,			-- note category, service code ...
	visibility text NOT NULL DEFAULT 'case' CHECK (visibility IN
	    ('case', 'organisation')),
	detail jsonb NOT NULL DEFAULT '{}',
	body bytea			-- sealed free text
);
CREATE INDEX case_events_case_idx ON case_events (case_id, at);

-- Services delivered, in clear for statistics (the note is an event body).
CREATE TABLE services_delivered (
	id uuid PRIMARY KEY,
	case_id uuid NOT NULL REFERENCES cases (id),
	organisation_id uuid NOT NULL REFERENCES organisations (id),
	service text NOT NULL,
	delivered_on date NOT NULL,
	recorded_by uuid NOT NULL REFERENCES users (id),
	recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX services_delivered_case_idx ON services_delivered (case_id);
