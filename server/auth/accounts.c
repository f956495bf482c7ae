/*
 * Organisations and accounts, managed by the administration (or the command
 * line, where who is NULL). Every change commits with its audit record.
 * Password hashing runs with no connection leased.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../audit/audit.h"
#include "../crypto/crypto.h"
#include "../db/db.h"
#include "auth.h"

/* Short: a thread waiting for a hashing slot serves nobody else. */
#define PW_WAIT_MS 300

static const struct db_stmt stmts[] = {
	{ "org_insert",
	    "INSERT INTO organisations (id, name, kind, region, services) "
	    "VALUES ($1, $2, $3, $4, string_to_array($5, ',')) "
	    "ON CONFLICT DO NOTHING RETURNING id" },
	{ "org_list",
	    "SELECT id, name, kind, region, array_to_json(services)::text "
	    "FROM organisations ORDER BY kind, name" },
	{ "org_exists", "SELECT kind FROM organisations WHERE id = $1" },
	{ "user_insert",
	    "INSERT INTO users (id, username, password_hash, role, "
	    "organisation_id, must_change_password) "
	    "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING "
	    "RETURNING id" },
	{ "user_deactivate", "UPDATE users SET active = false WHERE id = $1" },
	{ "user_list",
	    "SELECT u.id, u.username, u.role, u.organisation_id, u.active, "
	    "u.must_change_password, to_char(u.created_at, "
	    "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM users u "
	    "WHERE ($1::uuid IS NULL OR u.organisation_id = $1) "
	    "ORDER BY u.username" },
	{ "user_get",
	    "SELECT u.id, u.username, u.role, u.organisation_id, u.active, "
	    "u.must_change_password, to_char(u.created_at, "
	    "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), o.kind FROM users u "
	    "JOIN organisations o ON o.id = u.organisation_id WHERE u.id = $1" },
	{ "user_update",
	    "WITH ended AS (DELETE FROM sessions WHERE user_id = $1 AND "
	    "($2::boolean IS FALSE OR $4::text IS NOT NULL OR "
	    "$3::text IS NOT NULL)) "
	    "UPDATE users SET active = coalesce($2, active), "
	    "role = coalesce($3, role), "
	    "password_hash = coalesce($4, password_hash), "
	    "must_change_password = CASE WHEN $4::text IS NULL THEN "
	    "must_change_password ELSE true END, "
	    "password_changed_at = CASE WHEN $4::text IS NULL THEN "
	    "password_changed_at ELSE now() END WHERE id = $1 RETURNING id" },
};

static int registered;

static void
register_once(void)
{
	if (!registered) {
		db_stmts_add(stmts, sizeof(stmts) / sizeof(stmts[0]));
		registered = 1;
	}
}

/* Called from auth_init through this constructor-like hook. */
void auth_accounts_init(void);
void
auth_accounts_init(void)
{
	register_once();
}

static enum pa_err
audit_change(struct db *db, const struct actor *who, const char *action,
    const char *rtype, const char *rid, json_t *detail)
{
	struct audit_entry e = { 0 };

	e.user_id = who ? who->user_id : NULL;
	e.organisation_id = who ? who->org_id : NULL;
	e.action = action;
	e.resource_type = rtype;
	e.resource_id = rid;
	e.address = who ? who->address : "cli";
	e.detail = detail;
	return audit_add(db, &e);
}

/* Begins the transaction: holding the session for a user, plain for CLI. */
static enum pa_err
tx_begin(struct db *db, const struct actor *who)
{
	return who ? auth_tx_begin(db, who) : db_tx_begin(db);
}

static char *
services_join(json_t *services, enum pa_err *rc)
{
	size_t i, len = 1;
	json_t *v;
	char *s;

	*rc = PA_OK;
	if (services == NULL)
		return strdup("");
	json_array_foreach(services, i, v) {
		if (!json_is_string(v) ||
		    !auth_service_valid(json_string_value(v))) {
			*rc = PA_INVALID;
			return NULL;
		}
		len += strlen(json_string_value(v)) + 1;
	}
	if ((s = calloc(1, len)) == NULL) {
		*rc = PA_INTERNAL;
		return NULL;
	}
	len = 0;
	json_array_foreach(services, i, v) {
		size_t n = strlen(json_string_value(v));

		if (i > 0)
			s[len++] = ',';
		memcpy(s + len, json_string_value(v), n);
		len += n;
	}
	s[len] = '\0';
	return s;
}

enum pa_err
auth_org_create(struct db *db, const struct actor *who, const char *name,
    const char *kind, const char *region, json_t *services, json_t **out)
{
	struct db_res *res = NULL;
	char id[37], *svc;
	json_t *detail;
	enum pa_err rc;

	*out = NULL;
	if (!auth_kind_valid(kind) ||
	    (region != NULL && !auth_region_valid(region)))
		return PA_INVALID;
	if ((svc = services_join(services, &rc)) == NULL)
		return rc;
	sec_uuid_new(id);
	if ((rc = tx_begin(db, who)) != PA_OK) {
		free(svc);
		return rc;
	}
	{
		struct db_arg a[5] = { DB_TEXT(id), DB_TEXT(name),
			DB_TEXT(kind), region ? DB_TEXT(region) : DB_NULL,
			DB_TEXT(svc) };

		rc = db_exec(db, "org_insert", a, 5, &res);
	}
	if (rc == PA_OK && db_res_rows(res) != 1)
		rc = PA_CONFLICT;	/* the name is taken */
	db_res_free(res);
	if (rc == PA_OK) {
		detail = json_pack("{s:s}", "kind", kind);
		rc = audit_change(db, who, "organisation.create",
		    "organisation", id, detail);
		json_decref(detail);
	}
	rc = db_tx_end(db, rc);
	if (rc == PA_OK)
		*out = json_pack("{s:s, s:s, s:s, s:s*, s:o}", "id", id,
		    "name", name, "kind", kind, "region", region, "services",
		    services ? json_deep_copy(services) : json_array());
	free(svc);
	return rc == PA_OK && *out == NULL ? PA_INTERNAL : rc;
}

enum pa_err
auth_org_list(struct db *db, const struct actor *who, json_t **out)
{
	struct db_res *res = NULL;
	json_t *items, *o, *svc;
	enum pa_err rc;
	int i;

	(void)who;
	*out = NULL;
	if ((rc = db_exec(db, "org_list", NULL, 0, &res)) != PA_OK)
		return rc;
	if ((items = json_array()) == NULL) {
		db_res_free(res);
		return PA_INTERNAL;
	}
	for (i = 0; i < db_res_rows(res); i++) {
		svc = json_loads(db_res_get(res, i, 4), 0, NULL);
		o = json_pack("{s:s, s:s, s:s, s:s*, s:o}", "id",
		    db_res_get(res, i, 0), "name", db_res_get(res, i, 1),
		    "kind", db_res_get(res, i, 2), "region",
		    db_res_isnull(res, i, 3) ? NULL : db_res_get(res, i, 3),
		    "services", svc ? svc : json_array());
		if (o == NULL || json_array_append_new(items, o) != 0) {
			json_decref(items);
			db_res_free(res);
			return PA_INTERNAL;
		}
	}
	db_res_free(res);
	*out = json_pack("{s:o, s:n}", "items", items, "next_cursor");
	return *out ? PA_OK : PA_INTERNAL;
}

static json_t *
user_json(struct db_res *res, int i)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:b, s:b, s:s}", "id",
	    db_res_get(res, i, 0), "username", db_res_get(res, i, 1), "role",
	    db_res_get(res, i, 2), "organisation_id", db_res_get(res, i, 3),
	    "active", strcmp(db_res_get(res, i, 4), "t") == 0,
	    "must_change_password", strcmp(db_res_get(res, i, 5), "t") == 0,
	    "created_at", db_res_get(res, i, 6));
}

static int
username_valid(const char *u)
{
	size_t n = strlen(u);

	return n >= 3 && n <= 64 &&
	    strspn(u, "abcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

enum pa_err
auth_user_create(const struct actor *who, const char *username,
    const char *password, const char *role, const char *org_id,
    int must_change, json_t **out, const char **field)
{
	char hash[SEC_PW_HASH_MAX], id[37];
	struct db_res *res = NULL;
	struct db *db = NULL;
	json_t *detail;
	enum pa_err rc;
	int pending = 0;

	*out = NULL;
	*field = NULL;
	if (!username_valid(username)) {
		*field = "username";
		return PA_INVALID;
	}
	if (!auth_role_valid(role)) {
		*field = "role";
		return PA_INVALID;
	}
	if (auth_password_policy(username, password) != PA_OK) {
		*field = "password";
		return PA_INVALID;
	}
	if ((rc = sec_pw_hash(password, hash, sizeof(hash), PW_WAIT_MS)) !=
	    PA_OK)
		return rc;
	sec_uuid_new(id);
	if ((rc = db_acquire(&db)) != PA_OK)
		return rc;
	if ((rc = tx_begin(db, who)) != PA_OK)
		goto out;
	rc = db_exec(db, "org_exists", &DB_TEXT(org_id), 1, &res);
	if (rc == PA_INVALID || (rc == PA_OK && db_res_rows(res) != 1)) {
		*field = "organisation_id";
		rc = PA_INVALID;
	}
	/*
	 * Two people: an account the administration opens in an
	 * organisation that handles cases waits, inactive, until a
	 * supervisor of that organisation approves it. Otherwise the
	 * administrator could give themselves a way into victims' files.
	 */
	if (rc == PA_OK && who != NULL &&
	    auth_kind_reaches_cases(db_res_get(res, 0, 0)))
		pending = 1;
	db_res_free(res);
	res = NULL;
	if (rc == PA_OK) {
		struct db_arg a[6] = { DB_TEXT(id), DB_TEXT(username),
			DB_TEXT(hash), DB_TEXT(role), DB_TEXT(org_id),
			DB_TEXT(must_change ? "true" : "false") };

		rc = db_exec(db, "user_insert", a, 6, &res);
		if (rc == PA_OK && db_res_rows(res) != 1) {
			*field = "username";
			rc = PA_CONFLICT;
		}
		db_res_free(res);
		res = NULL;
	}
	if (rc == PA_OK) {
		detail = json_pack("{s:s, s:s}", "role", role,
		    "organisation_id", org_id);
		rc = audit_change(db, who, "user.create", "user", id, detail);
		json_decref(detail);
	}
	if (rc == PA_OK && pending)
		rc = db_exec(db, "user_deactivate", &DB_TEXT(id), 1, NULL);
	if (rc == PA_OK)
		rc = db_exec(db, "user_get", &DB_TEXT(id), 1, &res);
	rc = db_tx_end(db, rc);
	if (rc == PA_OK && db_res_rows(res) == 1) {
		*out = user_json(res, 0);
		if (pending)
			json_object_set_new(*out, "pending_approval",
			    json_true());
	} else if (rc == PA_OK)
		rc = PA_INTERNAL;
out:
	db_res_free(res);
	db_release(db);
	return rc;
}

int
auth_kind_reaches_cases(const char *kind)
{
	static const char *const field[] = { "police", "ngo", "shelter",
		"one_stop_center", "child_protection", "labour_inspection",
		"judiciary" };
	size_t i;

	for (i = 0; kind != NULL && i < sizeof(field) / sizeof(field[0]);
	     i++)
		if (strcmp(field[i], kind) == 0)
			return 1;
	return 0;
}

enum pa_err
auth_user_list(struct db *db, const struct actor *who, const char *org_id,
    json_t **out)
{
	struct db_res *res = NULL;
	json_t *items, *o;
	enum pa_err rc;
	int i;

	(void)who;
	*out = NULL;
	rc = db_exec(db, "user_list", org_id ? &DB_TEXT(org_id) : &DB_NULL, 1,
	    &res);
	if (rc != PA_OK)
		return rc;
	if ((items = json_array()) == NULL) {
		db_res_free(res);
		return PA_INTERNAL;
	}
	for (i = 0; i < db_res_rows(res); i++)
		if ((o = user_json(res, i)) == NULL ||
		    json_array_append_new(items, o) != 0) {
			json_decref(items);
			db_res_free(res);
			return PA_INTERNAL;
		}
	db_res_free(res);
	*out = json_pack("{s:o, s:n}", "items", items, "next_cursor");
	return *out ? PA_OK : PA_INTERNAL;
}

enum pa_err
auth_user_update(const struct actor *who, const char *id, int active,
    const char *role, const char *password, json_t **out, const char **field)
{
	char hash[SEC_PW_HASH_MAX];
	struct db_res *res = NULL;
	struct db *db = NULL;
	json_t *detail;
	enum pa_err rc;

	*out = NULL;
	*field = NULL;
	if (role != NULL && !auth_role_valid(role)) {
		*field = "role";
		return PA_INVALID;
	}
	/* Nobody locks themselves out or changes their own rights. */
	if (who != NULL && strcmp(who->user_id, id) == 0 &&
	    (active == 0 || role != NULL)) {
		*field = active == 0 ? "active" : "role";
		return PA_CONFLICT;
	}
	if ((rc = db_acquire(&db)) != PA_OK)
		return rc;
	rc = db_exec(db, "user_get", &DB_TEXT(id), 1, &res);
	if (rc == PA_INVALID || (rc == PA_OK && db_res_rows(res) != 1))
		rc = PA_NOT_FOUND;
	/*
	 * A supervisor approves or suspends the accounts of their own
	 * organisation, nothing else; the administration may not turn on,
	 * or reset the password of, an account that reaches victims' files
	 * (a reset leaves it waiting for the supervisor's approval).
	 */
	if (rc == PA_OK && who != NULL && strcmp(who->role, "admin") != 0) {
		if (strcmp(db_res_get(res, 0, 3), who->org_id) != 0)
			rc = PA_NOT_FOUND;
		else if (role != NULL || password != NULL || active < 0) {
			*field = role != NULL ? "role" : "password";
			rc = PA_FORBIDDEN;
		}
	} else if (rc == PA_OK && who != NULL &&
	    auth_kind_reaches_cases(db_res_get(res, 0, 7))) {
		if (active == 1) {
			*field = "active";
			rc = PA_FORBIDDEN;
		} else if (password != NULL)
			active = 0;
	}
	if (rc == PA_OK && password != NULL &&
	    auth_password_policy(db_res_get(res, 0, 1), password) != PA_OK) {
		*field = "password";
		rc = PA_INVALID;
	}
	db_res_free(res);
	res = NULL;
	db_release(db);
	db = NULL;
	if (rc != PA_OK)
		return rc;
	if (password != NULL &&
	    (rc = sec_pw_hash(password, hash, sizeof(hash), PW_WAIT_MS)) !=
		PA_OK)
		return rc;
	if ((rc = db_acquire(&db)) != PA_OK)
		return rc;
	if ((rc = tx_begin(db, who)) != PA_OK)
		goto out;
	{
		struct db_arg a[4] = { DB_TEXT(id),
			active < 0 ? DB_NULL : DB_TEXT(active ? "true" : "false"),
			role ? DB_TEXT(role) : DB_NULL,
			password ? DB_TEXT(hash) : DB_NULL };

		rc = db_exec(db, "user_update", a, 4, &res);
		if (rc == PA_OK && db_res_rows(res) != 1)
			rc = PA_NOT_FOUND;
		db_res_free(res);
		res = NULL;
	}
	if (rc == PA_OK) {
		detail = json_pack("{s:o, s:s*, s:b}", "active",
		    active < 0 ? json_null() : json_boolean(active), "role", role,
		    "password_reset", password != NULL);
		rc = audit_change(db, who, "user.update", "user", id, detail);
		json_decref(detail);
	}
	if (rc == PA_OK)
		rc = db_exec(db, "user_get", &DB_TEXT(id), 1, &res);
	rc = db_tx_end(db, rc);
	if (rc == PA_OK && db_res_rows(res) == 1)
		*out = user_json(res, 0);
	else if (rc == PA_OK)
		rc = PA_INTERNAL;
out:
	db_res_free(res);
	db_release(db);
	return rc;
}
