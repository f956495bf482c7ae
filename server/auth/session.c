/*
 * Sessions and logins. A session is a row keyed by a keyed hash of the
 * cookie token: looked up and touched in one round trip, at most every 30 s
 * written. Logins are throttled per account name and per client address,
 * counted in PostgreSQL so that every server agrees; a throttled account is
 * refused before its password is checked, so a right password does not
 * unlock it inside the window. An unknown name is checked against a dummy
 * hash so that it costs the same time and gets the same answer.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../audit/audit.h"
#include "../crypto/crypto.h"
#include "../db/db.h"
#include "../log.h"
#include "../util/jv.h"
#include "auth.h"

/* Hashing runs on the offload threads, one per slot: a short wait. */
#define PW_WAIT_MS 1000

void auth_accounts_init(void);	/* accounts.c */

static struct auth_settings cfg = { 1800, 43200, 10, 100, 900 };

static const struct db_stmt stmts[] = {
	{ "auth_session", AUTH_SESSION_CTES("$1", "$2")
	    "SELECT " AUTH_SESSION_COLS " FROM hit" },
	{ "auth_touch",
	    "UPDATE sessions SET last_seen = now() WHERE token_hash = $1" },
	{ "auth_login_lookup",
	    "SELECT (SELECT extract(epoch FROM f.at + "
	    "make_interval(secs => $4::int) - now())::int FROM login_failures f "
	    "WHERE f.subject_kind = 'a' AND f.subject = $2 AND "
	    "f.at > now() - make_interval(secs => $4::int) "
	    "ORDER BY f.at DESC OFFSET $5::int - 1 LIMIT 1), "
	    "(SELECT extract(epoch FROM f.at + make_interval(secs => $4::int) - "
	    "now())::int FROM login_failures f WHERE f.subject_kind = 'i' AND "
	    "f.subject = $3 AND f.at > now() - make_interval(secs => $4::int) "
	    "ORDER BY f.at DESC OFFSET $6::int - 1 LIMIT 1), "
	    "u.id, u.password_hash, u.active, u.role, u.must_change_password, "
	    "o.id, o.name, o.kind, coalesce(o.region, ''), u.username "
	    "FROM (SELECT 1) one LEFT JOIN users u ON u.username = $1 "
	    "LEFT JOIN organisations o ON o.id = u.organisation_id" },
	{ "auth_failure_add",
	    "INSERT INTO login_failures (subject_kind, subject) "
	    "VALUES ('a', $1), ('i', $2)" },
	{ "auth_failures_clear",
	    "DELETE FROM login_failures WHERE (subject_kind = 'a' AND "
	    "subject = $1) OR at < now() - make_interval(secs => $2::int)" },
	{ "auth_session_insert",
	    "WITH gone AS (DELETE FROM sessions WHERE user_id = $2 AND "
	    "(expires_at < now() OR last_seen < now() - "
	    "make_interval(secs => $4::int))) "
	    "INSERT INTO sessions (token_hash, user_id, expires_at) "
	    "VALUES ($1, $2, now() + make_interval(secs => $3::int))" },
	{ "auth_rehash",
	    "UPDATE users SET password_hash = $2 WHERE id = $1" },
	{ "auth_session_delete",
	    "DELETE FROM sessions WHERE token_hash = $1" },
	{ "auth_session_hold",
	    "SELECT 1 FROM sessions WHERE token_hash = $1 FOR SHARE" },
	{ "auth_user_hash",
	    "SELECT password_hash FROM users WHERE id = $1 AND active" },
	{ "auth_password_set",
	    "WITH ended AS (DELETE FROM sessions WHERE user_id = $1 AND "
	    "token_hash <> $3) UPDATE users SET password_hash = $2, "
	    "must_change_password = false, password_changed_at = now() "
	    "WHERE id = $1 AND active" },
};

void
auth_init(const struct auth_settings *s)
{
	cfg = *s;
	(void)auth_allowed_pairs(ACT_NONE);	/* before any thread asks */
	db_stmts_add(stmts, sizeof(stmts) / sizeof(stmts[0]));
	auth_accounts_init();
	auth_seed_init();
	audit_init();
}

json_t *
auth_actor_json(const struct actor *a)
{
	return json_pack("{s:s, s:s, s:s, s:b, s:{s:s, s:s, s:s, s:s*}}",
	    "id", a->user_id, "username", a->username, "role", a->role,
	    "must_change_password", a->must_change_password, "organisation",
	    "id", a->org_id, "name", a->org_name, "kind", a->org_kind,
	    "region", a->org_region[0] ? a->org_region : NULL);
}

static void
copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

/* Lower-cases an account name into out; names are ASCII by rule. */
static void
name_fold(const char *in, char *out, size_t len)
{
	size_t i;

	for (i = 0; in[i] != '\0' && i + 1 < len; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[i] = '\0';
}

static void
audit_login(struct db *db, const char *action, const char *user_id,
    const char *org_id, const char *address, enum pa_err *rc)
{
	struct audit_entry e = { 0 };

	if (*rc != PA_OK)
		return;
	e.user_id = user_id;
	e.organisation_id = org_id;
	e.action = action;
	e.resource_type = user_id ? "user" : NULL;
	e.resource_id = user_id;
	e.address = address;
	*rc = audit_add(db, &e);
}

static enum pa_err
record_failure(const unsigned char *ha, const unsigned char *hi,
    const char *user_id, const char *org_id, const char *address)
{
	struct db_arg a[2] = { DB_BYTES(ha, 32), DB_BYTES(hi, 32) };
	struct db *db;
	enum pa_err rc;

	if ((rc = db_acquire(&db)) != PA_OK)
		return rc;
	if ((rc = db_tx_begin(db)) == PA_OK) {
		rc = db_exec(db, "auth_failure_add", a, 2, NULL);
		audit_login(db, "session.login_failed", user_id, org_id,
		    address, &rc);
		rc = db_tx_end(db, rc);
	}
	db_release(db);
	return rc;
}

enum pa_err
auth_login(const char *username, const char *password, const char *address,
    struct auth_login *out)
{
	unsigned char ha[32], hi[32], th[32];
	char name[65], window[16], la[16], li[16], lifetime[16], idle[16];
	char newhash[SEC_PW_HASH_MAX];
	struct db_res *res = NULL;
	struct db *db = NULL;
	const char *hash;
	char *stored = NULL;
	int known, active, retry_a, retry_i;
	enum pa_err rc, vrc;

	memset(out, 0, sizeof(*out));
	name_fold(username, name, sizeof(name));
	if (sec_throttle_hash('a', name, ha) != 0 ||
	    sec_throttle_hash('i', address, hi) != 0)
		return PA_INTERNAL;
	snprintf(window, sizeof(window), "%ld", cfg.throttle_window);
	snprintf(la, sizeof(la), "%ld", cfg.throttle_account);
	snprintf(li, sizeof(li), "%ld", cfg.throttle_address);
	{
		struct db_arg a[6] = { DB_TEXT(name), DB_BYTES(ha, 32),
			DB_BYTES(hi, 32), DB_TEXT(window), DB_TEXT(la),
			DB_TEXT(li) };

		if ((rc = db_acquire(&db)) != PA_OK)
			return rc;
		rc = db_exec(db, "auth_login_lookup", a, 6, &res);
		db_release(db);
		db = NULL;
		if (rc != PA_OK)
			return rc;
	}
	retry_a = db_res_isnull(res, 0, 0) ? 0 :
	    (int)strtol(db_res_get(res, 0, 0), NULL, 10);
	retry_i = db_res_isnull(res, 0, 1) ? 0 :
	    (int)strtol(db_res_get(res, 0, 1), NULL, 10);
	known = !db_res_isnull(res, 0, 2);
	if (!db_res_isnull(res, 0, 0) || !db_res_isnull(res, 0, 1)) {
		out->retry_after = (unsigned int)(retry_a > retry_i ? retry_a :
		    retry_i);
		if (out->retry_after == 0)
			out->retry_after = 1;
		db_res_free(res);
		return PA_THROTTLED;
	}
	active = known && strcmp(db_res_get(res, 0, 4), "t") == 0;
	if (known) {
		copy(out->who.user_id, sizeof(out->who.user_id),
		    db_res_get(res, 0, 2));
		if ((stored = strdup(db_res_get(res, 0, 3))) == NULL) {
			db_res_free(res);
			return PA_INTERNAL;
		}
		copy(out->who.role, sizeof(out->who.role),
		    db_res_get(res, 0, 5));
		out->who.must_change_password =
		    strcmp(db_res_get(res, 0, 6), "t") == 0;
		copy(out->who.org_id, sizeof(out->who.org_id),
		    db_res_get(res, 0, 7));
		copy(out->who.org_name, sizeof(out->who.org_name),
		    db_res_get(res, 0, 8));
		copy(out->who.org_kind, sizeof(out->who.org_kind),
		    db_res_get(res, 0, 9));
		copy(out->who.org_region, sizeof(out->who.org_region),
		    db_res_get(res, 0, 10));
		copy(out->who.username, sizeof(out->who.username),
		    db_res_get(res, 0, 11));
	}
	db_res_free(res);
	copy(out->who.address, sizeof(out->who.address), address);

	/* No connection is held while Argon2 runs. */
	hash = stored ? stored : sec_pw_dummy();
	vrc = sec_pw_verify(hash, password, PW_WAIT_MS);
	if (vrc == PA_BUSY) {
		free(stored);
		out->retry_after = 2;
		return PA_BUSY;
	}
	/*
	 * A hash made at an older, cheaper cost verifies faster than the
	 * dummy: on failure, spend the current cost too, so that the time
	 * does not tell such an account from an unknown name.
	 */
	if ((vrc != PA_OK || !active) && stored != NULL &&
	    sec_pw_needs_rehash(stored))
		(void)sec_pw_verify(sec_pw_dummy(), password, PW_WAIT_MS);
	if (vrc != PA_OK || !active) {
		rc = record_failure(ha, hi, known ? out->who.user_id : NULL,
		    known ? out->who.org_id : NULL, address);
		free(stored);
		memset(&out->who, 0, sizeof(out->who));
		return rc == PA_OK ? PA_NO_SESSION : rc;
	}
	newhash[0] = '\0';
	if (sec_pw_needs_rehash(stored) &&
	    sec_pw_hash(password, newhash, sizeof(newhash), PW_WAIT_MS) !=
		PA_OK)
		newhash[0] = '\0';	/* keep the old hash; try next time */
	free(stored);

	sec_token_new(out->token);
	if (sec_token_hash(out->token, th) != 0 ||
	    sec_csrf_token(out->token, out->csrf) != 0)
		return PA_INTERNAL;
	memcpy(out->who.token_hash, th, sizeof(th));
	snprintf(lifetime, sizeof(lifetime), "%ld", cfg.session_lifetime);
	snprintf(idle, sizeof(idle), "%ld", cfg.session_idle);
	if ((rc = db_acquire(&db)) != PA_OK)
		return rc;
	if ((rc = db_tx_begin(db)) == PA_OK) {
		struct db_arg c[2] = { DB_BYTES(ha, 32), DB_TEXT(window) };
		struct db_arg s[4] = { DB_BYTES(th, 32),
			DB_TEXT(out->who.user_id), DB_TEXT(lifetime),
			DB_TEXT(idle) };
		struct db_arg h[2] = { DB_TEXT(out->who.user_id),
			DB_TEXT(newhash) };

		rc = db_exec(db, "auth_failures_clear", c, 2, NULL);
		if (rc == PA_OK)
			rc = db_exec(db, "auth_session_insert", s, 4, NULL);
		if (rc == PA_OK && newhash[0] != '\0')
			rc = db_exec(db, "auth_rehash", h, 2, NULL);
		audit_login(db, "session.login", out->who.user_id,
		    out->who.org_id, address, &rc);
		rc = db_tx_end(db, rc);
	}
	db_release(db);
	if (rc != PA_OK)
		memset(out, 0, sizeof(*out));
	return rc;
}

enum pa_err
auth_session_key(const char *token, unsigned char th[32], char idle[16])
{
	/* A token is 43 base64url characters; anything else is no session. */
	if (token == NULL || strlen(token) != 43 ||
	    strspn(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			  "0123456789-_") != 43)
		return PA_NO_SESSION;
	if (sec_token_hash(token, th) != 0)
		return PA_INTERNAL;
	snprintf(idle, 16, "%ld", cfg.session_idle);
	return PA_OK;
}

enum pa_err
auth_touch(struct db *db, const unsigned char th[32])
{
	struct db_arg a = DB_BYTES(th, 32);

	return db_exec(db, "auth_touch", &a, 1, NULL);
}

void
auth_session_from_row(const struct db_res *res, int col,
    const unsigned char th[32], const char *address, struct actor *who)
{
	memset(who, 0, sizeof(*who));
	copy(who->user_id, sizeof(who->user_id), db_res_get(res, 0, col));
	copy(who->username, sizeof(who->username), db_res_get(res, 0, col + 1));
	copy(who->role, sizeof(who->role), db_res_get(res, 0, col + 2));
	who->must_change_password = strcmp(db_res_get(res, 0, col + 3), "t") ==
	    0;
	copy(who->org_id, sizeof(who->org_id), db_res_get(res, 0, col + 4));
	copy(who->org_name, sizeof(who->org_name), db_res_get(res, 0, col + 5));
	copy(who->org_kind, sizeof(who->org_kind), db_res_get(res, 0, col + 6));
	copy(who->org_region, sizeof(who->org_region),
	    db_res_get(res, 0, col + 7));
	copy(who->address, sizeof(who->address), address);
	memcpy(who->token_hash, th, sizeof(who->token_hash));
}

enum pa_err
auth_session(struct db *db, const char *token, const char *address,
    struct actor *who)
{
	unsigned char th[32];
	char idle[16];
	struct db_res *res = NULL;
	enum pa_err rc;

	memset(who, 0, sizeof(*who));
	if ((rc = auth_session_key(token, th, idle)) != PA_OK)
		return rc;
	{
		struct db_arg a[2] = { DB_BYTES(th, 32), DB_TEXT(idle) };

		if ((rc = db_exec(db, "auth_session", a, 2, &res)) != PA_OK)
			return rc;
	}
	if (db_res_rows(res) != 1) {
		db_res_free(res);
		return PA_NO_SESSION;
	}
	auth_session_from_row(res, 0, th, address, who);
	db_res_free(res);
	return PA_OK;
}

int
auth_csrf_ok(const char *token, const char *csrf)
{
	char want[SEC_TOKEN_TEXT];
	int ok;

	if (token == NULL || csrf == NULL || sec_csrf_token(token, want) != 0)
		return 0;
	ok = sec_equal_text(want, csrf);
	memset(want, 0, sizeof(want));
	return ok;
}

int
auth_csrf_token(const char *token, char out[SEC_TOKEN_TEXT])
{
	out[0] = '\0';
	if (token == NULL || sec_csrf_token(token, out) != 0) {
		memset(out, 0, SEC_TOKEN_TEXT);
		return -1;
	}
	return 0;
}

enum pa_err
auth_tx_begin(struct db *db, const struct actor *who)
{
	struct db_arg a = DB_BYTES(who->token_hash, 32);
	struct db_res *res = NULL;
	enum pa_err rc;

	if ((rc = db_tx_begin(db)) != PA_OK)
		return rc;
	if ((rc = db_exec(db, "auth_session_hold", &a, 1, &res)) == PA_OK &&
	    db_res_rows(res) != 1)
		rc = PA_NO_SESSION;
	db_res_free(res);
	if (rc != PA_OK)
		(void)db_tx_end(db, rc);
	return rc;
}

enum pa_err
auth_logout(struct db *db, const struct actor *who)
{
	struct db_arg a = DB_BYTES(who->token_hash, 32);
	enum pa_err rc;

	if ((rc = db_tx_begin(db)) != PA_OK)
		return rc;
	rc = db_exec(db, "auth_session_delete", &a, 1, NULL);
	audit_login(db, "session.logout", who->user_id, who->org_id,
	    who->address, &rc);
	return db_tx_end(db, rc);
}

enum pa_err
auth_password_policy(const char *username, const char *pw)
{
	size_t n = jv_utf8_len(pw), ul = strlen(username), i;

	if (n < 12 || n > 256)
		return PA_INVALID;
	if (ul == 0)
		return PA_OK;
	for (i = 0; pw[i] != '\0'; i++)
		if (strncasecmp(pw + i, username, ul) == 0)
			return PA_INVALID;
	return PA_OK;
}

enum pa_err
auth_password_change(const struct actor *who, const char *cur,
    const char *next, const char **field)
{
	char newhash[SEC_PW_HASH_MAX], *stored = NULL;
	struct db_arg id = DB_TEXT(who->user_id);
	struct db_res *res = NULL;
	struct db *db = NULL;
	enum pa_err rc;

	*field = NULL;
	if (auth_password_policy(who->username, next) != PA_OK) {
		*field = "new";
		return PA_INVALID;
	}
	if ((rc = db_acquire(&db)) != PA_OK)
		return rc;
	rc = db_exec(db, "auth_user_hash", &id, 1, &res);
	db_release(db);
	if (rc != PA_OK)
		return rc;
	if (db_res_rows(res) != 1) {
		db_res_free(res);
		return PA_NO_SESSION;
	}
	stored = strdup(db_res_get(res, 0, 0));
	db_res_free(res);
	if (stored == NULL)
		return PA_INTERNAL;
	rc = sec_pw_verify(stored, cur, PW_WAIT_MS);
	free(stored);
	if (rc == PA_NO_SESSION) {
		*field = "current";
		return PA_FORBIDDEN;
	}
	if (rc != PA_OK)
		return rc;
	if ((rc = sec_pw_hash(next, newhash, sizeof(newhash), PW_WAIT_MS)) !=
	    PA_OK)
		return rc;
	if ((rc = db_acquire(&db)) != PA_OK)
		return rc;
	if ((rc = auth_tx_begin(db, who)) == PA_OK) {
		struct db_arg a[3] = { DB_TEXT(who->user_id), DB_TEXT(newhash),
			DB_BYTES(who->token_hash, 32) };

		rc = db_exec(db, "auth_password_set", a, 3, NULL);
		audit_login(db, "user.password_change", who->user_id,
		    who->org_id, who->address, &rc);
		rc = db_tx_end(db, rc);
	}
	db_release(db);
	return rc;
}
