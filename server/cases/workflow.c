/*
 * The referral workflow: consents, referrals between organisations, stage
 * transitions, notes, services delivered, the justice track, the timeline
 * and each organisation's inbox. Every rule comes from the SOP: who may refer
 * to whom for which service with which consent, the deadlines by urgency,
 * the transitions with their conditions, and who may read which note.
 *
 * State changes of a referral are single conditional UPDATEs ("... WHERE
 * status = 'pending'"), so that of two people accepting at once one wins and
 * the other gets 409 with nothing changed. Free text (notes, reasons) is
 * sealed under the case key, bound to its table, column and row.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../audit/audit.h"
#include "../crypto/crypto.h"
#include "../db/db.h"
#include "../log.h"
#include "../sop/sop.h"
#include "../util/jv.h"
#include "internal.h"

#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', " \
	"'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

#define REFERRAL_SELECT \
	"SELECT r.id, r.case_id, c.reference, r.from_organisation_id, " \
	"fo.name, fo.kind, r.to_organisation_id, tob.name, tob.kind, " \
	"r.service, r.urgency, r.status, " TS("r.respond_by") ", " \
	TS("r.created_at") ", " TS("r.answered_at") ", r.decline_reason, " \
	"r.closed_reason, (r.status = 'pending' AND r.respond_by < now()), " \
	"c.sex, c.age_band, c.is_child, " \
	"coalesce(c.clear -> 'identification.urgent_needs', '[]')::text, " \
	"EXISTS (SELECT 1 FROM case_access a WHERE a.case_id = r.case_id AND " \
	"a.organisation_id = $2 AND a.ended_at IS NULL) " \
	"FROM referrals r JOIN cases c ON c.id = r.case_id " \
	"JOIN organisations fo ON fo.id = r.from_organisation_id " \
	"JOIN organisations tob ON tob.id = r.to_organisation_id "

enum {
	R_ID, R_CASE, R_REF, R_FROM, R_FROM_NAME, R_FROM_KIND, R_TO,
	R_TO_NAME, R_TO_KIND, R_SERVICE, R_URGENCY, R_STATUS, R_RESPOND_BY,
	R_CREATED, R_ANSWERED, R_DECLINE, R_CLOSED_REASON, R_OVERDUE, R_SEX,
	R_AGE_BAND, R_CHILD, R_NEEDS, R_ACCESS,
};

/*
 * The read's case row with its referrals, consents, services and timeline
 * as four more columns, each a JSON array of rows of texts in the columns
 * and order of wf_case_referrals, wf_case_consents, wf_case_services and
 * wf_case_events (booleans as libpq's 't'/'f'), these and the sealed
 * fields and consents in force from the case's document (migration 0008):
 * one row by key instead of six subplans, which cost about 60 us of
 * PostgreSQL CPU per read. The data key comes from case_keys. Without
 * access to the case there is no row, and nothing of the document is
 * read. In the referrals, the overdue column holds a pending referral's
 * deadline in microseconds; workflow_pre_from_row compares it with the
 * statement's now() (COL_WF_NOW). The referrals' last column, the
 * caller's access to the case, is true: the row exists only with that
 * access. COL_WF_DOC says whether the case had a document (read_row in
 * cases.c makes a missing one).
 */
#define CASE_DOC_COLS_OF(ORG) \
	CASE_COLS_SRC(ORG, "k.wrapped", "d.fields", "d.scopes") \
	", d.referrals, d.consents, d.services, d.events, " \
	"(extract(epoch FROM now()) * 1000000)::bigint, " \
	"d.case_id IS NOT NULL "
#define CASE_DOC_FROM_OF(ORG) \
	CASE_FROM_SRC(ORG, "LEFT JOIN case_keys k ON k.case_id = c.id " \
	"LEFT JOIN case_docs d ON d.case_id = c.id")

static const struct db_stmt stmts[] = {
	{ "case_read", CASE_DOC_COLS_OF("$2") CASE_DOC_FROM_OF("$2") },
	/*
	 * The same with the session check in one statement, for the read's
	 * one round trip: $2 and $3 are the session's token hash and idle
	 * limit, $4 the "role:kind" pairs that may read a case
	 * (auth_allowed_pairs). The caller's columns come after the case's.
	 * With no live session there is no row; for a caller who must change
	 * their password, whose role may not read cases, or whose
	 * organisation has no access to the case, the case's columns are
	 * NULL: the subquery's one-time filter stops before any of it is read.
	 * The last column says the session's idle clock must move (get_once
	 * runs auth_touch then): the statement itself only reads.
	 */
	{ "case_read_signed", AUTH_SESSION_HIT("$2", "$3")
	    "SELECT cr.*, " AUTH_SESSION_COLS ", hit.stale "
	    "FROM hit LEFT JOIN LATERAL ("
	    CASE_DOC_COLS_OF("hit.oid")
	    CASE_DOC_FROM_OF("hit.oid") " AND NOT hit.must_change_password AND "
	    "(hit.role || ':' || hit.kind) = ANY ($4::text[])) cr ON true" },
	/*
	 * A case's document made again from its tables (read_row), after
	 * the case is locked against writes: a write holds its case, then
	 * its document (migration 0008).
	 */
	{ "case_docs_lock", "SELECT 1 FROM cases WHERE id = $1 FOR KEY SHARE" },
	{ "case_docs_make", "SELECT case_docs_put(ARRAY[$1::uuid], 'all')" },
	{ "wf_event",
	    "INSERT INTO case_events (id, case_id, organisation_id, user_id, "
	    "kind, category, visibility, detail, body) VALUES ($1, $2, $3, $4, "
	    "$5, $6, $7, $8::jsonb, $9)" },
	{ "wf_consent_insert",
	    "INSERT INTO consents (id, case_id, scope, given_by, given_on, note, "
	    "recorded_by, organisation_id) VALUES ($1, $2, $3, $4, $5::date, "
	    "$6, $7, $8)" },
	{ "wf_consent_withdraw",
	    "UPDATE consents SET withdrawn_at = now(), withdrawn_by = $3 "
	    "WHERE id = $1 AND case_id = $2 AND withdrawn_at IS NULL "
	    "RETURNING scope" },
	{ "wf_consent_exists",
	    "SELECT withdrawn_at IS NOT NULL FROM consents WHERE id = $1 AND "
	    "case_id = $2" },
	{ "wf_consent_referrals_withdraw",
	    "UPDATE referrals SET status = 'withdrawn', closed_at = now(), "
	    "closed_reason = 'consent_withdrawn' WHERE consent_id = $1 AND "
	    "status = 'pending' RETURNING id" },
	{ "wf_consent_access_end",
	    "UPDATE case_access a SET ended_at = now(), "
	    "ended_reason = 'consent_withdrawn' FROM referrals r "
	    "WHERE a.referral_id = r.id AND r.consent_id = $1 AND "
	    "a.ended_at IS NULL AND a.reason = 'referral' "
	    "RETURNING a.organisation_id" },
	{ "wf_consent_in_force",
	    "SELECT scope FROM consents WHERE id = $1 AND case_id = $2 AND "
	    "withdrawn_at IS NULL" },
	{ "case_keys_for", "SELECT wrapped FROM case_keys WHERE case_id = $1" },
	{ "wf_org",
	    "SELECT kind, name FROM organisations WHERE id = $1" },
	{ "wf_referral_insert",
	    "INSERT INTO referrals (id, case_id, from_organisation_id, "
	    "to_organisation_id, service, urgency, consent_id, note, respond_by, "
	    "created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
	    "now() + make_interval(hours => $9::int), $10) "
	    "RETURNING " TS("respond_by") },
	/*
	 * The referral's case, locked as every other write locks it first
	 * (begin_write): the referral's UPDATE then moves the case's read
	 * document (migration 0008) under the same order of locks, where
	 * taking the document before the case deadlocked with a note or a
	 * transition on that case.
	 */
	{ "wf_referral_peek",
	    "SELECT r.case_id, r.status FROM referrals r "
	    "JOIN cases c ON c.id = r.case_id WHERE r.id = $1 AND "
	    "(r.from_organisation_id = $2 OR r.to_organisation_id = $2) "
	    "FOR UPDATE OF c" },
	{ "wf_referral_accept",
	    "UPDATE referrals r SET status = 'accepted', answered_at = now(), "
	    "answered_by = $3 WHERE r.id = $1 AND r.to_organisation_id = $2 "
	    "AND r.status = 'pending' AND NOT EXISTS (SELECT 1 FROM cases c "
	    "WHERE c.id = r.case_id AND c.erased_at IS NOT NULL) "
	    "RETURNING case_id, service" },
	{ "wf_referral_decline",
	    "UPDATE referrals SET status = 'declined', answered_at = now(), "
	    "answered_by = $3, decline_reason = $4, closed_note = $5, "
	    "closed_at = now(), closed_reason = 'declined' WHERE id = $1 AND "
	    "to_organisation_id = $2 AND status = 'pending' "
	    "RETURNING case_id, service" },
	{ "wf_referral_withdraw",
	    "UPDATE referrals SET status = 'withdrawn', closed_note = $4, "
	    "closed_at = now(), closed_reason = 'withdrawn' WHERE id = $1 AND "
	    "from_organisation_id = $2 AND status = 'pending' AND $3::uuid IS "
	    "NOT NULL RETURNING case_id, service" },
	{ "wf_referral_complete",
	    "UPDATE referrals SET status = 'completed', closed_note = $4, "
	    "closed_at = now(), closed_reason = 'completed' WHERE id = $1 AND "
	    "to_organisation_id = $2 AND status = 'accepted' AND $3::uuid IS "
	    "NOT NULL RETURNING case_id, service" },
	{ "wf_access_grant",
	    "INSERT INTO case_access (case_id, organisation_id, reason, "
	    "referral_id) VALUES ($1, $2, 'referral', $3) ON CONFLICT "
	    "(case_id, organisation_id) WHERE ended_at IS NULL DO NOTHING" },
	{ "wf_lead_transfer",
	    "WITH old AS (UPDATE case_access SET reason = 'former_lead' "
	    "WHERE case_id = $1 AND reason = 'lead' AND ended_at IS NULL), "
	    "acc AS (UPDATE case_access SET reason = 'lead' WHERE case_id = $1 "
	    "AND organisation_id = $2 AND ended_at IS NULL) "
	    "UPDATE cases SET lead_organisation_id = $2, version = version + 1, "
	    "updated_at = now() WHERE id = $1" },
	{ "wf_referral_get", REFERRAL_SELECT
	    "WHERE r.id = $1 AND (r.from_organisation_id = $2 OR "
	    "r.to_organisation_id = $2)" },
	{ "wf_referral_list", REFERRAL_SELECT
	    "WHERE (($3::text = 'incoming' AND r.to_organisation_id = $2) OR "
	    "($3::text = 'outgoing' AND r.from_organisation_id = $2) OR "
	    "($3::text IS NULL AND (r.to_organisation_id = $2 OR "
	    "r.from_organisation_id = $2))) AND ($4::text IS NULL OR "
	    "r.status = $4) AND ($5::boolean IS NOT TRUE OR (r.status = "
	    "'pending' AND r.respond_by < now())) AND $1::int > 0 "
	    "ORDER BY (r.status = 'pending' AND r.respond_by < now()) DESC, "
	    "(r.status = 'pending') DESC, r.respond_by, r.created_at DESC "
	    "LIMIT $1" },
	{ "wf_case_referrals", REFERRAL_SELECT
	    "WHERE r.case_id = $1 AND $2::uuid IS NOT NULL "
	    "ORDER BY r.created_at" },
	{ "wf_case_consents",
	    "SELECT id, scope, given_by, to_char(given_on, 'YYYY-MM-DD'), "
	    TS("recorded_at") ", " TS("withdrawn_at") ", organisation_id, "
	    "encode(note, 'hex') FROM consents WHERE case_id = $1 "
	    "ORDER BY recorded_at" },
	{ "wf_case_events",
	    "SELECT e.id, " TS("e.at") ", e.organisation_id, o.name, "
	    "e.user_id, e.kind, e.category, e.visibility, e.detail::text, "
	    "encode(e.body, 'hex') FROM case_events e LEFT JOIN organisations o "
	    "ON o.id = e.organisation_id WHERE e.case_id = $1 "
	    "ORDER BY e.at, e.id" },
	{ "wf_case_services",
	    "SELECT s.id, s.service, to_char(s.delivered_on, 'YYYY-MM-DD'), "
	    "s.organisation_id, o.name FROM services_delivered s "
	    "JOIN organisations o ON o.id = s.organisation_id "
	    "WHERE s.case_id = $1 ORDER BY s.delivered_on, s.recorded_at" },
	{ "wf_stage_set",
	    "UPDATE cases SET stage = $3, stage_since = now(), "
	    "version = version + 1, updated_at = now() WHERE id = $1 AND "
	    "version = $2 RETURNING version" },
	{ "wf_justice_set",
	    "UPDATE cases SET justice_status = $2, version = version + 1, "
	    "updated_at = now() WHERE id = $1" },
	{ "wf_service_insert",
	    "INSERT INTO services_delivered (id, case_id, organisation_id, "
	    "service, delivered_on, recorded_by) VALUES ($1, $2, $3, $4, "
	    "$5::date, $6)" },
	{ "wf_inbox",
	    "SELECT (SELECT count(*) FROM referrals WHERE "
	    "to_organisation_id = $1 AND status = 'pending'), "
	    "(SELECT count(*) FROM referrals WHERE (to_organisation_id = $1 OR "
	    "from_organisation_id = $1) AND status = 'pending' AND "
	    "respond_by < now()), "
	    "(SELECT count(DISTINCT r.case_id) FROM referrals r WHERE "
	    "r.status = 'pending' AND r.respond_by < now() AND "
	    "(r.to_organisation_id = $1 OR EXISTS (SELECT 1 FROM case_access a "
	    "WHERE a.case_id = r.case_id AND a.organisation_id = $1 AND "
	    "a.ended_at IS NULL))), "
	    "(SELECT count(*) FROM referrals WHERE from_organisation_id = $1 "
	    "AND status = 'pending')" },
};

void
workflow_init(void)
{
	db_stmts_add(stmts, sizeof(stmts) / sizeof(stmts[0]));
}

/* ------------------------------------------------------------- helpers */

static enum pa_err
conflict(struct cases_err *err, const char *code, const char *field,
    const char *fr, const char *en)
{
	cases_set_err(err, field, fr, en);
	err->code = code;
	return PA_CONFLICT;
}

static enum pa_err
invalid(struct cases_err *err, const char *field, const char *fr,
    const char *en)
{
	cases_set_err(err, field, fr, en);
	return PA_INVALID;
}

static int
in_list(const char *const *list, size_t n, const char *s)
{
	size_t i;

	if (list == NULL)
		return 1;	/* absent: anyone */
	for (i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return 1;
	return 0;
}

/* Free text of a note or reason: not blank, bounded, no control bytes. */
static int
text_ok(const char *s, size_t max)
{
	size_t n;

	if (s == NULL || s[strspn(s, " \t\r\n")] == '\0')
		return 0;
	n = jv_utf8_len(s);
	if (n > max)
		return 0;
	return cases_text_clean(s);
}

/* Seals optional text; *out NULL when text is NULL. */
static enum pa_err
seal_text(const struct sec_case_key *key, const char *table,
    const char *column, const char *row_id, const char *text,
    unsigned char **out, size_t *outlen)
{
	*out = NULL;
	*outlen = 0;
	if (text == NULL)
		return PA_OK;
	if (key == NULL)
		return PA_CONFLICT;	/* erased: nothing may be added */
	return sec_seal(key, table, column, row_id, text, strlen(text), out,
	    outlen);
}

/*
 * Emits sealed text as member name: -1, with nothing emitted, when it does
 * not open (erased, integrity) or is no UTF-8.
 */
static int
emit_open_text(struct emit *em, const char *name,
    const struct sec_case_key *key, const char *table, const char *column,
    const char *row_id, const char *hex)
{
	unsigned char *ct;
	char *plain = NULL;
	size_t ctlen, plen;
	int r = -1;

	if (key == NULL || hex == NULL || (ct = cases_unhex(hex, &ctlen)) ==
	    NULL)
		return -1;
	if (sec_open(key, table, column, row_id, ct, ctlen, &plain, &plen) ==
	    PA_OK) {
		r = em_strn(em, name, plain, plen);
		sec_plain_free(plain, plen);
	} else
		log_error("workflow: %s.%s of %s does not open (integrity)",
		    table, column, row_id);
	free(ct);
	return r;
}

/* Appends an event to the case's timeline. body is sealed text or NULL. */
enum pa_err
event_add(struct db *db, const struct actor *who, const char *case_id,
    const char *kind, const char *category, const char *visibility,
    json_t *detail, const struct sec_case_key *key, const char *text)
{
	unsigned char *body = NULL;
	size_t blen = 0;
	char id[37], *dj;
	enum pa_err rc;

	sec_uuid_new(id);
	if ((rc = seal_text(key, "case_events", "body", id, text, &body,
		 &blen)) != PA_OK)
		return rc;
	dj = detail ? json_dumps(detail, JSON_COMPACT) : strdup("{}");
	if (dj == NULL) {
		free(body);
		return PA_INTERNAL;
	}
	{
		struct db_arg a[9] = { DB_TEXT(id), DB_TEXT(case_id),
			who ? DB_TEXT(who->org_id) : DB_NULL,
			who ? DB_TEXT(who->user_id) : DB_NULL, DB_TEXT(kind),
			category ? DB_TEXT(category) : DB_NULL,
			DB_TEXT(visibility), DB_TEXT(dj),
			body ? DB_BYTES(body, blen) : DB_NULL };

		rc = db_exec(db, "wf_event", a, 9, NULL);
	}
	free(body);
	free(dj);
	return rc;
}

/* Opens the case row (locked) and its key, for a write by the caller. */
static enum pa_err
begin_write(struct db *db, const struct actor *who, const char *case_id,
    struct db_res **row, struct sec_case_key **key, struct cases_err *err)
{
	enum pa_err rc;

	*row = NULL;
	*key = NULL;
	if ((rc = auth_tx_begin(db, who)) != PA_OK)
		return rc;
	if ((rc = cases_fetch(db, who, case_id, 1, row)) != PA_OK)
		return rc;
	if (strcmp(db_res_get(*row, 0, COL_ERASED), "t") == 0)
		return conflict(err, "case_erased", NULL,
		    "ce dossier a été effacé", "this case was erased");
	return cases_open_key(*row, key);
}

/* Ends a write: renders the case when out is set, commits or rolls back. */
static enum pa_err
end_write(struct db *db, const struct actor *who, const char *case_id,
    enum pa_err rc, struct db_res *row, struct sec_case_key *key,
    json_t **render)
{
	struct db_res *fresh = NULL;

	if (rc == PA_OK && render != NULL &&
	    (rc = cases_fetch(db, who, case_id, 0, &fresh)) == PA_OK)
		rc = cases_render(db, who, fresh, render);
	rc = db_tx_end(db, rc);
	if (rc != PA_OK && render != NULL) {
		json_decref(*render);
		*render = NULL;
	}
	db_res_free(fresh);
	db_res_free(row);
	sec_case_key_free(key);
	return rc;
}

/* ------------------------------------------------------------ consents */

enum pa_err
cases_consent_add(struct db *db, const struct actor *who, const char *case_id,
    json_t *body, json_t **out, struct cases_err *err)
{
	const struct sop *s = sop_current();
	const char *scope = json_string_value(json_object_get(body, "scope"));
	const char *by = json_string_value(json_object_get(body, "given_by"));
	const char *date = json_string_value(json_object_get(body, "date"));
	const char *note = json_string_value(json_object_get(body, "note"));
	struct sec_case_key *key = NULL;
	struct db_res *row = NULL;
	unsigned char *sealed = NULL;
	size_t slen = 0;
	char id[37], today[11];
	json_t *detail;
	enum pa_err rc;

	*out = NULL;
	memset(err, 0, sizeof(*err));
	if (!sop_code_valid(s, "consent_scope", scope))
		return invalid(err, "scope", "portée de consentement inconnue",
		    "unknown consent scope");
	if (strcmp(by, "victim") != 0 && strcmp(by, "guardian") != 0)
		return invalid(err, "given_by", "« victim » ou « guardian »",
		    "\"victim\" or \"guardian\"");
	cases_today(today);
	if (!jv_date_valid(date) || strcmp(date, today) > 0)
		return invalid(err, "date", "date invalide ou future",
		    "invalid or future date");
	if (note != NULL && !text_ok(note, 4000))
		return invalid(err, "note", "note vide ou trop longue",
		    "empty or too long note");
	/*
	 * A consent that widens what law enforcement reads is recorded by
	 * the protection side that heard the victim, never by the kinds it
	 * benefits: otherwise police could unlock health notes themselves.
	 */
	if (strcmp(scope, "share_with_police") == 0 &&
	    (strcmp(who->org_kind, "police") == 0 ||
		strcmp(who->org_kind, "judiciary") == 0 ||
		strcmp(who->org_kind, "labour_inspection") == 0))
		return PA_FORBIDDEN;
	sec_uuid_new(id);
	if ((rc = begin_write(db, who, case_id, &row, &key, err)) != PA_OK)
		goto end;
	/* A child's consent is given by the guardian. */
	if (strcmp(db_res_get(row, 0, COL_CHILD), "t") == 0 &&
	    strcmp(by, "guardian") != 0) {
		rc = invalid(err, "given_by",
		    "pour un enfant, le consentement est donné par le tuteur",
		    "for a child, consent is given by the guardian");
		goto end;
	}
	if ((rc = seal_text(key, "consents", "note", id, note, &sealed,
		 &slen)) != PA_OK)
		goto end;
	{
		struct db_arg a[8] = { DB_TEXT(id), DB_TEXT(case_id),
			DB_TEXT(scope), DB_TEXT(by), DB_TEXT(date),
			sealed ? DB_BYTES(sealed, slen) : DB_NULL,
			DB_TEXT(who->user_id), DB_TEXT(who->org_id) };

		if ((rc = db_exec(db, "wf_consent_insert", a, 8, NULL)) !=
		    PA_OK)
			goto end;
	}
	detail = json_pack("{s:s, s:s, s:s}", "consent_id", id, "scope", scope,
	    "given_by", by);
	rc = event_add(db, who, case_id, "consent.given", NULL, "case", detail,
	    NULL, NULL);
	if (rc == PA_OK)
		rc = cases_audit(db, who, "consent.give", case_id, NULL, 0,
		    detail);
	json_decref(detail);
	if (rc == PA_OK)
		*out = json_pack("{s:s, s:s, s:s, s:s, s:n}", "id", id,
		    "scope", scope, "given_by", by, "date", date,
		    "withdrawn_at");
end:
	free(sealed);
	rc = end_write(db, who, case_id, rc, row, key, NULL);
	if (rc != PA_OK) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

enum pa_err
cases_consent_withdraw(struct db *db, const struct actor *who,
    const char *case_id, const char *consent_id, json_t **out,
    struct cases_err *err)
{
	struct sec_case_key *key = NULL;
	struct db_res *row = NULL, *res = NULL;
	struct db_arg a[3] = { DB_TEXT(consent_id), DB_TEXT(case_id),
		DB_TEXT(who->user_id) };
	json_t *withdrawn = json_array(), *ended = json_array(), *detail;
	char scope[64];
	enum pa_err rc;
	int i;

	*out = NULL;
	memset(err, 0, sizeof(*err));
	if (!jv_uuid_valid(consent_id))
		rc = PA_NOT_FOUND;
	else
		rc = begin_write(db, who, case_id, &row, &key, err);
	if (rc != PA_OK)
		goto end;
	if ((rc = db_exec(db, "wf_consent_withdraw", a, 3, &res)) != PA_OK)
		goto end;
	if (db_res_rows(res) != 1) {
		db_res_free(res);
		res = NULL;
		rc = db_exec(db, "wf_consent_exists", a, 2, &res);
		if (rc == PA_OK)
			rc = db_res_rows(res) == 1 ?
			    conflict(err, "consent_withdrawn", NULL,
				"ce consentement est déjà retiré",
				"this consent is already withdrawn") :
			    PA_NOT_FOUND;
		goto end;
	}
	snprintf(scope, sizeof(scope), "%s", db_res_get(res, 0, 0));
	db_res_free(res);
	res = NULL;
	/* What rested on it stops now: pending referrals, granted access. */
	if ((rc = db_exec(db, "wf_consent_referrals_withdraw", a, 1, &res)) !=
	    PA_OK)
		goto end;
	for (i = 0; i < db_res_rows(res); i++)
		json_array_append_new(withdrawn,
		    json_string(db_res_get(res, i, 0)));
	db_res_free(res);
	res = NULL;
	if ((rc = db_exec(db, "wf_consent_access_end", a, 1, &res)) != PA_OK)
		goto end;
	for (i = 0; i < db_res_rows(res); i++)
		json_array_append_new(ended, json_string(db_res_get(res, i, 0)));
	detail = json_pack("{s:s, s:s, s:O, s:O}", "consent_id", consent_id,
	    "scope", scope, "referrals_withdrawn", withdrawn,
	    "access_ended_for", ended);
	rc = event_add(db, who, case_id, "consent.withdrawn", NULL, "case",
	    detail, NULL, NULL);
	if (rc == PA_OK)
		rc = cases_audit(db, who, "consent.withdraw", case_id, NULL, 0,
		    detail);
	if (rc == PA_OK)
		*out = json_pack("{s:s, s:s, s:b, s:O, s:O}", "id", consent_id,
		    "scope", scope, "withdrawn", 1, "referrals_withdrawn",
		    withdrawn, "access_ended_for", ended);
	json_decref(detail);
end:
	db_res_free(res);
	json_decref(withdrawn);
	json_decref(ended);
	rc = end_write(db, who, case_id, rc, row, key, NULL);
	if (rc != PA_OK) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

/* ----------------------------------------------------------- referrals */

/* The SOP rule that lets kind `from` refer to kind `to` for service. */
static const struct sop_referral_rule *
referral_rule(const struct sop *s, const char *from, const char *to,
    const char *service)
{
	size_t i;

	for (i = 0; i < s->nreferral_rules; i++) {
		const struct sop_referral_rule *r = &s->referral_rules[i];

		if (in_list(r->from, r->nfrom, from) &&
		    in_list(r->to, r->nto, to) &&
		    in_list(r->services, r->nservices, service))
			return r;
	}
	return NULL;
}

enum pa_err
cases_referral_create(struct db *db, const struct actor *who,
    const char *case_id, json_t *body, json_t **out, struct cases_err *err)
{
	const struct sop *s = sop_current();
	const char *to = json_string_value(json_object_get(body,
	    "to_organisation_id"));
	const char *service = json_string_value(json_object_get(body,
	    "service"));
	const char *urgency = json_string_value(json_object_get(body,
	    "urgency"));
	const char *note = json_string_value(json_object_get(body, "note"));
	const char *consent = json_string_value(json_object_get(body,
	    "consent_id"));
	const struct sop_referral_rule *rule;
	const struct sop_urgency *u;
	struct sec_case_key *key = NULL;
	struct db_res *row = NULL, *res = NULL;
	unsigned char *sealed = NULL;
	size_t slen = 0;
	char id[37], hours[16], to_kind[48];
	int lead_transfer;
	json_t *detail;
	enum pa_err rc;

	*out = NULL;
	memset(err, 0, sizeof(*err));
	if (!jv_uuid_valid(to))
		return invalid(err, "to_organisation_id",
		    "organisation inconnue", "unknown organisation");
	if ((u = sop_urgency(s, urgency)) == NULL)
		return invalid(err, "urgency", "urgence inconnue",
		    "unknown urgency");
	lead_transfer = strcmp(service, "lead_transfer") == 0;
	if (!lead_transfer && !sop_code_valid(s, "service", service))
		return invalid(err, "service", "service inconnu",
		    "unknown service");
	if (consent != NULL && !jv_uuid_valid(consent))
		return invalid(err, "consent_id", "consentement inconnu",
		    "unknown consent");
	if (note != NULL && !text_ok(note, 4000))
		return invalid(err, "note", "note vide ou trop longue",
		    "empty or too long note");
	if (strcmp(to, who->org_id) == 0)
		return invalid(err, "to_organisation_id",
		    "pas d'orientation vers sa propre organisation",
		    "no referral to one's own organisation");
	sec_uuid_new(id);
	if ((rc = begin_write(db, who, case_id, &row, &key, err)) != PA_OK)
		goto end;
	if (lead_transfer && strcmp(db_res_get(row, 0, COL_LEAD),
	    who->org_id) != 0) {
		rc = conflict(err, "referral_not_allowed", "service",
		    "seule l'organisation cheffe de file transfère le dossier",
		    "only the lead organisation transfers the case");
		goto end;
	}
	if ((rc = db_exec(db, "wf_org", &DB_TEXT(to), 1, &res)) != PA_OK)
		goto end;
	if (db_res_rows(res) != 1) {
		rc = invalid(err, "to_organisation_id", "organisation inconnue",
		    "unknown organisation");
		goto end;
	}
	snprintf(to_kind, sizeof(to_kind), "%s", db_res_get(res, 0, 0));
	db_res_free(res);
	res = NULL;
	if ((rule = referral_rule(s, who->org_kind, to_kind, service)) ==
	    NULL) {
		rc = conflict(err, "referral_not_allowed", "service",
		    "les procédures ne prévoient pas cette orientation",
		    "the procedures do not provide for this referral");
		goto end;
	}
	if (rule->consent != NULL || consent != NULL) {
		struct db_arg a[2] = { consent ? DB_TEXT(consent) : DB_NULL,
			DB_TEXT(case_id) };

		if (consent == NULL) {
			rc = conflict(err, "consent_required", "consent_id",
			    "cette orientation exige un consentement",
			    "this referral needs a consent");
			goto end;
		}
		if ((rc = db_exec(db, "wf_consent_in_force", a, 2, &res)) !=
		    PA_OK)
			goto end;
		if (db_res_rows(res) != 1 || (rule->consent != NULL &&
		    strcmp(db_res_get(res, 0, 0), rule->consent) != 0)) {
			rc = conflict(err, "consent_required", "consent_id",
			    "consentement absent, retiré ou d'une autre portée",
			    "consent missing, withdrawn or of another scope");
			goto end;
		}
		db_res_free(res);
		res = NULL;
	}
	if ((rc = seal_text(key, "referrals", "note", id, note, &sealed,
		 &slen)) != PA_OK)
		goto end;
	snprintf(hours, sizeof(hours), "%ld", u->respond_within_hours);
	{
		struct db_arg a[10] = { DB_TEXT(id), DB_TEXT(case_id),
			DB_TEXT(who->org_id), DB_TEXT(to), DB_TEXT(service),
			DB_TEXT(urgency), consent ? DB_TEXT(consent) : DB_NULL,
			sealed ? DB_BYTES(sealed, slen) : DB_NULL,
			DB_TEXT(hours), DB_TEXT(who->user_id) };

		rc = db_exec(db, "wf_referral_insert", a, 10, &res);
	}
	if (rc == PA_CONFLICT) {
		rc = conflict(err, "duplicate_referral", "service",
		    "une orientation identique attend déjà une réponse",
		    "the same referral is already waiting for an answer");
		goto end;
	}
	if (rc != PA_OK)
		goto end;
	detail = json_pack("{s:s, s:s, s:s, s:s}", "referral_id", id,
	    "to_organisation_id", to, "service", service, "urgency", urgency);
	rc = event_add(db, who, case_id, "referral.created", NULL, "case",
	    detail, NULL, NULL);
	if (rc == PA_OK)
		rc = cases_audit(db, who, "referral.create", case_id, NULL, 0,
		    detail);
	json_decref(detail);
	if (rc == PA_OK)
		*out = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "id", id,
		    "status", "pending", "respond_by", db_res_get(res, 0, 0),
		    "service", service, "urgency", urgency,
		    "to_organisation_id", to);
end:
	free(sealed);
	db_res_free(res);
	rc = end_write(db, who, case_id, rc, row, key, NULL);
	if (rc != PA_OK) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

/* A referral as its sender or receiver sees it; no identity in it. */
static void
emit_referral(struct emit *em, struct db_res *r, int i, int with_case)
{
	json_t *needs = json_loads(db_res_get(r, i, R_NEEDS), 0, NULL);

#define OPT(col) (db_res_isnull(r, i, col) ? NULL : db_res_get(r, i, col))
	em_obj(em, NULL);
	em_str(em, "id", db_res_get(r, i, R_ID));
	em_str(em, "case_reference", db_res_get(r, i, R_REF));
	em_obj(em, "from_organisation");
	em_str(em, "id", db_res_get(r, i, R_FROM));
	em_str(em, "name", db_res_get(r, i, R_FROM_NAME));
	em_str(em, "kind", db_res_get(r, i, R_FROM_KIND));
	em_end(em);
	em_obj(em, "to_organisation");
	em_str(em, "id", db_res_get(r, i, R_TO));
	em_str(em, "name", db_res_get(r, i, R_TO_NAME));
	em_str(em, "kind", db_res_get(r, i, R_TO_KIND));
	em_end(em);
	em_str(em, "service", db_res_get(r, i, R_SERVICE));
	em_str(em, "urgency", db_res_get(r, i, R_URGENCY));
	em_str(em, "status", db_res_get(r, i, R_STATUS));
	em_str(em, "respond_by", db_res_get(r, i, R_RESPOND_BY));
	em_str(em, "created_at", db_res_get(r, i, R_CREATED));
	em_str_opt(em, "answered_at", OPT(R_ANSWERED));
	em_str_opt(em, "decline_reason", OPT(R_DECLINE));
	em_str_opt(em, "closed_reason", OPT(R_CLOSED_REASON));
	em_bool(em, "overdue", strcmp(db_res_get(r, i, R_OVERDUE), "t") == 0);
	em_obj(em, "summary");
	em_str_opt(em, "sex", OPT(R_SEX));
	em_str(em, "age_band", db_res_get(r, i, R_AGE_BAND));
	em_bool(em, "child", strcmp(db_res_get(r, i, R_CHILD), "t") == 0);
	if (needs != NULL)
		em_json(em, "urgent_needs", needs);
	else {
		em_arr(em, "urgent_needs");
		em_end(em);
	}
	em_end(em);
#undef OPT
	/* The case itself only for an organisation that may open it. */
	if (with_case && strcmp(db_res_get(r, i, R_ACCESS), "t") == 0)
		em_str(em, "case_id", db_res_get(r, i, R_CASE));
	em_end(em);
	json_decref(needs);
}

static json_t *
referral_json(struct db_res *r, int i, int with_case)
{
	struct emit em;

	em_init(&em, EM_TREE);
	emit_referral(&em, r, i, with_case);
	return em_take_tree(&em);
}

enum pa_err
cases_referral_get(struct db *db, const struct actor *who, const char *id,
    json_t **out)
{
	struct db_arg a[2] = { DB_TEXT(id), DB_TEXT(who->org_id) };
	struct db_res *res = NULL;
	enum pa_err rc;

	*out = NULL;
	if (!jv_uuid_valid(id))
		return PA_NOT_FOUND;
	if ((rc = db_exec(db, "wf_referral_get", a, 2, &res)) != PA_OK)
		return rc;
	if (db_res_rows(res) != 1)
		rc = PA_NOT_FOUND;
	else if ((*out = referral_json(res, 0, 1)) == NULL)
		rc = PA_INTERNAL;
	db_res_free(res);
	return rc;
}

enum pa_err
cases_referral_list(struct db *db, const struct actor *who,
    const char *direction, const char *status, int overdue, int limit,
    json_t **out)
{
	struct db_res *res = NULL;
	json_t *items = json_array(), *o;
	char lim[16];
	enum pa_err rc;
	int i;

	*out = NULL;
	if (items == NULL)
		return PA_INTERNAL;
	snprintf(lim, sizeof(lim), "%d", limit);
	{
		struct db_arg a[5] = { DB_TEXT(lim), DB_TEXT(who->org_id),
			direction ? DB_TEXT(direction) : DB_NULL,
			status ? DB_TEXT(status) : DB_NULL,
			DB_TEXT(overdue ? "true" : "false") };

		rc = db_exec(db, "wf_referral_list", a, 5, &res);
	}
	if (rc != PA_OK) {
		json_decref(items);
		return rc;
	}
	for (i = 0; i < db_res_rows(res); i++)
		if ((o = referral_json(res, i, 1)) == NULL ||
		    json_array_append_new(items, o) != 0) {
			rc = PA_INTERNAL;
			break;
		}
	db_res_free(res);
	if (rc == PA_OK)
		*out = json_pack("{s:o, s:n}", "items", items, "next_cursor");
	else
		json_decref(items);
	return rc == PA_OK && *out == NULL ? PA_INTERNAL : rc;
}

static const char *const act_stmts[] = { "wf_referral_accept",
	"wf_referral_decline", "wf_referral_withdraw", "wf_referral_complete" };

enum pa_err
cases_referral_act(struct db *db, const struct actor *who, const char *id,
    enum referral_act act, json_t *body, json_t **out, struct cases_err *err)
{
	const struct sop *s = sop_current();
	const char *reason = json_string_value(json_object_get(body, "reason"));
	const char *note = json_string_value(json_object_get(body, "note"));
	const char *text = act == REF_DECLINE ? note :
	    act == REF_ACCEPT ? NULL : (reason ? reason : note);
	struct sec_case_key *key = NULL;
	struct db_res *row = NULL, *peek = NULL, *res = NULL;
	struct db_arg pa[2] = { DB_TEXT(id), DB_TEXT(who->org_id) };
	unsigned char *sealed = NULL;
	size_t slen = 0;
	char case_id[37], action[48], service[48];
	json_t *detail;
	enum pa_err rc;

	*out = NULL;
	memset(err, 0, sizeof(*err));
	if (!jv_uuid_valid(id))
		return PA_NOT_FOUND;
	if (act == REF_DECLINE && !sop_code_valid(s, "decline_reason", reason))
		return invalid(err, "reason", "motif de refus inconnu",
		    "unknown reason for declining");
	if (text != NULL && !text_ok(text, 4000))
		return invalid(err, act == REF_DECLINE ? "note" : "reason",
		    "texte vide ou trop long", "empty or too long text");
	if ((rc = auth_tx_begin(db, who)) != PA_OK)
		return rc;
	/* Which case? Only a side of the referral learns it exists. */
	if ((rc = db_exec(db, "wf_referral_peek", pa, 2, &peek)) != PA_OK)
		goto end;
	if (db_res_rows(peek) != 1) {
		rc = PA_NOT_FOUND;
		goto end;
	}
	snprintf(case_id, sizeof(case_id), "%s", db_res_get(peek, 0, 0));
	/* Sealing needs the case key, whichever side is acting. */
	if (text != NULL) {
		if ((rc = db_exec(db, "case_keys_for", &DB_TEXT(case_id), 1,
			 &row)) != PA_OK)
			goto end;
		if (db_res_rows(row) == 1) {
			unsigned char *w = NULL;
			size_t wl = 0;

			if ((rc = db_res_bytea(row, 0, 0, &w, &wl)) == PA_OK) {
				rc = sec_case_key_open(case_id, w, wl, &key);
				free(w);
			}
			if (rc != PA_OK)
				goto end;
		}
		rc = seal_text(key, "referrals", "closed_note", id, text,
		    &sealed, &slen);
		if (rc != PA_OK)
			goto end;
	}
	{
		struct db_arg a[5] = { DB_TEXT(id), DB_TEXT(who->org_id),
			DB_TEXT(who->user_id),
			act == REF_DECLINE ? DB_TEXT(reason) :
			    (sealed ? DB_BYTES(sealed, slen) : DB_NULL),
			sealed ? DB_BYTES(sealed, slen) : DB_NULL };
		int nargs = act == REF_ACCEPT ? 3 : act == REF_DECLINE ? 5 : 4;

		rc = db_exec(db, act_stmts[act], a, nargs, &res);
	}
	if (rc != PA_OK)
		goto end;
	if (db_res_rows(res) != 1) {
		/* Not in a state (or not on the side) that allows it. */
		rc = conflict(err, "referral_state", NULL,
		    "l'orientation n'est pas dans un état qui le permet",
		    "the referral is not in a state that allows this");
		goto end;
	}
	snprintf(service, sizeof(service), "%s", db_res_get(res, 0, 1));
	if (act == REF_ACCEPT) {
		struct db_arg g[3] = { DB_TEXT(case_id), DB_TEXT(who->org_id),
			DB_TEXT(id) };

		rc = db_exec(db, "wf_access_grant", g, 3, NULL);
		if (rc == PA_OK && strcmp(service, "lead_transfer") == 0)
			rc = db_exec(db, "wf_lead_transfer", g, 2, NULL);
		if (rc != PA_OK)
			goto end;
	}
	if (act == REF_ACCEPT)
		snprintf(action, sizeof(action), "referral.accepted");
	else if (act == REF_DECLINE)
		snprintf(action, sizeof(action), "referral.declined");
	else if (act == REF_WITHDRAW)
		snprintf(action, sizeof(action), "referral.withdrawn");
	else
		snprintf(action, sizeof(action), "referral.completed");
	detail = json_pack("{s:s, s:s, s:s*}", "referral_id", id, "service",
	    service, "reason", act == REF_DECLINE ? reason : NULL);
	rc = event_add(db, who, case_id, action, NULL, "case", detail, NULL,
	    NULL);
	if (rc == PA_OK)
		rc = cases_audit(db, who, action, case_id, NULL, 0, detail);
	json_decref(detail);
	if (rc == PA_OK) {
		db_res_free(res);
		res = NULL;
		if ((rc = db_exec(db, "wf_referral_get", pa, 2, &res)) ==
		    PA_OK && db_res_rows(res) == 1)
			*out = referral_json(res, 0, 1);
		if (rc == PA_OK && *out == NULL)
			rc = PA_INTERNAL;
	}
end:
	free(sealed);
	db_res_free(peek);
	db_res_free(res);
	db_res_free(row);
	sec_case_key_free(key);
	rc = db_tx_end(db, rc);
	if (rc != PA_OK) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

/* --------------------------------------------------------- transitions */

/* What the case holds, for evaluating the SOP's conditions. */
struct facts {
	struct consents cs;
	json_t *clear;		/* clear fields */
	json_t *sealed;		/* encrypted fields present (names) */
	struct db_res *refs;	/* the case's referrals (REFERRAL_SELECT) */
	int child;
	const char *stage;
	int lead;		/* the caller's organisation leads */
};

static int
has_referral(const struct facts *f, const char *service, int pending_ok)
{
	const char *st;
	int i;

	for (i = 0; i < db_res_rows(f->refs); i++) {
		if (strcmp(db_res_get(f->refs, i, R_SERVICE), service) != 0)
			continue;
		st = db_res_get(f->refs, i, R_STATUS);
		if (strcmp(st, "accepted") == 0 || strcmp(st, "completed") == 0 ||
		    (pending_ok && strcmp(st, "pending") == 0))
			return 1;
	}
	return 0;
}

static int
field_set(const struct facts *f, const char *path)
{
	json_t *v = json_object_get(f->clear, path);

	if (json_object_get(f->sealed, path) != NULL)
		return 1;
	return v != NULL && !json_is_null(v) &&
	    !(json_is_array(v) && json_array_size(v) == 0);
}

static int
consent_in_force(const struct facts *f, const char *scope)
{
	size_t i;

	for (i = 0; i < f->cs.n; i++)
		if (strcmp(f->cs.scopes[i], scope) == 0)
			return 1;
	return 0;
}

/*
 * Can the caller take t now? 1 when allowed; 0 when a condition stops it
 * (*why is the requirement, or NULL with *missing_field for a field the
 * target stage requires); -1 when the caller may not take it at all.
 */
static int
transition_check(const struct sop *s, const struct actor *who,
    const struct sop_transition *t, const struct facts *f,
    const struct sop_requirement **why, const char **missing_field,
    char path[96])
{
	size_t i;
	int ok;

	*why = NULL;
	*missing_field = NULL;
	if (strcmp(t->from, f->stage) != 0 ||
	    !in_list(t->kinds, t->nkinds, who->org_kind) ||
	    !in_list(t->roles, t->nroles, who->role) ||
	    (t->lead_only && !f->lead))
		return -1;
	for (i = 0; i < t->nrequires; i++) {
		const struct sop_requirement *r = &t->requires[i];

		switch (r->kind) {
		case SOP_REQ_CONSENT:
			ok = consent_in_force(f, r->what);
			break;
		case SOP_REQ_FIELD:
			ok = field_set(f, r->what);
			break;
		case SOP_REQ_ACCEPTED:
			ok = has_referral(f, r->what, 0);
			break;
		case SOP_REQ_CHILD_REFERRAL:
			ok = !f->child || has_referral(f, r->what, 1);
			break;
		default:
			ok = 0;
		}
		if (!ok) {
			*why = r;
			return 0;
		}
	}
	/* Fields the target stage requires must be there first. */
	for (i = 0; i < s->nfields; i++) {
		const struct sop_field *fd = &s->fields[i];
		int at;

		if (fd->required_at == NULL)
			continue;
		at = cases_stage_index(s, fd->required_at);
		snprintf(path, 96, "%s.%s", fd->section, fd->name);
		if (at >= 0 && cases_stage_index(s, t->to) >= at &&
		    !field_set(f, path)) {
			*missing_field = path;
			return 0;
		}
	}
	return 1;
}

/*
 * The case's facts; refs, when given, are its referrals already read, and
 * pre, when given, may hold the row's fields already parsed.
 */
static enum pa_err
facts_load(struct db *db, const struct actor *who, struct db_res *row,
    struct db_res *refs, const struct wf_pre *pre, struct facts *f)
{
	struct db_arg a[2] = { DB_TEXT(db_res_get(row, 0, COL_ID)),
		DB_TEXT(who->org_id) };

	memset(f, 0, sizeof(*f));
	f->refs = refs;
	cases_consents(row, &f->cs);
	if (pre != NULL && pre->clear != NULL && pre->sealed != NULL) {
		f->clear = json_incref(pre->clear);
		f->sealed = json_incref(pre->sealed);
	} else {
		f->clear = json_loads(db_res_get(row, 0, COL_CLEAR), 0, NULL);
		f->sealed = cases_sealed_parse(db_res_get(row, 0,
		    COL_FIELDS));
	}
	f->child = strcmp(db_res_get(row, 0, COL_CHILD), "t") == 0;
	f->stage = db_res_get(row, 0, COL_STAGE);
	f->lead = strcmp(db_res_get(row, 0, COL_LEAD), who->org_id) == 0;
	if (f->clear == NULL || f->sealed == NULL)
		return PA_INTERNAL;
	if (refs != NULL)
		return PA_OK;
	return db_exec(db, "wf_case_referrals", a, 2, &f->refs);
}

static void
facts_free(struct facts *f)
{
	json_decref(f->cs.arr);
	json_decref(f->clear);
	json_decref(f->sealed);
	db_res_free(f->refs);
}

static const char *
reason_text(const struct actor *who, const struct sop_requirement *r)
{
	if (r == NULL)
		return who->en ? "a field this stage requires is missing" :
				 "un champ requis à cette étape manque";
	return who->en ? r->reason.en : r->reason.fr;
}

enum pa_err
cases_transition(struct db *db, const struct actor *who, const char *case_id,
    json_t *body, json_t **out, struct cases_err *err)
{
	const struct sop *s = sop_current();
	const char *tid = json_string_value(json_object_get(body,
	    "transition"));
	const char *note = json_string_value(json_object_get(body, "note"));
	json_int_t want = json_integer_value(json_object_get(body, "version"));
	const struct sop_transition *t = NULL;
	const struct sop_requirement *why;
	const char *missing;
	struct sec_case_key *key = NULL;
	struct db_res *row = NULL, *res = NULL;
	struct facts f;
	char ver[24], from[48], path[96];
	int64_t version = 0;
	json_t *detail;
	enum pa_err rc;
	size_t i;
	int c;

	*out = NULL;
	memset(err, 0, sizeof(*err));
	memset(&f, 0, sizeof(f));
	for (i = 0; i < s->ntransitions; i++)
		if (strcmp(s->transitions[i].id, tid) == 0)
			t = &s->transitions[i];
	if (t == NULL)
		return invalid(err, "transition", "transition inconnue",
		    "unknown transition");
	if (note != NULL && !text_ok(note, 4000))
		return invalid(err, "note", "note vide ou trop longue",
		    "empty or too long note");
	if ((rc = begin_write(db, who, case_id, &row, &key, err)) != PA_OK)
		goto end;
	(void)db_res_int64(row, 0, COL_VERSION, &version);
	if (version != want) {
		rc = conflict(err, "stale_version", "version",
		    "le dossier a changé entre-temps : rechargez-le",
		    "the case changed meanwhile: reload it");
		goto end;
	}
	if ((rc = facts_load(db, who, row, NULL, NULL, &f)) != PA_OK)
		goto end;
	c = transition_check(s, who, t, &f, &why, &missing, path);
	if (c < 0) {
		rc = conflict(err, "transition_not_allowed", "transition",
		    "cette transition n'est pas permise maintenant à ce compte",
		    "this transition is not allowed now for this account");
		goto end;
	}
	if (c == 0) {
		rc = conflict(err, "precondition_failed",
		    why ? why->what : missing,
		    why ? why->reason.fr : "un champ requis à cette étape manque",
		    why ? why->reason.en : "a field this stage requires is missing");
		goto end;
	}
	snprintf(from, sizeof(from), "%s", f.stage);
	snprintf(ver, sizeof(ver), "%lld", (long long)version);
	{
		struct db_arg a[3] = { DB_TEXT(case_id), DB_TEXT(ver),
			DB_TEXT(t->to) };

		if ((rc = db_exec(db, "wf_stage_set", a, 3, &res)) != PA_OK)
			goto end;
		if (db_res_rows(res) != 1) {
			rc = conflict(err, "stale_version", "version",
			    "le dossier a changé entre-temps : rechargez-le",
			    "the case changed meanwhile: reload it");
			goto end;
		}
	}
	detail = json_pack("{s:s, s:s, s:s}", "transition", t->id, "from",
	    from, "to", t->to);
	/* Its free text follows the grants of general notes. */
	rc = event_add(db, who, case_id, "stage.changed",
	    note != NULL ? "general" : NULL, "case", detail, key, note);
	if (rc == PA_OK)
		rc = cases_audit(db, who, "case.transition", case_id, NULL, 0,
		    detail);
	json_decref(detail);
end:
	facts_free(&f);
	db_res_free(res);
	return end_write(db, who, case_id, rc, row, key, out);
}

/* ------------------------------------------- notes, services, justice */

/* The SOP's note categories are the fields of section "notes". */
static const struct sop_field *
note_field(const struct sop *s, const char *category)
{
	return category ? sop_field(s, "notes", category) : NULL;
}

/* The note category a service's note falls under. */
static const char *
service_category(const struct sop *s, const char *service)
{
	if (strcmp(service, "medical") == 0 && note_field(s, "health"))
		return "health";
	if (strcmp(service, "psychosocial") == 0 &&
	    note_field(s, "psychosocial"))
		return "psychosocial";
	if (strcmp(service, "legal_aid") == 0 && note_field(s, "legal"))
		return "legal";
	return "general";
}

enum pa_err
cases_note_add(struct db *db, const struct actor *who, const char *case_id,
    json_t *body, json_t **out, struct cases_err *err)
{
	const struct sop *s = sop_current();
	const char *text = json_string_value(json_object_get(body, "body"));
	const char *vis = json_string_value(json_object_get(body,
	    "visibility"));
	const char *cat = json_string_value(json_object_get(body, "category"));
	const struct sop_field *nf;
	struct sec_case_key *key = NULL;
	struct db_res *row = NULL;
	struct consents cs = { NULL, { NULL }, 0 };
	json_t *detail;
	enum pa_err rc;

	*out = NULL;
	memset(err, 0, sizeof(*err));
	if (cat == NULL)
		cat = "general";
	if ((nf = note_field(s, cat)) == NULL)
		return invalid(err, "category", "catégorie de note inconnue",
		    "unknown note category");
	if (strcmp(vis, "organisation") != 0 && strcmp(vis, "case") != 0)
		return invalid(err, "visibility",
		    "« organisation » ou « case »",
		    "\"organisation\" or \"case\"");
	if (!text_ok(text, nf->max > 0 ? (size_t)nf->max : 20000))
		return invalid(err, "body", "note vide ou trop longue",
		    "empty or too long note");
	if ((rc = begin_write(db, who, case_id, &row, &key, err)) != PA_OK)
		goto end;
	cases_consents(row, &cs);
	/* Nobody writes a note they could not read. */
	if (!sop_field_visible(nf, who->org_kind, who->role, cs.scopes, cs.n)) {
		rc = PA_FORBIDDEN;
		goto end;
	}
	detail = json_pack("{s:s}", "category", cat);
	rc = event_add(db, who, case_id, "note", cat, vis, detail, key, text);
	if (rc == PA_OK)
		rc = cases_audit(db, who, "case.note", case_id, NULL, 0, detail);
	json_decref(detail);
	if (rc == PA_OK)
		*out = json_pack("{s:s, s:s, s:s}", "case_id", case_id,
		    "category", cat, "visibility", vis);
end:
	json_decref(cs.arr);
	rc = end_write(db, who, case_id, rc, row, key, NULL);
	if (rc != PA_OK) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

enum pa_err
cases_service_add(struct db *db, const struct actor *who, const char *case_id,
    json_t *body, json_t **out, struct cases_err *err)
{
	const struct sop *s = sop_current();
	const char *service = json_string_value(json_object_get(body,
	    "service"));
	const char *date = json_string_value(json_object_get(body, "date"));
	const char *note = json_string_value(json_object_get(body, "note"));
	struct sec_case_key *key = NULL;
	struct db_res *row = NULL;
	char id[37], today[11];
	json_t *detail;
	enum pa_err rc;

	*out = NULL;
	memset(err, 0, sizeof(*err));
	if (!sop_code_valid(s, "service", service) ||
	    strcmp(service, "lead_transfer") == 0)
		return invalid(err, "service", "service inconnu",
		    "unknown service");
	cases_today(today);
	if (!jv_date_valid(date) || strcmp(date, today) > 0)
		return invalid(err, "date", "date invalide ou future",
		    "invalid or future date");
	if (note != NULL && !text_ok(note, 4000))
		return invalid(err, "note", "note vide ou trop longue",
		    "empty or too long note");
	sec_uuid_new(id);
	if ((rc = begin_write(db, who, case_id, &row, &key, err)) != PA_OK)
		goto end;
	{
		struct db_arg a[6] = { DB_TEXT(id), DB_TEXT(case_id),
			DB_TEXT(who->org_id), DB_TEXT(service), DB_TEXT(date),
			DB_TEXT(who->user_id) };

		if ((rc = db_exec(db, "wf_service_insert", a, 6, NULL)) != PA_OK)
			goto end;
	}
	detail = json_pack("{s:s, s:s, s:s}", "service_id", id, "service",
	    service, "date", date);
	rc = event_add(db, who, case_id, "service.delivered",
	    service_category(s, service), "case", detail, key, note);
	if (rc == PA_OK)
		rc = cases_audit(db, who, "case.service", case_id, NULL, 0,
		    detail);
	json_decref(detail);
	if (rc == PA_OK)
		*out = json_pack("{s:s, s:s, s:s}", "id", id, "service",
		    service, "date", date);
end:
	rc = end_write(db, who, case_id, rc, row, key, NULL);
	if (rc != PA_OK) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

enum pa_err
cases_justice_set(struct db *db, const struct actor *who, const char *case_id,
    json_t *body, json_t **out, struct cases_err *err)
{
	const struct sop *s = sop_current();
	const char *status = json_string_value(json_object_get(body, "status"));
	const char *note = json_string_value(json_object_get(body, "note"));
	struct sec_case_key *key = NULL;
	struct db_res *row = NULL;
	json_t *detail;
	enum pa_err rc;

	*out = NULL;
	memset(err, 0, sizeof(*err));
	/* The justice track is kept by police and the judiciary. */
	if (strcmp(who->org_kind, "police") != 0 &&
	    strcmp(who->org_kind, "judiciary") != 0)
		return PA_FORBIDDEN;
	if (!sop_code_valid(s, "justice_status", status))
		return invalid(err, "status", "statut judiciaire inconnu",
		    "unknown justice status");
	if (note != NULL && !text_ok(note, 4000))
		return invalid(err, "note", "note vide ou trop longue",
		    "empty or too long note");
	if ((rc = begin_write(db, who, case_id, &row, &key, err)) != PA_OK)
		goto end;
	{
		struct db_arg a[2] = { DB_TEXT(case_id), DB_TEXT(status) };

		if ((rc = db_exec(db, "wf_justice_set", a, 2, NULL)) != PA_OK)
			goto end;
	}
	detail = json_pack("{s:s, s:s}", "from",
	    db_res_get(row, 0, COL_JUSTICE), "status", status);
	rc = event_add(db, who, case_id, "justice.updated",
	    note_field(s, "justice") ? "justice" : "legal", "case", detail,
	    key, note);
	if (rc == PA_OK)
		rc = cases_audit(db, who, "case.justice", case_id, NULL, 0,
		    detail);
	json_decref(detail);
end:
	return end_write(db, who, case_id, rc, row, key, out);
}

enum pa_err
cases_inbox(struct db *db, const struct actor *who, json_t **out)
{
	struct db_res *res = NULL;
	int64_t v[4] = { 0, 0, 0, 0 };
	enum pa_err rc;
	int i;

	*out = NULL;
	if ((rc = db_exec(db, "wf_inbox", &DB_TEXT(who->org_id), 1, &res)) !=
	    PA_OK)
		return rc;
	for (i = 0; i < 4; i++)
		(void)db_res_int64(res, 0, i, &v[i]);
	db_res_free(res);
	*out = json_pack("{s:I, s:I, s:I, s:I}", "pending_incoming_referrals",
	    (json_int_t)v[0], "overdue_referrals", (json_int_t)v[1],
	    "overdue_cases", (json_int_t)v[2], "pending_outgoing_referrals",
	    (json_int_t)v[3]);
	return *out ? PA_OK : PA_INTERNAL;
}

/* -------------------------------------------------------------- render */

static int
event_visible(const struct sop *s, const struct actor *who,
    struct db_res *ev, int i, const struct consents *cs)
{
	const struct sop_field *nf;

	if (strcmp(db_res_get(ev, i, 7), "organisation") == 0 &&
	    (db_res_isnull(ev, i, 2) ||
		strcmp(db_res_get(ev, i, 2), who->org_id) != 0))
		return 0;
	if (db_res_isnull(ev, i, 6))
		return 1;
	/* A categorised entry follows the SOP's grants for its category. */
	nf = note_field(s, db_res_get(ev, i, 6));
	return nf != NULL && sop_field_visible(nf, who->org_kind, who->role,
	    cs->scopes, cs->n);
}

/*
 * One timeline entry; with_visibility for a note (its entry in the
 * timeline and in the notes carries it). PA_UNREADABLE when its text does
 * not open.
 */
static enum pa_err
emit_event(struct emit *em, struct db_res *ev, int i,
    const struct sec_case_key *key)
{
	json_t *detail = json_loads(db_res_get(ev, i, 8), 0, NULL);
	enum pa_err rc = PA_OK;

	em_obj(em, NULL);
	em_str(em, "id", db_res_get(ev, i, 0));
	em_str(em, "at", db_res_get(ev, i, 1));
	em_str(em, "kind", db_res_get(ev, i, 5));
	em_obj(em, "organisation");
	em_str_opt(em, "id", db_res_isnull(ev, i, 2) ? NULL :
	    db_res_get(ev, i, 2));
	em_str_opt(em, "name", db_res_isnull(ev, i, 3) ? NULL :
	    db_res_get(ev, i, 3));
	em_end(em);
	em_str_opt(em, "category", db_res_isnull(ev, i, 6) ? NULL :
	    db_res_get(ev, i, 6));
	if (detail != NULL)
		em_json(em, "detail", detail);
	else {
		em_obj(em, "detail");
		em_end(em);
	}
	json_decref(detail);
	if (!db_res_isnull(ev, i, 9) && emit_open_text(em, "body", key,
	    "case_events", "body", db_res_get(ev, i, 0),
	    db_res_get(ev, i, 9)) != 0)
		rc = PA_UNREADABLE;
	if (strcmp(db_res_get(ev, i, 5), "note") == 0)
		em_str(em, "visibility", db_res_get(ev, i, 7));
	em_end(em);
	return rc;
}

/* The timeline, then the notes: the same entries, the notes among them. */
static enum pa_err
render_events(struct db_res *ev, const struct actor *who,
    const struct sec_case_key *key, const struct consents *cs,
    struct emit *em)
{
	const struct sop *s = sop_current();
	enum pa_err rc = PA_OK;
	int i, pass;

	for (pass = 0; pass < 2 && rc == PA_OK; pass++) {
		em_arr(em, pass == 0 ? "timeline" : "notes");
		for (i = 0; rc == PA_OK && i < db_res_rows(ev); i++) {
			if (!event_visible(s, who, ev, i, cs) || (pass == 1 &&
			    strcmp(db_res_get(ev, i, 5), "note") != 0))
				continue;
			rc = emit_event(em, ev, i, key);
		}
		em_end(em);
	}
	return rc;
}

static enum pa_err
render_consents(struct db_res *res, const struct sec_case_key *key,
    int notes_ok, struct emit *em)
{
	int i;

	em_arr(em, "consents");
	for (i = 0; i < db_res_rows(res); i++) {
		em_obj(em, NULL);
		em_str(em, "id", db_res_get(res, i, 0));
		em_str(em, "scope", db_res_get(res, i, 1));
		em_str(em, "given_by", db_res_get(res, i, 2));
		em_str(em, "date", db_res_get(res, i, 3));
		em_str(em, "recorded_at", db_res_get(res, i, 4));
		em_str_opt(em, "withdrawn_at", db_res_isnull(res, i, 5) ?
		    NULL : db_res_get(res, i, 5));
		em_str(em, "organisation_id", db_res_get(res, i, 6));
		em_bool(em, "in_force", db_res_isnull(res, i, 5));
		/* Its note follows the grants of general notes; one that
		 * does not open is left out. */
		if (!db_res_isnull(res, i, 7) && notes_ok)
			(void)emit_open_text(em, "note", key, "consents",
			    "note", db_res_get(res, i, 0),
			    db_res_get(res, i, 7));
		em_end(em);
	}
	em_end(em);
	return em_failed(em) ? PA_INTERNAL : PA_OK;
}

static enum pa_err
render_services(struct db_res *res, struct emit *em)
{
	int i;

	em_arr(em, "services");
	for (i = 0; i < db_res_rows(res); i++) {
		em_obj(em, NULL);
		em_str(em, "id", db_res_get(res, i, 0));
		em_str(em, "service", db_res_get(res, i, 1));
		em_str(em, "date", db_res_get(res, i, 2));
		em_obj(em, "organisation");
		em_str(em, "id", db_res_get(res, i, 3));
		em_str(em, "name", db_res_get(res, i, 4));
		em_end(em);
		em_end(em);
	}
	em_end(em);
	return em_failed(em) ? PA_INTERNAL : PA_OK;
}

/* Services referred for that no organisation now holds. */
static enum pa_err
unmet_needs(struct db_res *refs, struct emit *em)
{
	const char **needs;
	const char *svc, *st;
	int i, j, n = 0, held;

	if ((needs = calloc((size_t)db_res_rows(refs) + 1,
	    sizeof(*needs))) == NULL)
		return PA_INTERNAL;
	em_arr(em, "unmet_needs");
	for (i = 0; i < db_res_rows(refs); i++) {
		st = db_res_get(refs, i, R_STATUS);
		svc = db_res_get(refs, i, R_SERVICE);
		if (strcmp(st, "declined") != 0 && strcmp(st, "withdrawn") != 0)
			continue;
		held = 0;
		for (j = 0; j < db_res_rows(refs); j++) {
			const char *s2 = db_res_get(refs, j, R_STATUS);

			if (strcmp(db_res_get(refs, j, R_SERVICE), svc) == 0 &&
			    (strcmp(s2, "pending") == 0 ||
				strcmp(s2, "accepted") == 0 ||
				strcmp(s2, "completed") == 0))
				held = 1;
		}
		for (j = 0; !held && j < n; j++)
			if (strcmp(needs[j], svc) == 0)
				held = 1;
		if (!held) {
			needs[n++] = svc;
			em_str(em, NULL, svc);
		}
	}
	em_end(em);
	free(needs);
	return PA_OK;
}

/*
 * The document's referrals hold a pending referral's deadline in
 * microseconds where the tables' hold whether it is overdue: the same
 * comparison as theirs (respond_by < now()), with the read's now().
 */
static enum pa_err
referrals_overdue(struct db_res *refs, struct db_res *row)
{
	int64_t now, due;
	int i, n = db_res_rows(refs);
	enum pa_err rc = PA_OK;

	if (db_res_int64(row, 0, COL_WF_NOW, &now) != 0)
		return PA_INTERNAL;
	for (i = 0; i < n && rc == PA_OK; i++) {
		int late = 0;

		if (!db_res_isnull(refs, i, R_OVERDUE)) {
			if (db_res_int64(refs, i, R_OVERDUE, &due) != 0)
				return PA_INTERNAL;
			late = due < now;
		}
		rc = db_res_json_set(refs, i, R_OVERDUE, late ? "t" : "f");
	}
	return rc;
}

enum pa_err
workflow_pre_from_row(struct wf_pre *p, struct db_res *row)
{
	enum pa_err rc;

	memset(p, 0, sizeof(*p));
	if ((rc = db_res_from_json(db_res_get(row, 0, COL_WF_REFS),
		 &p->refs)) != PA_OK ||
	    (rc = db_res_from_json(db_res_get(row, 0, COL_WF_CONSENTS),
		&p->consents)) != PA_OK ||
	    (rc = db_res_from_json(db_res_get(row, 0, COL_WF_SERVICES),
		&p->services)) != PA_OK ||
	    (rc = db_res_from_json(db_res_get(row, 0, COL_WF_EVENTS),
		&p->events)) != PA_OK ||
	    (rc = referrals_overdue(p->refs, row)) != PA_OK)
		workflow_pre_free(p);
	return rc;
}

void
workflow_pre_free(struct wf_pre *p)
{
	db_res_free(p->refs);
	db_res_free(p->consents);
	db_res_free(p->services);
	db_res_free(p->events);
	json_decref(p->clear);
	json_decref(p->sealed);
	p->refs = p->consents = p->services = p->events = NULL;
	p->clear = p->sealed = NULL;
}

/* What transition_check said of one transition, for both lists. */
struct tr_state {
	int c;
	const struct sop_requirement *why;
	const char *missing;
	char path[96];
};

enum pa_err
workflow_emit(struct db *db, const struct actor *who, struct db_res *row,
    const struct sec_case_key *key, struct emit *em, struct wf_pre *pre)
{
	const struct sop *s = sop_current();
	const char *case_id = db_res_get(row, 0, COL_ID);
	struct db_res *refs_res = NULL, *consents_res = NULL;
	struct db_res *services_res = NULL, *events_res = NULL;
	struct tr_state *tr = NULL;
	const struct sop_field *nf;
	struct facts f;
	enum pa_err rc;
	size_t i;
	int k, list;

	memset(&f, 0, sizeof(f));
	if (pre != NULL) {
		/* Read with the case: ours now. */
		refs_res = pre->refs;
		consents_res = pre->consents;
		services_res = pre->services;
		events_res = pre->events;
		pre->refs = pre->consents = pre->services = pre->events = NULL;
	}
	if ((tr = calloc(s->ntransitions + 1, sizeof(*tr))) == NULL ||
	    (pre != NULL && (refs_res == NULL || consents_res == NULL ||
		services_res == NULL || events_res == NULL))) {
		rc = PA_INTERNAL;
		goto out;
	}
	if (pre == NULL) {
		/* Four reads, one round trip. */
		struct db_arg a[2] = { DB_TEXT(case_id), DB_TEXT(who->org_id) };
		struct db_call calls[4] = {
			{ "wf_case_referrals", a, 2, &refs_res },
			{ "wf_case_consents", a, 1, &consents_res },
			{ "wf_case_services", a, 1, &services_res },
			{ "wf_case_events", a, 1, &events_res },
		};

		if ((rc = db_exec_batch(db, calls, 4)) != PA_OK)
			goto out;
	}
	rc = facts_load(db, who, row, refs_res, pre, &f);
	refs_res = NULL;	/* owned by f now */
	if (rc != PA_OK)
		goto out;
	em_arr(em, "referrals");
	for (k = 0; k < db_res_rows(f.refs); k++)
		emit_referral(em, f.refs, k, 0);
	em_end(em);
	if ((rc = unmet_needs(f.refs, em)) != PA_OK)
		goto out;
	em_obj(em, "justice");
	em_str(em, "status", db_res_get(row, 0, COL_JUSTICE));
	em_end(em);
	nf = note_field(s, "general");
	if ((rc = render_consents(consents_res, key, nf != NULL &&
		 sop_field_visible(nf, who->org_kind, who->role, f.cs.scopes,
		     f.cs.n), em)) != PA_OK ||
	    (rc = render_services(services_res, em)) != PA_OK ||
	    (rc = render_events(events_res, who, key, &f.cs, em)) != PA_OK)
		goto out;
	if (strcmp(db_res_get(row, 0, COL_ERASED), "f") == 0)
		for (i = 0; i < s->ntransitions; i++)
			tr[i].c = transition_check(s, who, &s->transitions[i],
			    &f, &tr[i].why, &tr[i].missing, tr[i].path);
	else
		for (i = 0; i < s->ntransitions; i++)
			tr[i].c = -1;	/* an erased case moves no more */
	for (list = 0; list < 2; list++) {
		em_arr(em, list == 0 ? "allowed_transitions" :
					"blocked_transitions");
		for (i = 0; i < s->ntransitions; i++) {
			const struct sop_transition *t = &s->transitions[i];

			if (list == 0 && tr[i].c > 0) {
				em_obj(em, NULL);
				em_str(em, "id", t->id);
				em_str(em, "to", t->to);
				em_obj(em, "label");
				em_str(em, "fr", t->label.fr);
				em_str(em, "en", t->label.en);
				em_end(em);
				em_end(em);
			} else if (list == 1 && tr[i].c == 0) {
				em_obj(em, NULL);
				em_str(em, "id", t->id);
				em_str(em, "to", t->to);
				em_obj(em, "reason");
				em_str(em, "code", "precondition_failed");
				em_str(em, "message",
				    reason_text(who, tr[i].why));
				em_str_opt(em, "rule", tr[i].why ?
				    tr[i].why->what : tr[i].missing);
				em_end(em);
				em_end(em);
			}
		}
		em_end(em);
	}
	if (em_failed(em))
		rc = PA_INTERNAL;
out:
	free(tr);
	db_res_free(refs_res);
	db_res_free(consents_res);
	db_res_free(services_res);
	db_res_free(events_res);
	facts_free(&f);
	return rc;
}
