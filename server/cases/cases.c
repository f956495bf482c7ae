/*
 * Cases: create, read, update, list and search, erase, assign, and the
 * master key's bookkeeping. Each write runs in one transaction with its
 * audit record and holds the caller's session (auth_tx_begin), so that no
 * write commits after its session ended.
 *
 * Storage: clear SOP fields go to cases.clear (jsonb, "section.name" keys)
 * and the statistical columns; each encrypted field is one row of
 * case_fields holding sec_seal(JSON text of the value) with associated data
 * ("case_fields", "section.name", case id). Plaintexts live in guarded
 * memory and are wiped as soon as they are turned into JSON.
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

#define CASE_LIST_COLS \
	"SELECT c.id, c.reference, c.stage, c.lead_organisation_id, o.name, " \
	"c.age_band, c.sex, to_char(c.opened_at AT TIME ZONE 'UTC', " \
	"'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), k.wrapped, " \
	"encode(gn.value, 'hex'), encode(fn.value, 'hex'), " \
	"encode(dob.value, 'hex'), " \
	"(extract(epoch FROM c.opened_at) * 1000000)::bigint, " \
	"c.erased_at IS NOT NULL, " \
	"(SELECT to_char(min(r.respond_by) AT TIME ZONE 'UTC', " \
	"'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM referrals r " \
	"WHERE r.case_id = c.id AND r.status = 'pending') "

/* The default page size, and its LIMIT (one more, to know of a next page). */
#define CASES_PAGE 50
#define CASES_PAGE_PLUS1 "51"

/* dob: when the date of birth is fetched (a search with one). */
#define CASE_LIST_FROM(dob) \
	"FROM case_access a JOIN cases c ON c.id = a.case_id " \
	"JOIN organisations o ON o.id = c.lead_organisation_id " \
	"LEFT JOIN case_keys k ON k.case_id = c.id " \
	"LEFT JOIN case_fields gn ON gn.case_id = c.id AND " \
	"gn.field = 'victim.given_name' " \
	"LEFT JOIN case_fields fn ON fn.case_id = c.id AND " \
	"fn.field = 'victim.family_name' " \
	"LEFT JOIN case_fields dob ON dob.case_id = c.id AND " \
	"dob.field = 'victim.date_of_birth' AND " dob " "

static const struct db_stmt stmts[] = {
	{ "case_key_state", "SELECT key_id FROM master_key" },
	{ "stored_key_get",
	    "SELECT wrapped FROM stored_keys WHERE purpose = $1" },
	{ "stored_key_add",
	    "INSERT INTO stored_keys (purpose, key_id, wrapped) "
	    "VALUES ($1, $2, $3) ON CONFLICT (purpose) DO NOTHING" },
	{ "stored_keys_lock", "LOCK TABLE stored_keys IN EXCLUSIVE MODE" },
	{ "stored_key_put",
	    "UPDATE stored_keys SET key_id = $2, wrapped = $3 "
	    "WHERE purpose = $1" },
	{ "case_key_init",
	    "INSERT INTO master_key (key_id) VALUES ($1) "
	    "ON CONFLICT DO NOTHING" },
	{ "case_insert",
	    "WITH n AS (INSERT INTO case_counters (year, last) "
	    "VALUES ($3::int, 1) ON CONFLICT (year) DO UPDATE "
	    "SET last = case_counters.last + 1 RETURNING last), "
	    "c AS (INSERT INTO cases (id, reference, lead_organisation_id, "
	    "created_by, stage, sex, age_band, is_child, nationality, region, "
	    "identified_on, identifying_kind, exploitation_types, clear) "
	    "SELECT $1, $2 || '-' || $3 || '-' || lpad(n.last::text, 6, '0'), "
	    "$4, $5, $6, $7, $8, $9::boolean, $10, $11, $12::date, $13, "
	    "string_to_array($14, ','), $15::jsonb FROM n "
	    "RETURNING id, reference), "
	    "k AS (INSERT INTO case_keys (case_id, key_id, wrapped) "
	    "SELECT id, $16, $17 FROM c), "
	    "f AS (INSERT INTO case_fields (case_id, field, value) "
	    "SELECT c.id, u.field, decode(u.hex, 'hex') FROM c, "
	    "unnest($18::text[], $19::text[]) AS u(field, hex)), "
	    "b AS (INSERT INTO case_blind (case_id, purpose, bucket) "
	    "SELECT c.id, u.p, u.b FROM c, "
	    "unnest($20::text[], $21::int[]) AS u(p, b)), "
	    "a AS (INSERT INTO case_access (case_id, organisation_id, reason) "
	    "SELECT id, $4, 'lead' FROM c), "
	    "s AS (INSERT INTO case_assignments (case_id, organisation_id, "
	    "user_id) SELECT id, $4, $5 FROM c) "
	    "SELECT reference FROM c" },
	{ "case_get", CASE_SELECT },
	{ "case_get_locked", CASE_SELECT " FOR UPDATE OF c" },
	{ "case_update",
	    "UPDATE cases SET version = version + 1, updated_at = now(), "
	    "sex = $3, age_band = $4, is_child = $5::boolean, "
	    "nationality = $6, region = $7, identified_on = $8::date, "
	    "exploitation_types = string_to_array($9, ','), "
	    "clear = $10::jsonb WHERE id = $1 AND version = $2 "
	    "RETURNING version" },
	{ "case_fields_put",
	    "INSERT INTO case_fields (case_id, field, value) "
	    "SELECT $1, u.field, decode(u.hex, 'hex') "
	    "FROM unnest($2::text[], $3::text[]) AS u(field, hex) "
	    "ON CONFLICT (case_id, field) DO UPDATE SET value = EXCLUDED.value" },
	{ "case_fields_drop",
	    "DELETE FROM case_fields WHERE case_id = $1 AND "
	    "field = ANY($2::text[])" },
	{ "case_blind_set",
	    "WITH d AS (DELETE FROM case_blind WHERE case_id = $1) "
	    "INSERT INTO case_blind (case_id, purpose, bucket) "
	    "SELECT $1, u.p, u.b FROM unnest($2::text[], $3::int[]) AS u(p, b) "
	    "ON CONFLICT (case_id, purpose) DO UPDATE SET bucket = "
	    "EXCLUDED.bucket" },
	{ "case_erase",
	    "WITH f AS (DELETE FROM case_fields WHERE case_id = $1), "
	    "b AS (DELETE FROM case_blind WHERE case_id = $1), "
	    "k AS (DELETE FROM case_keys WHERE case_id = $1), "
	    "cn AS (UPDATE consents SET note = NULL WHERE case_id = $1), "
	    /* One UPDATE of referrals: of two on the same rows in one
	     * statement only one takes effect, and a pending referral kept
	     * its (sealed) note. */
	    "rn AS (UPDATE referrals SET note = NULL, closed_note = NULL, "
	    "status = CASE WHEN status = 'pending' THEN 'withdrawn' "
	    "ELSE status END, closed_at = CASE WHEN status = 'pending' "
	    "THEN now() ELSE closed_at END, closed_reason = CASE WHEN "
	    "status = 'pending' THEN 'case_erased' ELSE closed_reason END "
	    "WHERE case_id = $1), "
	    "ev AS (UPDATE case_events SET body = NULL WHERE case_id = $1) "
	    /* What stays in clear is what statistics read (stat_dim() and
	     * the HTCDS export): the category columns. The copies of clear
	     * fields keep sex, nationality, region and forms only; free or
	     * fine values go (languages, indicators, urgent needs), the
	     * identification date becomes the first day of its month (the
	     * finest period statistics use) and the age estimate the lower
	     * bound of the case's age band, so that every statistic counts
	     * the case in the same cells as before. */
	    "UPDATE cases SET erased_at = now(), version = version + 1, "
	    "updated_at = now(), "
	    "identified_on = date_trunc('month', identified_on)::date, "
	    "clear = (SELECT coalesce(jsonb_object_agg(e.k, e.v), '{}') "
	    "FROM jsonb_each(cases.clear) AS e(k, v) WHERE e.k IN "
	    "('victim.sex', 'victim.nationality', 'identification.region', "
	    "'identification.exploitation_types')) || "
	    "CASE WHEN cases.clear ? 'identification.date' AND "
	    "identified_on IS NOT NULL THEN jsonb_build_object("
	    "'identification.date', to_char(date_trunc('month', "
	    "identified_on), 'YYYY-MM-DD')) ELSE '{}' END || "
	    "CASE WHEN cases.clear ? 'victim.age_estimate' AND "
	    "substring(age_band FROM '^[0-9]+') IS NOT NULL THEN "
	    "jsonb_build_object('victim.age_estimate', "
	    "substring(age_band FROM '^[0-9]+')::int) ELSE '{}' END "
	    "WHERE id = $1 AND erased_at IS NULL "
	    "RETURNING version" },
	{ "case_list", CASE_LIST_COLS CASE_LIST_FROM("$5::int IS NOT NULL")
	    "WHERE a.organisation_id = $1 AND a.ended_at IS NULL "
	    "AND ($2::text IS NULL OR c.stage = $2) "
	    "AND ($3::text IS NULL OR c.reference = $3) "
	    "AND ($4::uuid IS NULL OR EXISTS (SELECT 1 FROM case_assignments s "
	    "WHERE s.case_id = c.id AND s.organisation_id = $1 AND "
	    "s.user_id = $4)) "
	    "AND ($5::int IS NULL OR EXISTS (SELECT 1 FROM case_blind b WHERE "
	    "b.case_id = c.id AND b.purpose = 'name' AND b.bucket = $5)) "
	    "AND ($6::bigint IS NULL OR (c.opened_at, c.id) < "
	    "(timestamptz 'epoch' + $6::bigint * interval '1 microsecond', "
	    "$7::uuid)) AND ($9::boolean IS NOT TRUE OR EXISTS (SELECT 1 "
	    "FROM referrals r WHERE r.case_id = c.id AND r.status = "
	    "'pending' AND r.respond_by < now())) "
	    "ORDER BY c.opened_at DESC, c.id DESC LIMIT $8" },
	/*
	 * The list without filters, its most common form, as statements of
	 * their own: the optional filters above defeat a generic plan, so
	 * PostgreSQL would plan that one again on every call.
	 */
	{ "case_list_first", CASE_LIST_COLS CASE_LIST_FROM("false")
	    "WHERE a.organisation_id = $1 AND a.ended_at IS NULL "
	    "ORDER BY c.opened_at DESC, c.id DESC LIMIT $2" },
	{ "case_list_next", CASE_LIST_COLS CASE_LIST_FROM("false")
	    "WHERE a.organisation_id = $1 AND a.ended_at IS NULL "
	    "AND (c.opened_at, c.id) < (timestamptz 'epoch' + "
	    "$2::bigint * interval '1 microsecond', $3::uuid) "
	    "ORDER BY c.opened_at DESC, c.id DESC LIMIT $4" },
	/*
	 * The same at the default page size, its LIMIT written in: with a
	 * LIMIT parameter the generic plan expects a tenth of the rows, so
	 * PostgreSQL plans again on every call (2 to 4 ms) or picks a parallel
	 * plan that reads ten times the index. With 51 it caches a plan that
	 * walks the newest cases and stops (1.5 ms).
	 */
	{ "case_list_page", CASE_LIST_COLS CASE_LIST_FROM("false")
	    "WHERE a.organisation_id = $1 AND a.ended_at IS NULL "
	    "ORDER BY c.opened_at DESC, c.id DESC LIMIT " CASES_PAGE_PLUS1 },
	{ "case_list_page_next", CASE_LIST_COLS CASE_LIST_FROM("false")
	    "WHERE a.organisation_id = $1 AND a.ended_at IS NULL "
	    "AND (c.opened_at, c.id) < (timestamptz 'epoch' + "
	    "$2::bigint * interval '1 microsecond', $3::uuid) "
	    "ORDER BY c.opened_at DESC, c.id DESC LIMIT " CASES_PAGE_PLUS1 },
	{ "case_dup_candidates",
	    "SELECT c.id, c.reference, k.wrapped, encode(gn.value, 'hex'), "
	    "encode(fn.value, 'hex'), encode(dob.value, 'hex'), "
	    "EXISTS (SELECT 1 FROM case_access a WHERE a.case_id = c.id AND "
	    "a.organisation_id = $3 AND a.ended_at IS NULL) "
	    "FROM case_blind b JOIN cases c ON c.id = b.case_id "
	    "JOIN case_keys k ON k.case_id = c.id "
	    "LEFT JOIN case_fields gn ON gn.case_id = c.id AND "
	    "gn.field = 'victim.given_name' "
	    "LEFT JOIN case_fields fn ON fn.case_id = c.id AND "
	    "fn.field = 'victim.family_name' "
	    "LEFT JOIN case_fields dob ON dob.case_id = c.id AND "
	    "dob.field = 'victim.date_of_birth' "
	    "WHERE b.purpose = 'name' AND b.bucket = $2 AND c.id <> $1 "
	    "AND c.erased_at IS NULL ORDER BY c.opened_at DESC LIMIT 200" },
	{ "case_assignee_check",
	    "SELECT u.role FROM users u WHERE u.id = $1 AND "
	    "u.organisation_id = $2 AND u.active" },
	{ "case_assign",
	    "INSERT INTO case_assignments (case_id, organisation_id, user_id) "
	    "SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM case_access a "
	    "WHERE a.case_id = $1 AND a.organisation_id = $2 AND "
	    "a.ended_at IS NULL) ON CONFLICT (case_id, organisation_id) "
	    "DO UPDATE SET user_id = EXCLUDED.user_id, assigned_at = now() "
	    "RETURNING case_id" },
	{ "case_assigned_to",
	    "SELECT user_id FROM case_assignments WHERE case_id = $1 AND "
	    "organisation_id = $2" },
	{ "case_reassign",
	    "INSERT INTO case_assignments (case_id, organisation_id, user_id) "
	    "SELECT a.case_id, $2, $3 FROM case_access a WHERE "
	    "a.case_id = ANY($1::uuid[]) AND a.organisation_id = $2 AND "
	    "a.ended_at IS NULL ON CONFLICT (case_id, organisation_id) "
	    "DO UPDATE SET user_id = EXCLUDED.user_id, assigned_at = now() "
	    "RETURNING case_id" },
	{ "case_keys_lock",
	    "LOCK TABLE master_key, case_keys IN EXCLUSIVE MODE" },
	{ "case_keys_all", "SELECT case_id, wrapped FROM case_keys" },
	{ "case_key_set", "UPDATE master_key SET key_id = $1, since = now()" },
	{ "case_keys_put",
	    "UPDATE case_keys k SET key_id = $1, wrapped = decode(u.hex, 'hex') "
	    "FROM unnest($2::uuid[], $3::text[]) AS u(id, hex) "
	    "WHERE k.case_id = u.id" },
};

void
cases_init(void)
{
	db_stmts_add(stmts, sizeof(stmts) / sizeof(stmts[0]));
	workflow_init();
	cases_synthetic_init();
	cases_retention_init();
}

/* ---------------------------------------------------------------- helpers */

void
sb_str(struct jv_buf *b, const char *s)
{
	jv_buf_add(b, s, strlen(s));
}

/* Adds an item to a "{a,b}" literal; items must need no quoting. */
void
sb_item(struct jv_buf *b, const char *s)
{
	if (b->len == 0)
		sb_str(b, "{");
	else
		sb_str(b, ",");
	sb_str(b, s);
}

const char *
sb_array(struct jv_buf *b)
{
	if (b->len == 0)
		sb_str(b, "{");
	sb_str(b, "}");
	return b->failed ? NULL : b->p;
}

void
sb_free(struct jv_buf *b)
{
	if (b->p != NULL)
		explicit_bzero(b->p, b->len);
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

void
sb_hex(struct jv_buf *b, const unsigned char *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char pair[2];
	size_t i;

	for (i = 0; i < n; i++) {
		pair[0] = digits[p[i] >> 4];
		pair[1] = digits[p[i] & 15];
		jv_buf_add(b, pair, 2);
	}
}

unsigned char *
cases_unhex(const char *s, size_t *n)
{
	size_t len = strlen(s), i;
	unsigned char *p;
	int hi, lo;

	if (len % 2 != 0 || (p = malloc(len / 2 + 1)) == NULL)
		return NULL;
	for (i = 0; i < len / 2; i++) {
		hi = s[2 * i] <= '9' ? s[2 * i] - '0' : s[2 * i] - 'a' + 10;
		lo = s[2 * i + 1] <= '9' ? s[2 * i + 1] - '0' :
		    s[2 * i + 1] - 'a' + 10;
		p[i] = (unsigned char)(hi * 16 + lo);
	}
	*n = len / 2;
	return p;
}

void
cases_set_err(struct cases_err *err, const char *field, const char *fr,
    const char *en)
{
	snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
	err->fr = fr;
	err->en = en;
}

/*
 * Decrypts one hex ciphertext of a field: its JSON text in *plain (free
 * with sec_plain_free), or an error.
 */
static enum pa_err
open_plain(const struct sec_case_key *key, const char *case_id,
    const char *field, const char *hex, char **plain, size_t *plen)
{
	unsigned char *ct;
	size_t ctlen;
	enum pa_err rc;

	*plain = NULL;
	if (key == NULL || hex == NULL || (ct = cases_unhex(hex, &ctlen)) ==
	    NULL)
		return PA_UNREADABLE;
	rc = sec_open(key, "case_fields", field, case_id, ct, ctlen, plain,
	    plen);
	free(ct);
	return rc;
}

/* Decrypts one hex ciphertext of a field into JSON (NULL on failure). */
json_t *
cases_open_json(const struct sec_case_key *key, const char *case_id,
    const char *field, const char *hex)
{
	char *plain = NULL;
	size_t plen;
	json_t *v = NULL;

	if (open_plain(key, case_id, field, hex, &plain, &plen) == PA_OK) {
		v = json_loadb(plain, plen, JSON_DECODE_ANY, NULL);
		sec_plain_free(plain, plen);
	}
	return v;
}

/* Seals a JSON value for a field; appends name and hex to the arrays. */
static enum pa_err
seal_field(const struct sec_case_key *key, const char *case_id,
    const char *field, json_t *v, struct jv_buf *names, struct jv_buf *hexes)
{
	unsigned char *ct = NULL;
	size_t ctlen;
	char *text;
	enum pa_err rc;

	if ((text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT)) == NULL)
		return PA_INTERNAL;
	rc = sec_seal(key, "case_fields", field, case_id, text, strlen(text),
	    &ct, &ctlen);
	explicit_bzero(text, strlen(text));
	free(text);
	if (rc != PA_OK)
		return rc;
	sb_item(names, field);
	if (hexes->len == 0)
		sb_str(hexes, "{");
	else
		sb_str(hexes, ",");
	sb_hex(hexes, ct, ctlen);
	free(ct);
	return PA_OK;
}

/* Age in whole years at a date, from a date of birth; -1 when unknown. */
static int
age_at(const char *dob, const char *at)
{
	int y1, m1, d1, y2, m2, d2, age;

	if (dob == NULL || at == NULL ||
	    sscanf(dob, "%4d-%2d-%2d", &y1, &m1, &d1) != 3 ||
	    sscanf(at, "%4d-%2d-%2d", &y2, &m2, &d2) != 3)
		return -1;
	age = y2 - y1;
	if (m2 < m1 || (m2 == m1 && d2 < d1))
		age--;
	return age < 0 ? -1 : age;
}

/* The merged view of a case's fields: "victim" and "identification". */
struct view {
	json_t *victim;
	json_t *ident;
};

static json_t *
view_get(const struct view *v, const char *section, const char *name)
{
	json_t *obj = strcmp(section, "victim") == 0 ? v->victim : v->ident;

	return json_object_get(obj, name);
}

/* Derived clear columns: age band, child, and the statistics columns. */
struct derived {
	const char *sex, *age_band, *nationality, *region, *identified_on;
	int child;
	char types[1024];
};

static void
derive(const struct sop *s, const struct view *v, struct derived *d)
{
	json_t *dob = view_get(v, "victim", "date_of_birth");
	json_t *est = view_get(v, "victim", "age_estimate");
	json_t *types = view_get(v, "identification", "exploitation_types");
	char today[11];
	size_t i, used = 0;
	json_t *x;
	int age = -1;

	memset(d, 0, sizeof(*d));
	d->sex = json_string_value(view_get(v, "victim", "sex"));
	d->nationality = json_string_value(view_get(v, "victim",
	    "nationality"));
	d->region = json_string_value(view_get(v, "identification", "region"));
	d->identified_on = json_string_value(view_get(v, "identification",
	    "date"));
	cases_today(today);
	if (json_is_string(dob))
		age = age_at(json_string_value(dob),
		    d->identified_on ? d->identified_on : today);
	else if (json_is_integer(est))
		age = (int)json_integer_value(est);
	d->age_band = cases_age_band(age);
	d->child = age >= 0 && age < s->child_age;
	json_array_foreach(types, i, x) {
		const char *t = json_string_value(x);
		size_t n = t ? strlen(t) : 0;

		if (n == 0 || used + n + 2 > sizeof(d->types))
			continue;
		if (used > 0)
			d->types[used++] = ',';
		memcpy(d->types + used, t, n);
		used += n;
	}
	d->types[used] = '\0';
}

/* Blind-index buckets for the name and the name with date of birth. */
static int
name_bucket(json_t *given, json_t *family, char *norm, size_t normlen)
{
	char joined[600];

	if (!json_is_string(given) && !json_is_string(family))
		return -1;
	snprintf(joined, sizeof(joined), "%s %s",
	    json_is_string(given) ? json_string_value(given) : "",
	    json_is_string(family) ? json_string_value(family) : "");
	cases_name_normalise(joined, norm, normlen);
	explicit_bzero(joined, sizeof(joined));
	if (norm[0] == '\0')
		return -1;
	return sec_blind("name", norm);
}

static enum pa_err
blind_arrays(const struct view *v, struct jv_buf *purposes, struct jv_buf *buckets)
{
	json_t *dob = view_get(v, "victim", "date_of_birth");
	char norm[512], num[16];
	int b;

	b = name_bucket(view_get(v, "victim", "given_name"),
	    view_get(v, "victim", "family_name"), norm, sizeof(norm));
	if (b >= 0) {
		sb_item(purposes, "name");
		snprintf(num, sizeof(num), "%d", b);
		sb_item(buckets, num);
		/*
		 * No index over the date of birth: with the name's it would
		 * make a fingerprint precise enough to link one person's cases
		 * without a key. Dates are compared after decrypting.
		 */
		(void)dob;
	}
	explicit_bzero(norm, sizeof(norm));
	return purposes->failed || buckets->failed ? PA_INTERNAL : PA_OK;
}

enum pa_err
cases_audit(struct db *db, const struct actor *who, const char *action,
    const char *case_id, const char *const *fields, size_t nfields,
    json_t *detail)
{
	struct audit_entry e = { 0 };

	e.user_id = who->user_id;
	e.organisation_id = who->org_id;
	e.action = action;
	e.resource_type = "case";
	e.resource_id = case_id;
	e.fields = fields;
	e.nfields = nfields;
	e.address = who->address;
	e.detail = detail;
	return audit_add(db, &e);
}

/* ------------------------------------------------------------ master key */

static const enum sec_stored stored_all[] = { SEC_STORED_BLIND,
	SEC_STORED_AUDIT };
static const char *const stored_purpose[] = { "blind", "audit" };

/*
 * Loads (on the very first start: makes) the keys kept wrapped in the
 * database and installs them in the ring. Two servers starting at once may
 * both make one; ON CONFLICT keeps the first and both read it back.
 */
static enum pa_err
stored_keys_install(struct db *db, char *err, size_t errlen)
{
	struct db_res *res = NULL;
	unsigned char *w = NULL;
	size_t wl, i;
	enum pa_err rc = PA_OK;

	for (i = 0; rc == PA_OK && i < 2; i++) {
		struct db_arg p = DB_TEXT(stored_purpose[i]);

		if ((rc = db_exec(db, "stored_key_get", &p, 1, &res)) != PA_OK)
			break;
		if (db_res_rows(res) == 0) {
			db_res_free(res);
			res = NULL;
			if ((rc = sec_stored_new(stored_all[i], &w, &wl)) !=
			    PA_OK)
				break;
			{
				struct db_arg a[3] = { p,
					DB_TEXT(sec_ring_key_id()),
					DB_BYTES(w, wl) };

				rc = db_exec(db, "stored_key_add", a, 3, NULL);
			}
			free(w);
			w = NULL;
			if (rc != PA_OK || (rc = db_exec(db, "stored_key_get",
			    &p, 1, &res)) != PA_OK)
				break;
		}
		if (db_res_rows(res) != 1 ||
		    (rc = db_res_bytea(res, 0, 0, &w, &wl)) != PA_OK) {
			rc = PA_INTERNAL;
			break;
		}
		rc = sec_stored_install(stored_all[i], w, wl);
		free(w);
		w = NULL;
		db_res_free(res);
		res = NULL;
	}
	db_res_free(res);
	if (rc != PA_OK)
		snprintf(err, errlen, "cannot open the %s key kept in the "
		    "database with this master key", stored_purpose[i < 2 ? i :
		    1]);
	return rc;
}

enum pa_err
cases_key_check(struct db *db, char *err, size_t errlen)
{
	const char *mine = sec_ring_key_id();
	struct db_res *res = NULL;
	enum pa_err rc;

	if ((rc = db_exec(db, "case_key_init", &DB_TEXT(mine), 1, NULL)) !=
	    PA_OK || (rc = db_exec(db, "case_key_state", NULL, 0, &res)) !=
	    PA_OK) {
		snprintf(err, errlen, "cannot read the master key's state");
		return rc;
	}
	if (db_res_rows(res) != 1 ||
	    strcmp(db_res_get(res, 0, 0), mine) != 0) {
		snprintf(err, errlen,
		    "PASSERELLE_KEY_FILE (--key-file): this key (id %s) is not "
		    "the master key of this database (id %s): use the key file "
		    "the data was written with, or the new one after "
		    "rotate-master-key", mine,
		    db_res_rows(res) == 1 ? db_res_get(res, 0, 0) : "?");
		db_res_free(res);
		return PA_CONFLICT;
	}
	db_res_free(res);
	return stored_keys_install(db, err, errlen);
}

int
cases_rotate_master_key(struct db *db, const struct sec_master *from,
    const struct sec_master *to, char *err, size_t errlen)
{
	struct jv_buf ids = { 0 }, hexes = { 0 };
	struct db_res *res = NULL, *st = NULL;
	char from_id[9], to_id[9];
	unsigned char *w, *nw;
	size_t wl, nwl;
	enum pa_err rc;
	int i, n = 0;

	sec_master_key_id(from, from_id);
	sec_master_key_id(to, to_id);
	if (strcmp(from_id, to_id) == 0) {
		snprintf(err, errlen, "the new key is the current key");
		return -1;
	}
	if ((rc = db_tx_begin(db)) != PA_OK)
		goto fail;
	/* Readers go on; no data key can be written meanwhile. */
	if ((rc = db_exec(db, "case_keys_lock", NULL, 0, NULL)) != PA_OK ||
	    (rc = db_exec(db, "case_key_state", NULL, 0, &st)) != PA_OK)
		goto fail;
	if (db_res_rows(st) != 1 || strcmp(db_res_get(st, 0, 0), from_id)) {
		snprintf(err, errlen, "the current key file (id %s) is not the "
		    "database's master key (id %s)", from_id,
		    db_res_rows(st) == 1 ? db_res_get(st, 0, 0) : "none");
		rc = PA_CONFLICT;
		goto out;
	}
	if ((rc = db_exec(db, "case_keys_all", NULL, 0, &res)) != PA_OK)
		goto fail;
	n = db_res_rows(res);
	for (i = 0; i < n; i++) {
		if ((rc = db_res_bytea(res, i, 1, &w, &wl)) != PA_OK)
			goto fail;
		rc = sec_case_key_rewrap(from, to, db_res_get(res, i, 0), w, wl,
		    &nw, &nwl);
		free(w);
		if (rc != PA_OK) {
			snprintf(err, errlen, "the data key of case %s does not "
			    "open with the current key", db_res_get(res, i, 0));
			goto out;
		}
		sb_item(&ids, db_res_get(res, i, 0));
		sb_str(&hexes, hexes.len == 0 ? "{" : ",");
		sb_hex(&hexes, nw, nwl);
		free(nw);
	}
	if ((rc = db_exec(db, "case_key_set", &DB_TEXT(to_id), 1, NULL)) !=
	    PA_OK || (rc = db_exec(db, "stored_keys_lock", NULL, 0, NULL)) !=
	    PA_OK)
		goto fail;
	for (i = 0; i < 2; i++) {
		struct db_arg p = DB_TEXT(stored_purpose[i]);
		struct db_res *sk = NULL;

		if ((rc = db_exec(db, "stored_key_get", &p, 1, &sk)) != PA_OK)
			goto fail;
		if (db_res_rows(sk) == 1 &&
		    (rc = db_res_bytea(sk, 0, 0, &w, &wl)) == PA_OK) {
			rc = sec_stored_rewrap(from, to, stored_all[i], w, wl,
			    &nw, &nwl);
			free(w);
			if (rc == PA_OK) {
				struct db_arg a[3] = { p, DB_TEXT(to_id),
					DB_BYTES(nw, nwl) };

				rc = db_exec(db, "stored_key_put", a, 3, NULL);
				free(nw);
			}
		}
		db_res_free(sk);
		if (rc != PA_OK)
			goto fail;
	}
	if (n > 0) {
		struct db_arg a[3] = { DB_TEXT(to_id), DB_TEXT(sb_array(&ids)),
			DB_TEXT(sb_array(&hexes)) };

		if (ids.failed || hexes.failed) {
			rc = PA_INTERNAL;
			goto fail;
		}
		if ((rc = db_exec(db, "case_keys_put", a, 3, NULL)) != PA_OK)
			goto fail;
	}
	{
		struct audit_entry e = { 0 };
		json_t *d = json_pack("{s:s, s:s, s:i}", "from", from_id, "to",
		    to_id, "keys", n);

		e.action = "master_key.rotate";
		e.address = "cli";
		e.detail = d;
		rc = audit_add(db, &e);
		json_decref(d);
	}
	if (rc != PA_OK)
		goto fail;
	rc = db_tx_end(db, PA_OK);
	if (rc != PA_OK)
		goto fail;
	snprintf(err, errlen, "rewrapped %d data keys from key %s to key %s",
	    n, from_id, to_id);
	db_res_free(res);
	db_res_free(st);
	sb_free(&ids);
	sb_free(&hexes);
	return 0;
fail:
	snprintf(err, errlen, "rotation failed (database error); nothing "
	    "changed");
out:
	(void)db_tx_end(db, rc == PA_OK ? PA_INTERNAL : rc);
	db_res_free(res);
	db_res_free(st);
	sb_free(&ids);
	sb_free(&hexes);
	return -1;
}

/* ---------------------------------------------------------------- reading */

/* Stage order from the SOP's stage category: -1 when unknown. */
int
cases_stage_index(const struct sop *s, const char *stage)
{
	const struct sop_category *c = sop_category(s, "stage");
	size_t i;

	for (i = 0; c != NULL && stage != NULL && i < c->n; i++)
		if (strcmp(c->codes[i].code, stage) == 0)
			return (int)i;
	return -1;
}

/* Is field f required at stage (its required_at is at or before it)? */
static int
required_now(const struct sop *s, const struct sop_field *f,
    const char *stage)
{
	int at;

	if (f->required_at == NULL)
		return 0;
	at = cases_stage_index(s, f->required_at);
	return at >= 0 && cases_stage_index(s, stage) >= at;
}

/* section.name (as snprintf would, truncated to len; 20 a read, no format). */
static void
field_path(const struct sop_field *f, char *buf, size_t len)
{
	size_t a = strlen(f->section), b = strlen(f->name);

	if (len == 0)
		return;
	if (a + 1 + b >= len) {
		snprintf(buf, len, "%s.%s", f->section, f->name);
		return;
	}
	memcpy(buf, f->section, a);
	buf[a] = '.';
	memcpy(buf + a + 1, f->name, b + 1);
}

void
cases_consents(struct db_res *row, struct consents *cs)
{
	size_t i;
	json_t *x;

	cs->n = 0;
	cs->arr = json_loads(db_res_get(row, 0, COL_CONSENTS), 0, NULL);
	json_array_foreach(cs->arr, i, x) {
		if (json_is_string(x) && cs->n < 16)
			cs->scopes[cs->n++] = json_string_value(x);
	}
}

/*
 * The one rule of what a reader sees of a case's fields: where field f's
 * value is, the hex of its ciphertext (f->encrypted) or its clear value
 * (borrowed from sealed or clear); NULL when the reader may not see it
 * (all: every field, for an update) or the case has none. path receives
 * "section.name". Both the view for updates and the rendered case (tree or
 * text) ask here.
 */
static json_t *
field_source(const struct sop_field *f, const struct actor *who,
    const struct consents *cs, int all, json_t *clear, json_t *sealed,
    char path[96])
{
	if (!all && !sop_field_visible(f, who->org_kind, who->role,
	    cs->scopes, cs->n))
		return NULL;
	field_path(f, path, 96);
	return json_object_get(f->encrypted ? sealed : clear, path);
}

/* The field's place in the rendered case: "victim" or "identification". */
static int
field_of_victim(const struct sop_field *f)
{
	return strcmp(f->section, "victim") == 0;
}

/*
 * Builds the full view of a case row (every field, decrypted) for update,
 * or the caller's view (visible fields only).
 */
static enum pa_err
case_view(const struct sop *s, const struct actor *who, struct db_res *row,
    const struct sec_case_key *key, int all, struct view *v)
{
	json_t *clear = json_loads(db_res_get(row, 0, COL_CLEAR), 0, NULL);
	json_t *sealed = cases_sealed_parse(db_res_get(row, 0, COL_FIELDS));
	const char *case_id = db_res_get(row, 0, COL_ID);
	struct consents cs;
	enum pa_err rc = PA_OK;
	char path[96];
	json_t *val, *src;
	size_t i;

	cases_consents(row, &cs);

	v->victim = json_object();
	v->ident = json_object();
	if (clear == NULL || sealed == NULL || v->victim == NULL ||
	    v->ident == NULL) {
		rc = PA_INTERNAL;
		goto out;
	}
	for (i = 0; i < s->nfields; i++) {
		const struct sop_field *f = &s->fields[i];

		if ((src = field_source(f, who, &cs, all, clear, sealed,
		    path)) == NULL)
			continue;
		if (f->encrypted) {
			if ((val = cases_open_json(key, case_id, path,
			    json_string_value(src))) == NULL) {
				log_error("cases: field %s of case %s does not "
				    "open (integrity)", path, case_id);
				rc = PA_UNREADABLE;
				goto out;
			}
		} else
			val = json_incref(src);
		json_object_set_new(field_of_victim(f) ? v->victim : v->ident,
		    f->name, val);
	}
out:
	json_decref(cs.arr);
	json_decref(clear);
	json_decref(sealed);
	if (rc != PA_OK) {
		json_decref(v->victim);
		json_decref(v->ident);
		v->victim = v->ident = NULL;
	}
	return rc;
}

json_t *
cases_sealed_parse(const char *s)
{
	json_t *o = json_object();
	const char *colon, *end, *p;
	char path[96];
	size_t n;

	while (o != NULL && *s != '\0') {
		if ((colon = strchr(s, ':')) == NULL ||
		    (n = (size_t)(colon - s)) == 0 || n >= sizeof(path) ||
		    memchr(s, ',', n) != NULL)
			goto bad;
		memcpy(path, s, n);
		path[n] = '\0';
		for (end = p = colon + 1; (*end >= '0' && *end <= '9') ||
		    (*end >= 'a' && *end <= 'f'); end++)
			;
		if (end == p || (*end != ',' && *end != '\0') ||
		    json_object_set_new(o, path,
			json_stringn_nocheck(p, (size_t)(end - p))) != 0)
			goto bad;
		s = *end == ',' ? end + 1 : end;
		if (*end == ',' && *s == '\0')
			goto bad;
	}
	return o;
bad:
	json_decref(o);
	return NULL;
}

enum pa_err
cases_open_key(struct db_res *row, struct sec_case_key **key)
{
	unsigned char *w = NULL;
	size_t wl = 0;
	enum pa_err rc;

	*key = NULL;
	if (db_res_isnull(row, 0, COL_WRAPPED))
		return PA_OK;	/* erased: nothing left to open */
	if ((rc = db_res_bytea(row, 0, COL_WRAPPED, &w, &wl)) != PA_OK)
		return rc;
	rc = sec_case_key_open(db_res_get(row, 0, COL_ID), w, wl, key);
	free(w);
	if (rc != PA_OK) {
		log_error("cases: data key of case %s does not open%s",
		    db_res_get(row, 0, COL_ID),
		    rc == PA_CONFLICT ? " (wrapped under another master key: "
					"restart with the current key file)" :
					" (integrity)");
		return PA_UNREADABLE;
	}
	return PA_OK;
}

/* Field names of a JSON array, as a C array for the audit (borrowed). */
static size_t
names_of(json_t *arr, const char **names, size_t max)
{
	size_t i, n = 0;
	json_t *x;

	json_array_foreach(arr, i, x) {
		if (n < max)
			names[n++] = json_string_value(x);
	}
	return n;
}

/*
 * Emits the "victim" or the "identification" object: the fields the reader
 * sees (field_source), in the SOP's order, sealed ones decrypted.
 */
static enum pa_err
emit_fields(struct emit *em, const struct sop *s, const struct actor *who,
    const struct consents *cs, json_t *clear, json_t *sealed,
    const struct sec_case_key *key, const char *case_id, int victim)
{
	char path[96], *plain;
	size_t i, plen;
	json_t *src;
	int bad;

	em_obj(em, victim ? "victim" : "identification");
	for (i = 0; i < s->nfields; i++) {
		const struct sop_field *f = &s->fields[i];

		if (field_of_victim(f) != victim || (src = field_source(f, who,
		    cs, 0, clear, sealed, path)) == NULL)
			continue;
		if (!f->encrypted) {
			em_json(em, f->name, src);
			continue;
		}
		bad = open_plain(key, case_id, path, json_string_value(src),
		    &plain, &plen) != PA_OK;
		if (!bad) {
			bad = em_json_text(em, f->name, plain, plen) != 0;
			sec_plain_free(plain, plen);
		}
		if (bad) {
			log_error("cases: field %s of case %s does not open "
			    "(integrity)", path, case_id);
			return PA_UNREADABLE;
		}
	}
	em_end(em);
	return PA_OK;
}

/* Renders the case for the caller, inside the caller's transaction. */
static enum pa_err render(struct db *db, const struct actor *who,
    struct db_res *row, struct emit *em, int commit, struct wf_pre *pre);

enum pa_err
cases_render(struct db *db, const struct actor *who, struct db_res *row,
    json_t **out)
{
	struct emit em;
	enum pa_err rc;

	em_init(&em, EM_TREE);
	rc = render(db, who, row, &em, 0, NULL);
	*out = rc == PA_OK ? em_take_tree(&em) : NULL;
	em_free(&em);
	if (rc == PA_OK && *out == NULL)
		rc = PA_INTERNAL;
	return rc;
}

/*
 * The case as the caller may see it, written through em (a tree for the
 * writes, text for the read: one renderer, so that both show the same).
 * commit: the audit record of the read is the transaction's last write;
 * it goes with COMMIT (the transaction is over on return, even with no
 * identity read to audit). Nothing is audited when rendering fails.
 */
static enum pa_err
render(struct db *db, const struct actor *who, struct db_res *row,
    struct emit *em, int commit, struct wf_pre *pre)
{
	const struct sop *s = sop_current();
	const char *id = db_res_get(row, 0, COL_ID);
	struct sec_case_key *key = NULL;
	const char *names[64];
	char paths[64][96];
	json_t *clear = NULL, *sealed = NULL;
	struct consents cs = { NULL, { NULL }, 0 };
	int64_t version = 0;
	size_t i, nid = 0;
	enum pa_err rc;
	int erased = strcmp(db_res_get(row, 0, COL_ERASED), "t") == 0;

	if ((rc = cases_open_key(row, &key)) != PA_OK)
		goto out;
	clear = json_loads(db_res_get(row, 0, COL_CLEAR), 0, NULL);
	sealed = cases_sealed_parse(db_res_get(row, 0, COL_FIELDS));
	cases_consents(row, &cs);
	if (clear == NULL || sealed == NULL) {
		rc = PA_INTERNAL;
		goto out;
	}
	/* The identity fields shown, in the SOP's order, for the audit. */
	for (i = 0; i < s->nfields && nid < 64; i++)
		if (s->fields[i].identity && field_source(&s->fields[i], who,
		    &cs, 0, clear, sealed, paths[nid]) != NULL) {
			names[nid] = paths[nid];
			nid++;
		}
	(void)db_res_int64(row, 0, COL_VERSION, &version);
	em_obj(em, NULL);
	em_str(em, "id", id);
	em_str(em, "reference", db_res_get(row, 0, COL_REF));
	em_str(em, "stage", db_res_get(row, 0, COL_STAGE));
	em_int(em, "version", (long long)version);
	em_obj(em, "lead_organisation");
	em_str(em, "id", db_res_get(row, 0, COL_LEAD));
	em_str(em, "name", db_res_get(row, 0, COL_LEAD_NAME));
	em_str(em, "kind", db_res_get(row, 0, COL_LEAD_KIND));
	em_end(em);
	em_str(em, "opened_at", db_res_get(row, 0, COL_OPENED));
	em_str_opt(em, "sex", db_res_isnull(row, 0, COL_SEX) ? NULL :
	    db_res_get(row, 0, COL_SEX));
	em_str(em, "age_band", db_res_get(row, 0, COL_AGE_BAND));
	em_bool(em, "child", strcmp(db_res_get(row, 0, COL_CHILD), "t") == 0);
	em_bool(em, "erased", erased);
	if ((rc = emit_fields(em, s, who, &cs, clear, sealed, key, id, 1)) !=
	    PA_OK ||
	    (rc = emit_fields(em, s, who, &cs, clear, sealed, key, id, 0)) !=
	    PA_OK)
		goto out;
	if (!db_res_isnull(row, 0, COL_ASSIGNED)) {
		em_obj(em, "assigned_to");
		em_str(em, "user_id", db_res_get(row, 0, COL_ASSIGNED));
		em_end(em);
	}
	if (pre != NULL) {
		/* The workflow reads them again: parsed once is enough. */
		pre->clear = clear;
		pre->sealed = sealed;
		clear = sealed = NULL;
	}
	if ((rc = workflow_emit(db, who, row, key, em, pre)) != PA_OK)
		goto out;
	em_end(em);
	if (em_failed(em)) {
		rc = PA_INTERNAL;
		goto out;
	}
	/* Every read of identity is audited, with the field names. */
	if (nid > 0 && commit) {
		struct audit_entry e = { 0 };

		e.user_id = who->user_id;
		e.organisation_id = who->org_id;
		e.action = "case.read";
		e.resource_type = "case";
		e.resource_id = id;
		e.fields = names;
		e.nfields = nid;
		e.address = who->address;
		rc = audit_add_commit(db, &e);
	} else if (nid > 0)
		rc = cases_audit(db, who, "case.read", id, names, nid, NULL);
	else if (commit)
		rc = db_tx_end(db, PA_OK);
out:
	json_decref(cs.arr);
	json_decref(clear);
	json_decref(sealed);
	sec_case_key_free(key);
	return rc;
}

enum pa_err
cases_fetch(struct db *db, const struct actor *who, const char *id, int lock,
    struct db_res **row)
{
	struct db_arg a[2] = { DB_TEXT(id), DB_TEXT(who->org_id) };
	enum pa_err rc;

	*row = NULL;
	if (!jv_uuid_valid(id))
		return PA_NOT_FOUND;
	rc = db_exec(db, lock ? "case_get_locked" : "case_get", a, 2, row);
	if (rc == PA_OK && db_res_rows(*row) != 1)
		rc = PA_NOT_FOUND;
	if (rc != PA_OK) {
		db_res_free(*row);
		*row = NULL;
	}
	return rc;
}

static enum pa_err get_once(struct db *db, const struct actor *who,
    const struct cases_signed *s, const char *id, struct actor *caller,
    char **text, size_t *len);

enum pa_err
cases_get(struct db *db, const struct actor *who, const char *id,
    char **text, size_t *len)
{
	enum pa_err rc = get_once(db, who, NULL, id, NULL, text, len);

	/*
	 * Another server wrote the audit chain this connection remembered:
	 * the read was rolled back whole; the second time takes the head's
	 * lock and cannot meet that again.
	 */
	if (rc == PA_CONFLICT)
		rc = get_once(db, who, NULL, id, NULL, text, len);
	return rc;
}

enum pa_err
cases_get_signed(struct db *db, const struct cases_signed *s, const char *id,
    struct actor *who, char **text, size_t *len)
{
	enum pa_err rc = get_once(db, NULL, s, id, who, text, len);

	if (rc == PA_CONFLICT)
		rc = get_once(db, NULL, s, id, who, text, len);
	return rc;
}

/*
 * BEGIN and the read's statement: its row in *row. A case without a
 * document (migration 0008; its triggers make one with every case, so
 * only a hand-made case lacks it) gets one from its tables, and the
 * statement runs again in the same transaction.
 */
static enum pa_err
read_row(struct db *db, const char *stmt, const struct db_arg *a, int n,
    const char *id, struct db_res **row)
{
	struct db_arg m[1] = { DB_TEXT(id) };
	enum pa_err rc = db_tx_begin_exec(db, stmt, a, n, row);

	if (rc != PA_OK || db_res_rows(*row) != 1 ||
	    db_res_isnull(*row, 0, COL_ID) ||
	    strcmp(db_res_get(*row, 0, COL_WF_DOC), "t") == 0)
		return rc;
	log_warn("case %s had no read document: made from its tables", id);
	db_res_free(*row);
	*row = NULL;
	if ((rc = db_exec(db, "case_docs_lock", m, 1, NULL)) == PA_OK &&
	    (rc = db_exec(db, "case_docs_make", m, 1, NULL)) == PA_OK)
		rc = db_exec(db, stmt, a, n, row);
	if (rc == PA_OK && db_res_rows(*row) == 1 &&
	    !db_res_isnull(*row, 0, COL_ID) &&
	    strcmp(db_res_get(*row, 0, COL_WF_DOC), "t") != 0)
		rc = PA_INTERNAL;
	return rc;
}

/*
 * One read: with who, of that caller (the guard checked the session); with
 * s, the session is checked in the same statement and the caller written
 * to *caller (see cases_get_signed).
 */
static enum pa_err
get_once(struct db *db, const struct actor *who, const struct cases_signed *s,
    const char *id, struct actor *caller, char **text, size_t *len)
{
	struct db_res *row = NULL;
	struct wf_pre pre;
	struct emit em;
	enum pa_err rc;

	*text = NULL;
	*len = 0;
	em_init(&em, EM_TEXT);
	/*
	 * A read writes only its audit record; it need not hold the session
	 * (the guard has just checked it, or the statement does). BEGIN and
	 * the case travel together, the case with its workflow's rows in the
	 * same statement (case_read; without access to the case there is no
	 * row, and none of them), and the audit record goes with COMMIT.
	 */
	memset(&pre, 0, sizeof(pre));
	if (s == NULL) {
		struct db_arg a[2] = { DB_TEXT(id), DB_TEXT(who->org_id) };

		if (!jv_uuid_valid(id))
			return PA_NOT_FOUND;
		rc = read_row(db, "case_read", a, 2, id, &row);
		if (rc == PA_OK && db_res_rows(row) != 1)
			rc = PA_NOT_FOUND;
	} else {
		struct db_arg a[4] = { DB_TEXT(id), DB_BYTES(s->th, 32),
			DB_TEXT(s->idle), DB_TEXT(s->allowed) };

		if (!jv_uuid_valid(id))	/* the caller's job: a 404 after 401 */
			return PA_INTERNAL;
		rc = read_row(db, "case_read_signed", a, 4, id, &row);
		if (rc == PA_OK && db_res_rows(row) != 1)
			rc = PA_NO_SESSION;
		if (rc == PA_OK) {
			auth_session_from_row(row, COL_SESSION, s->th,
			    s->address, caller);
			rc = s->admit(caller, s->arg);
			who = caller;
		}
		if (rc == PA_OK && db_res_isnull(row, 0, COL_ID))
			rc = PA_NOT_FOUND;
		/* At most once in 30 s for a session: one round trip more. */
		if (rc == PA_OK &&
		    strcmp(db_res_get(row, 0, COL_SESSION_STALE), "t") == 0)
			rc = auth_touch(db, s->th);
	}
	if (rc == PA_OK)
		rc = workflow_pre_from_row(&pre, row);
	if (rc == PA_OK)
		rc = render(db, who, row, &em, 1, &pre);
	workflow_pre_free(&pre);
	db_res_free(row);
	rc = db_tx_end(db, rc);	/* a no-op once committed */
	if (rc == PA_OK && (*text = em_take_text(&em, len)) == NULL)
		rc = PA_INTERNAL;
	em_free(&em);	/* wipes what was written of a failed read */
	return rc;
}

/* ------------------------------------------------------------- duplicates */

static json_t *
find_duplicates(struct db *db, const struct actor *who, const char *case_id,
    const struct view *v, enum pa_err *rc)
{
	json_t *given = view_get(v, "victim", "given_name");
	json_t *family = view_get(v, "victim", "family_name");
	json_t *dob = view_get(v, "victim", "date_of_birth");
	struct db_res *res = NULL;
	char norm[512], other[512], joined[600], num[16];
	json_t *found = json_array(), *detail, *g, *f, *d;
	struct sec_case_key *key;
	unsigned char *w;
	size_t wl;
	int bucket, i, matches = 0, shown = 0, n;
	static const char *const read_fields[] = { "victim.given_name",
		"victim.family_name", "victim.date_of_birth" };

	*rc = PA_OK;
	if (found == NULL) {
		*rc = PA_INTERNAL;
		return NULL;
	}
	if ((bucket = name_bucket(given, family, norm, sizeof(norm))) < 0)
		return found;
	snprintf(num, sizeof(num), "%d", bucket);
	{
		struct db_arg a[3] = { DB_TEXT(case_id), DB_TEXT(num),
			DB_TEXT(who->org_id) };

		if ((*rc = db_exec(db, "case_dup_candidates", a, 3, &res)) !=
		    PA_OK) {
			json_decref(found);
			return NULL;
		}
	}
	n = db_res_rows(res);
	for (i = 0; i < n; i++) {
		const char *oid = db_res_get(res, i, 0);

		if (db_res_bytea(res, i, 2, &w, &wl) != PA_OK)
			continue;
		*rc = sec_case_key_open(oid, w, wl, &key);
		free(w);
		if (*rc != PA_OK) {
			*rc = PA_OK;	/* an unreadable candidate is no match */
			continue;
		}
		g = db_res_isnull(res, i, 3) ? NULL : cases_open_json(key, oid,
		    "victim.given_name", db_res_get(res, i, 3));
		f = db_res_isnull(res, i, 4) ? NULL : cases_open_json(key, oid,
		    "victim.family_name", db_res_get(res, i, 4));
		d = db_res_isnull(res, i, 5) ? NULL : cases_open_json(key, oid,
		    "victim.date_of_birth", db_res_get(res, i, 5));
		sec_case_key_free(key);
		snprintf(joined, sizeof(joined), "%s %s",
		    json_is_string(g) ? json_string_value(g) : "",
		    json_is_string(f) ? json_string_value(f) : "");
		cases_name_normalise(joined, other, sizeof(other));
		if (strcmp(other, norm) == 0) {
			matches++;
			if (strcmp(db_res_get(res, i, 6), "t") == 0) {
				shown++;
				json_array_append_new(found, json_pack(
				    "{s:s, s:s, s:s}", "id", oid, "reference",
				    db_res_get(res, i, 1), "match",
				    json_is_string(dob) && json_is_string(d) &&
					json_equal(dob, d) ?
					"name_and_date_of_birth" : "name"));
			}
		}
		explicit_bzero(joined, sizeof(joined));
		explicit_bzero(other, sizeof(other));
		json_decref(g);
		json_decref(f);
		json_decref(d);
	}
	db_res_free(res);
	explicit_bzero(norm, sizeof(norm));
	/*
	 * The organisation's own auditors read this record: it says only
	 * what the caller was shown, never that a hidden case matched.
	 */
	(void)matches;
	if (n > 0) {
		detail = json_pack("{s:i}", "shown", shown);
		*rc = cases_audit(db, who, "case.duplicate_check", case_id,
		    read_fields, 3, detail);
		json_decref(detail);
	}
	if (*rc != PA_OK) {
		json_decref(found);
		return NULL;
	}
	return found;
}

/* ------------------------------------------------------------------ writes */

/* Fields required at stage must be set: 422 naming the first missing. */
static enum pa_err
check_required(const struct sop *s, const struct view *v, const char *stage,
    struct cases_err *err)
{
	char path[96];
	json_t *x;
	size_t i;

	for (i = 0; i < s->nfields; i++) {
		const struct sop_field *f = &s->fields[i];

		if (!required_now(s, f, stage))
			continue;
		x = view_get(v, f->section, f->name);
		if (x == NULL || json_is_null(x) ||
		    (json_is_array(x) && json_array_size(x) == 0)) {
			field_path(f, path, sizeof(path));
			cases_set_err(err, path, "champ obligatoire à cette étape",
			    "field required at this stage");
			return PA_INVALID;
		}
	}
	return PA_OK;
}

/*
 * Seals the encrypted fields of v (only those named in only, when given)
 * and gathers the clear ones into a JSON object.
 */
static enum pa_err
split_fields(const struct sop *s, const struct sec_case_key *key,
    const char *case_id, const struct view *v, json_t *only,
    struct jv_buf *names, struct jv_buf *hexes, json_t *clear,
    json_t *written)
{
	char path[96];
	json_t *x;
	size_t i;
	enum pa_err rc;

	for (i = 0; i < s->nfields; i++) {
		const struct sop_field *f = &s->fields[i];

		x = view_get(v, f->section, f->name);
		field_path(f, path, sizeof(path));
		if (x == NULL || json_is_null(x))
			continue;
		if (!f->encrypted) {
			json_object_set(clear, path, x);
			continue;
		}
		if (only != NULL && json_object_get(only, path) == NULL)
			continue;
		if ((rc = seal_field(key, case_id, path, x, names, hexes)) !=
		    PA_OK)
			return rc;
		if (written != NULL)
			json_array_append_new(written, json_string(path));
	}
	return names->failed || hexes->failed ? PA_INTERNAL : PA_OK;
}

enum pa_err
cases_create(struct db *db, const struct actor *who, json_t *body,
    json_t **out, struct cases_err *err)
{
	const struct sop *s = sop_current();
	struct jv_buf names = { 0 }, hexes = { 0 }, purposes = { 0 },
		    buckets = { 0 };
	const char *a_names, *a_hexes, *a_purposes, *a_buckets;
	struct sec_case_key *key = NULL;
	unsigned char *wrapped = NULL;
	struct db_res *res = NULL;
	struct view v;
	struct derived d;
	json_t *clear = json_object(), *written = json_array(), *dups = NULL;
	const char *fnames[64];
	char id[37], year[8], today[11], *cleartext = NULL;
	size_t wlen = 0;
	enum pa_err rc;

	*out = NULL;
	memset(err, 0, sizeof(*err));
	v.victim = json_object_get(body, "victim");
	v.ident = json_object_get(body, "identification");
	if (clear == NULL || written == NULL) {
		rc = PA_INTERNAL;
		goto out;
	}
	if ((rc = cases_validate_section(s, "victim", v.victim, 0, err)) !=
	    PA_OK ||
	    (rc = cases_validate_section(s, "identification", v.ident, 0,
		 err)) != PA_OK ||
	    (rc = check_required(s, &v, s->initial_stage, err)) != PA_OK)
		goto out;
	derive(s, &v, &d);
	sec_uuid_new(id);
	if ((rc = sec_case_key_new(id, &key, &wrapped, &wlen)) != PA_OK ||
	    (rc = split_fields(s, key, id, &v, NULL, &names, &hexes, clear,
		 written)) != PA_OK ||
	    (rc = blind_arrays(&v, &purposes, &buckets)) != PA_OK)
		goto out;
	if ((cleartext = json_dumps(clear, JSON_COMPACT)) == NULL ||
	    (a_names = sb_array(&names)) == NULL ||
	    (a_hexes = sb_array(&hexes)) == NULL ||
	    (a_purposes = sb_array(&purposes)) == NULL ||
	    (a_buckets = sb_array(&buckets)) == NULL) {
		rc = PA_INTERNAL;	/* out of memory: nothing half-written */
		goto out;
	}
	cases_today(today);
	snprintf(year, sizeof(year), "%.4s", today);
	if ((rc = auth_tx_begin(db, who)) != PA_OK)
		goto out;
	/*
	 * The audit record and the duplicate check come first: the insert
	 * takes the year's reference counter, whose row lock every other
	 * registration in the country waits on until this one commits.
	 */
	rc = cases_audit(db, who, "case.create", id, fnames,
	    names_of(written, fnames, 64), NULL);
	if (rc == PA_OK)
		dups = find_duplicates(db, who, id, &v, &rc);
	if (rc == PA_OK) {
		struct db_arg a[21] = { DB_TEXT(id),
			DB_TEXT(s->reference_prefix), DB_TEXT(year),
			DB_TEXT(who->org_id), DB_TEXT(who->user_id),
			DB_TEXT(s->initial_stage),
			d.sex ? DB_TEXT(d.sex) : DB_NULL, DB_TEXT(d.age_band),
			DB_TEXT(d.child ? "true" : "false"),
			d.nationality ? DB_TEXT(d.nationality) : DB_NULL,
			d.region ? DB_TEXT(d.region) : DB_NULL,
			d.identified_on ? DB_TEXT(d.identified_on) : DB_NULL,
			DB_TEXT(who->org_kind), DB_TEXT(d.types),
			DB_TEXT(cleartext), DB_TEXT(sec_ring_key_id()),
			DB_BYTES(wrapped, wlen), DB_TEXT(a_names),
			DB_TEXT(a_hexes), DB_TEXT(a_purposes),
			DB_TEXT(a_buckets) };

		rc = db_exec(db, "case_insert", a, 21, &res);
	}
	if (rc == PA_OK && db_res_rows(res) != 1)
		rc = PA_INTERNAL;
	if (rc == PA_OK) {
		json_t *ev = json_pack("{s:s}", "stage", s->initial_stage);

		rc = event_add(db, who, id, "case.created", NULL, "case", ev,
		    NULL, NULL);
		json_decref(ev);
	}
	rc = db_tx_end(db, rc);
	if (rc == PA_OK) {
		*out = json_pack("{s:s, s:s, s:s, s:i, s:o}", "id", id,
		    "reference", db_res_get(res, 0, 0), "stage",
		    s->initial_stage, "version", 1, "possible_duplicates",
		    dups);
		dups = NULL;
		if (*out == NULL)
			rc = PA_INTERNAL;
	}
out:
	json_decref(dups);
	db_res_free(res);
	sec_case_key_free(key);
	free(wrapped);
	free(cleartext);
	sb_free(&names);
	sb_free(&hexes);
	sb_free(&purposes);
	sb_free(&buckets);
	json_decref(clear);
	json_decref(written);
	return rc;
}

/* Applies a patch object onto a view section; collects touched paths. */
static enum pa_err
merge(const struct sop *s, const struct actor *who, const char *section,
    json_t *patch, json_t *into, json_t *touched, const struct consents *cs,
    struct cases_err *err)
{
	const struct sop_field *f;
	const char *k;
	char path[96];
	json_t *x;

	json_object_foreach(patch, k, x) {
		f = sop_field(s, section, k);
		field_path(f, path, sizeof(path));
		/* Nobody changes a field they may not see. */
		if (!sop_field_visible(f, who->org_kind, who->role, cs->scopes,
		    cs->n)) {
			cases_set_err(err, path, "champ non modifiable par ce compte",
			    "this account may not change this field");
			return PA_FORBIDDEN;
		}
		if (json_is_null(x))
			json_object_del(into, k);
		else
			json_object_set(into, k, x);
		json_object_set_new(touched, path, json_true());
	}
	return PA_OK;
}

enum pa_err
cases_update(struct db *db, const struct actor *who, const char *id,
    json_t *body, json_t **out, struct cases_err *err)
{
	const struct sop *s = sop_current();
	json_t *pv = json_object_get(body, "victim");
	json_t *pi = json_object_get(body, "identification");
	struct jv_buf names = { 0 }, hexes = { 0 }, drops = { 0 },
		    purposes = { 0 }, buckets = { 0 };
	const char *a_names, *a_hexes, *a_drops, *a_purposes, *a_buckets;
	json_t *touched = json_object(), *clear = json_object();
	struct sec_case_key *key = NULL;
	struct db_res *row = NULL, *res = NULL;
	struct view v = { NULL, NULL };
	struct consents cs = { NULL, { NULL }, 0 };
	struct derived d;
	const char *fnames[64], *path;
	char *cleartext = NULL, ver[24];
	int64_t version = 0, want;
	size_t nf = 0;
	json_t *x;
	enum pa_err rc;

	*out = NULL;
	memset(err, 0, sizeof(*err));
	want = json_integer_value(json_object_get(body, "version"));
	if (touched == NULL || clear == NULL) {
		rc = PA_INTERNAL;
		goto out;
	}
	if ((rc = cases_validate_section(s, "victim", pv, 1, err)) != PA_OK ||
	    (rc = cases_validate_section(s, "identification", pi, 1, err)) !=
		PA_OK)
		goto out;
	if ((rc = auth_tx_begin(db, who)) != PA_OK)
		goto out;
	if ((rc = cases_fetch(db, who, id, 1, &row)) != PA_OK)
		goto end;
	(void)db_res_int64(row, 0, COL_VERSION, &version);
	if (strcmp(db_res_get(row, 0, COL_ERASED), "t") == 0) {
		cases_set_err(err, NULL, "ce dossier a été effacé",
		    "this case was erased");
		rc = PA_CONFLICT;
		goto end;
	}
	if (version != want) {
		cases_set_err(err, "version", "le dossier a changé entre-temps : "
		    "rechargez-le", "the case changed meanwhile: reload it");
		rc = PA_CONFLICT;
		goto end;
	}
	if ((rc = cases_open_key(row, &key)) != PA_OK ||
	    (rc = case_view(s, who, row, key, 1, &v)) != PA_OK)
		goto end;
	cases_consents(row, &cs);
	if ((pv && (rc = merge(s, who, "victim", pv, v.victim, touched, &cs,
		err)) != PA_OK) ||
	    (pi && (rc = merge(s, who, "identification", pi, v.ident,
		touched, &cs, err)) != PA_OK) ||
	    (rc = check_required(s, &v, db_res_get(row, 0, COL_STAGE), err)) !=
		PA_OK)
		goto end;
	derive(s, &v, &d);
	if ((rc = split_fields(s, key, id, &v, touched, &names, &hexes, clear,
		 NULL)) != PA_OK ||
	    (rc = blind_arrays(&v, &purposes, &buckets)) != PA_OK)
		goto end;
	json_object_foreach(touched, path, x) {
		const char *dot = strchr(path, '.');
		char sec[32];

		snprintf(sec, sizeof(sec), "%.*s", (int)(dot - path), path);
		if (view_get(&v, sec, dot + 1) == NULL)
			sb_item(&drops, path);
		if (nf < 64)
			fnames[nf++] = path;
	}
	if ((cleartext = json_dumps(clear, JSON_COMPACT)) == NULL ||
	    (a_names = sb_array(&names)) == NULL ||
	    (a_hexes = sb_array(&hexes)) == NULL ||
	    (a_drops = sb_array(&drops)) == NULL ||
	    (a_purposes = sb_array(&purposes)) == NULL ||
	    (a_buckets = sb_array(&buckets)) == NULL) {
		rc = PA_INTERNAL;	/* out of memory: nothing half-written */
		goto end;
	}
	snprintf(ver, sizeof(ver), "%lld", (long long)version);
	{
		struct db_arg a[10] = { DB_TEXT(id), DB_TEXT(ver),
			d.sex ? DB_TEXT(d.sex) : DB_NULL, DB_TEXT(d.age_band),
			DB_TEXT(d.child ? "true" : "false"),
			d.nationality ? DB_TEXT(d.nationality) : DB_NULL,
			d.region ? DB_TEXT(d.region) : DB_NULL,
			d.identified_on ? DB_TEXT(d.identified_on) : DB_NULL,
			DB_TEXT(d.types), DB_TEXT(cleartext) };
		struct db_arg fp[3] = { DB_TEXT(id), DB_TEXT(a_names),
			DB_TEXT(a_hexes) };
		struct db_arg fd[2] = { DB_TEXT(id), DB_TEXT(a_drops) };
		struct db_arg bs[3] = { DB_TEXT(id), DB_TEXT(a_purposes),
			DB_TEXT(a_buckets) };

		rc = db_exec(db, "case_update", a, 10, &res);
		if (rc == PA_OK && db_res_rows(res) != 1)
			rc = PA_CONFLICT;
		if (rc == PA_OK && names.len > 2)
			rc = db_exec(db, "case_fields_put", fp, 3, NULL);
		if (rc == PA_OK && drops.len > 2)
			rc = db_exec(db, "case_fields_drop", fd, 2, NULL);
		if (rc == PA_OK)
			rc = db_exec(db, "case_blind_set", bs, 3, NULL);
	}
	if (rc == PA_OK)
		rc = cases_audit(db, who, "case.update", id, fnames, nf, NULL);
	if (rc == PA_OK) {
		json_t *ev = json_pack("{s:i}", "fields", (int)nf);

		rc = event_add(db, who, id, "case.updated", NULL, "case", ev,
		    NULL, NULL);
		json_decref(ev);
	}
	db_res_free(row);
	row = NULL;
	if (rc == PA_OK && (rc = cases_fetch(db, who, id, 0, &row)) == PA_OK)
		rc = cases_render(db, who, row, out);
end:
	rc = db_tx_end(db, rc);
	if (rc != PA_OK) {
		json_decref(*out);
		*out = NULL;
	}
out:
	db_res_free(row);
	db_res_free(res);
	sec_case_key_free(key);
	free(cleartext);
	sb_free(&names);
	sb_free(&hexes);
	sb_free(&drops);
	sb_free(&purposes);
	sb_free(&buckets);
	json_decref(v.victim);
	json_decref(v.ident);
	json_decref(touched);
	json_decref(clear);
	json_decref(cs.arr);
	return rc;
}

enum pa_err
cases_shred(struct db *db, const struct actor *who, const char *id,
    const char *org_id, const char *action, json_t *detail, int64_t *version)
{
	struct audit_entry e = { 0 };
	struct db_res *res = NULL;
	enum pa_err rc;

	if ((rc = db_exec(db, "case_erase", &DB_TEXT(id), 1, &res)) != PA_OK)
		return rc;
	/* No row: erased already (by a concurrent request or run). */
	if (db_res_rows(res) != 1 || db_res_int64(res, 0, 0, version) != 0) {
		db_res_free(res);
		return PA_CONFLICT;
	}
	db_res_free(res);
	e.user_id = who ? who->user_id : NULL;
	e.organisation_id = org_id;
	e.action = action;
	e.resource_type = "case";
	e.resource_id = id;
	e.address = who ? who->address : "cli";
	e.detail = detail;
	if ((rc = audit_add(db, &e)) != PA_OK)
		return rc;
	return event_add(db, who, id, "case.erased", NULL, "case", detail,
	    NULL, NULL);
}

enum pa_err
cases_erase(struct db *db, const struct actor *who, const char *id,
    json_t **out)
{
	struct db_res *row = NULL;
	int64_t version = 0;
	enum pa_err rc;

	*out = NULL;
	if ((rc = auth_tx_begin(db, who)) != PA_OK)
		return rc;
	if ((rc = cases_fetch(db, who, id, 1, &row)) != PA_OK)
		goto end;
	/* Only a supervisor of the lead organisation erases. */
	if (strcmp(db_res_get(row, 0, COL_LEAD), who->org_id) != 0 ||
	    strcmp(who->role, "supervisor") != 0) {
		rc = PA_FORBIDDEN;
		goto end;
	}
	if (strcmp(db_res_get(row, 0, COL_ERASED), "t") == 0) {
		rc = PA_CONFLICT;
		goto end;
	}
	rc = cases_shred(db, who, id, who->org_id, "case.erase", NULL,
	    &version);
	if (rc == PA_OK)
		*out = json_pack("{s:s, s:s, s:b, s:I}", "id", id, "reference",
		    db_res_get(row, 0, COL_REF), "erased", 1, "version",
		    (json_int_t)version);
end:
	rc = db_tx_end(db, rc);
	if (rc != PA_OK) {
		json_decref(*out);
		*out = NULL;
	}
	db_res_free(row);
	return rc == PA_OK && *out == NULL ? PA_INTERNAL : rc;
}

/* ------------------------------------------------------------ list, search */

/* Decrypts a list row's names into "Given Family"; NULL when absent. */
static char *
display_name(struct db_res *res, int i, const char *dob_want, int *dob_ok)
{
	const char *id = db_res_get(res, i, 0);
	struct sec_case_key *key = NULL;
	json_t *g = NULL, *f = NULL, *d = NULL;
	unsigned char *w;
	char *name = NULL;
	size_t wl, len;

	*dob_ok = 0;
	if (db_res_isnull(res, i, 8) ||
	    db_res_bytea(res, i, 8, &w, &wl) != PA_OK)
		return NULL;
	if (sec_case_key_open(id, w, wl, &key) != PA_OK) {
		free(w);
		return NULL;
	}
	free(w);
	if (!db_res_isnull(res, i, 9))
		g = cases_open_json(key, id, "victim.given_name",
		    db_res_get(res, i, 9));
	if (!db_res_isnull(res, i, 10))
		f = cases_open_json(key, id, "victim.family_name",
		    db_res_get(res, i, 10));
	if (dob_want != NULL && !db_res_isnull(res, i, 11)) {
		d = cases_open_json(key, id, "victim.date_of_birth",
		    db_res_get(res, i, 11));
		*dob_ok = json_is_string(d) &&
		    strcmp(json_string_value(d), dob_want) == 0;
	}
	sec_case_key_free(key);
	if (json_is_string(g) || json_is_string(f)) {
		len = (json_is_string(g) ? strlen(json_string_value(g)) : 0) +
		    (json_is_string(f) ? strlen(json_string_value(f)) : 0) + 2;
		if ((name = malloc(len)) != NULL)
			snprintf(name, len, "%s%s%s",
			    json_is_string(g) ? json_string_value(g) : "",
			    json_is_string(g) && json_is_string(f) ? " " : "",
			    json_is_string(f) ? json_string_value(f) : "");
	}
	json_decref(g);
	json_decref(f);
	json_decref(d);
	return name;
}

/* Appends s, UTF-8 (from PostgreSQL or jansson), as a JSON string. */
static void
sb_json(struct jv_buf *b, const char *s)
{
	static const char digits[] = "0123456789abcdef";
	const char *run = s;
	char esc[6];

	jv_buf_add(b, "\"", 1);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		jv_buf_add(b, run, (size_t)(s - run));
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			jv_buf_add(b, esc, 2);
		} else {
			memcpy(esc, "\\u00", 4);
			esc[4] = digits[c >> 4];
			esc[5] = digits[c & 15];
			jv_buf_add(b, esc, 6);
		}
		run = s + 1;
	}
	jv_buf_add(b, run, (size_t)(s - run));
	jv_buf_add(b, "\"", 1);
}

/* ,"key":"value" (or "key":null when value is NULL); first: no comma. */
static void
sb_member(struct jv_buf *b, int first, const char *key, const char *value)
{
	if (!first)
		jv_buf_add(b, ",", 1);
	sb_json(b, key);
	jv_buf_add(b, ":", 1);
	if (value != NULL)
		sb_json(b, value);
	else
		sb_str(b, "null");
}

/* One list item; "sex" is left out when unknown. */
static void
list_item(struct jv_buf *b, struct db_res *res, int i, const char *name)
{
	jv_buf_add(b, "{", 1);
	sb_member(b, 1, "id", db_res_get(res, i, 0));
	sb_member(b, 0, "reference", db_res_get(res, i, 1));
	sb_member(b, 0, "stage", db_res_get(res, i, 2));
	sb_str(b, ",\"lead_organisation\":{");
	sb_member(b, 1, "id", db_res_get(res, i, 3));
	sb_member(b, 0, "name", db_res_get(res, i, 4));
	jv_buf_add(b, "}", 1);
	sb_member(b, 0, "age_band", db_res_get(res, i, 5));
	if (!db_res_isnull(res, i, 6))
		sb_member(b, 0, "sex", db_res_get(res, i, 6));
	sb_member(b, 0, "opened_at", db_res_get(res, i, 7));
	sb_member(b, 0, "next_deadline", db_res_isnull(res, i, 14) ? NULL :
	    db_res_get(res, i, 14));
	sb_str(b, strcmp(db_res_get(res, i, 13), "t") == 0 ?
	    ",\"erased\":true" : ",\"erased\":false");
	if (name != NULL)
		sb_member(b, 0, "display_name", name);
	jv_buf_add(b, "}", 1);
}

enum pa_err
cases_list(struct db *db, const struct actor *who, const struct cases_query *q,
    char **out, size_t *outlen, struct cases_err *err)
{
	const struct sop *s = sop_current();
	struct db_res *res = NULL;
	struct jv_buf page = { NULL, 0, 0, 0, 1 };	/* names: wiped */
	json_t *ids = json_array(), *detail;
	char limit[16], bucket[16], norm[512], cur_us[24], cur_id[37];
	char next[64] = "";
	const char *us = NULL, *cid = NULL;
	int names_visible, i, n, shown = 0, b = -1, dob_ok = 0;
	static const char *const read_fields[] = { "victim.given_name",
		"victim.family_name" };
	enum pa_err rc;

	*out = NULL;
	*outlen = 0;
	memset(err, 0, sizeof(*err));
	if (ids == NULL) {
		rc = PA_INTERNAL;
		goto out;
	}
	names_visible = sop_field_visible(sop_field(s, "victim", "given_name"),
			    who->org_kind, who->role, NULL, 0) &&
	    sop_field_visible(sop_field(s, "victim", "family_name"),
		who->org_kind, who->role, NULL, 0);
	if (q->name != NULL) {
		if (!names_visible) {
			rc = PA_FORBIDDEN;
			goto out;
		}
		json_t *qn = json_string(q->name);

		b = name_bucket(qn, NULL, norm, sizeof(norm));
		json_decref(qn);
		if (b < 0) {
			cases_set_err(err, "name", "nom vide", "empty name");
			rc = PA_INVALID;
			goto out;
		}
	}
	if (q->cursor != NULL) {
		/* "<microseconds>_<uuid>" from a previous page. */
		if (sscanf(q->cursor, "%20[0-9]_%36[0-9a-f-]", cur_us,
			cur_id) != 2 || !jv_uuid_valid(cur_id)) {
			cases_set_err(err, "cursor", "curseur invalide",
			    "invalid cursor");
			rc = PA_INVALID;
			goto out;
		}
		us = cur_us;
		cid = cur_id;
	}
	snprintf(limit, sizeof(limit), "%d", q->limit + 1);
	snprintf(bucket, sizeof(bucket), "%d", b);
	if ((rc = auth_tx_begin(db, who)) != PA_OK)
		goto out;
	{
		struct db_arg a[9] = { DB_TEXT(who->org_id),
			q->stage ? DB_TEXT(q->stage) : DB_NULL,
			q->reference ? DB_TEXT(q->reference) : DB_NULL,
			q->assigned_me ? DB_TEXT(who->user_id) : DB_NULL,
			q->name ? DB_TEXT(bucket) : DB_NULL,
			us ? DB_TEXT(us) : DB_NULL, cid ? DB_TEXT(cid) : DB_NULL,
			DB_TEXT(limit), DB_TEXT(q->overdue ? "true" : "false") };

		struct db_arg f[2] = { DB_TEXT(who->org_id), DB_TEXT(limit) };
		struct db_arg nx[4] = { DB_TEXT(who->org_id),
			us ? DB_TEXT(us) : DB_NULL, cid ? DB_TEXT(cid) : DB_NULL,
			DB_TEXT(limit) };

		int fixed = q->limit == CASES_PAGE;

		if (q->stage || q->reference || q->assigned_me || q->name ||
		    q->overdue)
			rc = db_exec(db, "case_list", a, 9, &res);
		else if (us == NULL)
			rc = fixed ? db_exec(db, "case_list_page", f, 1, &res) :
			    db_exec(db, "case_list_first", f, 2, &res);
		else
			rc = fixed ? db_exec(db, "case_list_page_next", nx, 3,
			    &res) : db_exec(db, "case_list_next", nx, 4, &res);
	}
	if (rc != PA_OK)
		goto end;
	n = db_res_rows(res);
	sb_str(&page, "{\"items\":[");
	for (i = 0; i < n && i < q->limit; i++) {
		char *name = NULL, other[512];

		if (names_visible && strcmp(db_res_get(res, i, 13), "f") == 0)
			name = display_name(res, i, q->date_of_birth, &dob_ok);
		if (q->name != NULL) {
			/* Confirm the blind-index candidate by its name. */
			cases_name_normalise(name ? name : "", other,
			    sizeof(other));
			if (strcmp(other, norm) != 0 ||
			    (q->date_of_birth != NULL && !dob_ok)) {
				if (name != NULL)
					explicit_bzero(name, strlen(name));
				free(name);
				continue;
			}
		}
		if (page.len > strlen("{\"items\":["))
			jv_buf_add(&page, ",", 1);
		list_item(&page, res, i, name);
		if (name != NULL) {
			if (json_array_append_new(ids,
			    json_string(db_res_get(res, i, 0))) != 0)
				page.failed = 1;
			shown++;
			explicit_bzero(name, strlen(name));
		}
		free(name);
		if (page.failed) {
			rc = PA_INTERNAL;
			goto end;
		}
	}
	if (n > q->limit)
		snprintf(next, sizeof(next), "%s_%s",
		    db_res_get(res, q->limit - 1, 12),
		    db_res_get(res, q->limit - 1, 0));
	jv_buf_add(&page, "]", 1);
	sb_member(&page, 0, "next_cursor", next[0] ? next : NULL);
	jv_buf_add(&page, "}", 1);
	if (page.failed)
		rc = PA_INTERNAL;
	if (rc == PA_OK && shown > 0) {
		detail = json_pack("{s:O}", "cases", ids);
		rc = cases_audit(db, who, "case.list", NULL, read_fields, 2,
		    detail);
		json_decref(detail);
	}
end:
	rc = db_tx_end(db, rc);
	if (rc == PA_OK) {
		*out = page.p;
		*outlen = page.len;
		page.p = NULL;
	}
out:
	explicit_bzero(norm, sizeof(norm));
	db_res_free(res);
	sb_free(&page);	/* wiped: it may hold names */
	json_decref(ids);
	return rc;
}

/* ------------------------------------------------------------- assignment */

static enum pa_err
assignee_ok(struct db *db, const struct actor *who, const char *user_id)
{
	struct db_arg a[2] = { DB_TEXT(user_id), DB_TEXT(who->org_id) };
	struct db_res *res = NULL;
	enum pa_err rc;

	if (!jv_uuid_valid(user_id))
		return PA_INVALID;
	if ((rc = db_exec(db, "case_assignee_check", a, 2, &res)) != PA_OK)
		return rc;
	if (db_res_rows(res) != 1 ||
	    (strcmp(db_res_get(res, 0, 0), "caseworker") != 0 &&
		strcmp(db_res_get(res, 0, 0), "supervisor") != 0))
		rc = PA_INVALID;
	db_res_free(res);
	return rc;
}

enum pa_err
cases_assign(struct db *db, const struct actor *who, const char *id,
    const char *user_id)
{
	struct db_arg a[3] = { DB_TEXT(id), DB_TEXT(who->org_id),
		DB_TEXT(user_id) };
	struct db_res *res = NULL;
	json_t *detail;
	enum pa_err rc;

	if (!jv_uuid_valid(id))
		return PA_NOT_FOUND;
	/* A caseworker takes a case; a supervisor gives it to anyone. */
	if (strcmp(who->role, "supervisor") != 0 &&
	    strcmp(user_id, who->user_id) != 0)
		return PA_FORBIDDEN;
	if ((rc = auth_tx_begin(db, who)) != PA_OK)
		return rc;
	if ((rc = assignee_ok(db, who, user_id)) != PA_OK)
		goto end;
	if ((rc = db_exec(db, "case_assign", a, 3, &res)) != PA_OK)
		goto end;
	if (db_res_rows(res) != 1) {
		rc = PA_NOT_FOUND;
		goto end;
	}
	detail = json_pack("{s:s}", "user_id", user_id);
	rc = cases_audit(db, who, "case.assign", id, NULL, 0, detail);
	json_decref(detail);
end:
	db_res_free(res);
	return db_tx_end(db, rc);
}

enum pa_err
cases_reassign(struct db *db, const struct actor *who, json_t *case_ids,
    const char *user_id, json_t **out)
{
	struct jv_buf ids = { 0 };
	struct db_res *res = NULL;
	json_t *x, *detail;
	size_t i, j, n = json_array_size(case_ids);
	enum pa_err rc;

	*out = NULL;
	if (strcmp(who->role, "supervisor") != 0)
		return PA_FORBIDDEN;
	if (n == 0 || n > 500)
		return PA_INVALID;
	json_array_foreach(case_ids, i, x) {
		if (!jv_uuid_valid(json_string_value(x)))
			return PA_INVALID;
		for (j = 0; j < i; j++)
			if (json_equal(json_array_get(case_ids, j), x))
				return PA_INVALID;
	}
	json_array_foreach(case_ids, i, x)
		sb_item(&ids, json_string_value(x));
	if (sb_array(&ids) == NULL) {
		sb_free(&ids);
		return PA_INTERNAL;
	}
	if ((rc = auth_tx_begin(db, who)) != PA_OK) {
		sb_free(&ids);
		return rc;
	}
	if ((rc = assignee_ok(db, who, user_id)) != PA_OK)
		goto end;
	{
		struct db_arg a[3] = { DB_TEXT(ids.p), DB_TEXT(who->org_id),
			DB_TEXT(user_id) };

		if ((rc = db_exec(db, "case_reassign", a, 3, &res)) != PA_OK)
			goto end;
	}
	/* All or nothing: a case the caller cannot see fails the lot. */
	if ((size_t)db_res_rows(res) != n) {
		rc = PA_NOT_FOUND;
		goto end;
	}
	detail = json_pack("{s:s, s:O}", "user_id", user_id, "cases",
	    case_ids);
	rc = cases_audit(db, who, "case.reassign", NULL, NULL, 0, detail);
	json_decref(detail);
	if (rc == PA_OK)
		*out = json_pack("{s:i, s:s}", "reassigned", (int)n, "user_id",
		    user_id);
end:
	db_res_free(res);
	sb_free(&ids);
	rc = db_tx_end(db, rc);
	if (rc != PA_OK) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}
