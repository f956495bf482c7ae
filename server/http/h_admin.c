/* Handlers: organisations and accounts (the administration). */
#include <string.h>

#include "../util/jv.h"
#include "internal.h"

const struct jv_field h_org_body[] = {
	{ "name", JV_STRING, JV_REQUIRED | JV_NONEMPTY, 200 },
	{ "kind", JV_STRING, JV_REQUIRED, 40 },
	{ "region", JV_STRING, JV_NULLABLE, 40 },
	{ "services", JV_ARRAY, 0, 20 },
	{ NULL, 0, 0, 0 },
};

const struct jv_field h_user_body[] = {
	{ "username", JV_STRING, JV_REQUIRED | JV_NONEMPTY, 64 },
	{ "password", JV_STRING, JV_REQUIRED | JV_NONEMPTY, 1024 },
	{ "role", JV_STRING, JV_REQUIRED, 20 },
	{ "organisation_id", JV_STRING, JV_REQUIRED, 36 },
	{ NULL, 0, 0, 0 },
};

const struct jv_field h_user_patch_body[] = {
	{ "active", JV_BOOLEAN, 0, 0 },
	{ "role", JV_STRING, 0, 20 },
	{ "password", JV_STRING, JV_NONEMPTY, 1024 },
	{ NULL, 0, 0, 0 },
};

static enum pa_err
invalid(struct req *r, const char *field)
{
	return req_fail(r, PA_INVALID, field, "valeur invalide",
	    "invalid value");
}

enum pa_err
h_org_create(struct req *r)
{
	const char *kind = req_str(r, "kind"), *region = req_str(r, "region");
	struct db *db;
	enum pa_err rc;

	if (!auth_kind_valid(kind))
		return invalid(r, "kind");
	if (region != NULL && !auth_region_valid(region))
		return invalid(r, "region");
	if ((rc = req_db(r, &db)) != PA_OK)
		return rc;
	rc = auth_org_create(db, &r->who, req_str(r, "name"), kind, region,
	    json_object_get(r->json, "services"), &r->out);
	if (rc == PA_INVALID)
		return invalid(r, "services");
	if (rc == PA_CONFLICT)
		return req_fail(r, rc, "name", "ce nom est déjà pris",
		    "this name is taken");
	if (rc == PA_OK)
		r->status = 201;
	return rc;
}

enum pa_err
h_org_list(struct req *r)
{
	struct db *db;
	enum pa_err rc;

	if ((rc = req_db(r, &db)) != PA_OK)
		return rc;
	return auth_org_list(db, &r->who, &r->out);
}

static enum pa_err
user_result(struct req *r, enum pa_err rc, const char *field)
{
	if (rc == PA_INVALID && field != NULL &&
	    strcmp(field, "password") == 0)
		return req_fail(r, rc, field,
		    "mot de passe refusé : 12 à 256 caractères, sans "
		    "l'identifiant",
		    "password refused: 12 to 256 characters, without the user "
		    "name");
	if (rc == PA_INVALID)
		return invalid(r, field);
	if (rc == PA_CONFLICT && field != NULL &&
	    strcmp(field, "username") == 0)
		return req_fail(r, rc, field, "cet identifiant est déjà pris",
		    "this user name is taken");
	if (rc == PA_CONFLICT)
		return req_fail(r, rc, field,
		    "vous ne pouvez pas changer vos propres droits",
		    "you cannot change your own rights");
	if (rc == PA_FORBIDDEN && field != NULL &&
	    strcmp(field, "active") == 0)
		return req_fail(r, rc, field,
		    "un superviseur de l'organisation approuve ce compte",
		    "a supervisor of the organisation approves this account");
	if (rc == PA_FORBIDDEN)
		return req_fail(r, rc, field,
		    "un superviseur ne fait qu'approuver ou suspendre",
		    "a supervisor only approves or suspends");
	if (rc == PA_BUSY)
		r->retry_after = 2;
	return rc;
}

enum pa_err
h_user_create(struct req *r)
{
	const char *field = NULL;
	enum pa_err rc;

	if (!jv_uuid_valid(req_str(r, "organisation_id")))
		return invalid(r, "organisation_id");
	req_db_release(r);
	rc = auth_user_create(&r->who, req_str(r, "username"),
	    req_str(r, "password"), req_str(r, "role"),
	    req_str(r, "organisation_id"), 1, &r->out, &field);
	if (rc == PA_OK)
		r->status = 201;
	return user_result(r, rc, field);
}

enum pa_err
h_user_list(struct req *r)
{
	char org[64];
	const char *o = req_query(r, "organisation_id", org, sizeof(org));
	struct db *db;
	enum pa_err rc;

	if (o != NULL && !jv_uuid_valid(o))
		return invalid(r, "organisation_id");
	/* A supervisor lists their own organisation only. */
	if (strcmp(r->who.role, "admin") != 0)
		o = r->who.org_id;
	if ((rc = req_db(r, &db)) != PA_OK)
		return rc;
	return auth_user_list(db, &r->who, o, &r->out);
}

enum pa_err
h_user_update(struct req *r)
{
	json_t *active = json_object_get(r->json, "active");
	const char *field = NULL;
	enum pa_err rc;

	if (!jv_uuid_valid(r->params[0]))
		return PA_NOT_FOUND;
	if (json_object_size(r->json) == 0)
		return req_fail(r, PA_INVALID, NULL, "rien à changer",
		    "nothing to change");
	req_db_release(r);
	rc = auth_user_update(&r->who, r->params[0],
	    active ? json_is_true(active) : -1, req_str(r, "role"),
	    req_str(r, "password"), &r->out, &field);
	return user_result(r, rc, field);
}
