/* Handlers: victims' cases. */
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "../cases/cases.h"
#include "../sop/sop.h"
#include "../util/jv.h"
#include "internal.h"

const struct jv_field h_case_body[] = {
	{ "victim", JV_OBJECT, JV_REQUIRED, 0 },
	{ "identification", JV_OBJECT, JV_REQUIRED, 0 },
	{ NULL, 0, 0, 0 },
};

const struct jv_field h_case_patch_body[] = {
	{ "version", JV_INTEGER, JV_REQUIRED, 0 },
	{ "victim", JV_OBJECT, 0, 0 },
	{ "identification", JV_OBJECT, 0, 0 },
	{ NULL, 0, 0, 0 },
};

const struct jv_field h_case_search_body[] = {
	{ "name", JV_STRING, JV_NONEMPTY, 200 },
	{ "date_of_birth", JV_STRING, 0, 10 },
	{ "reference", JV_STRING, 0, 32 },
	{ "stage", JV_STRING, 0, 40 },
	{ "overdue", JV_BOOLEAN, 0, 0 },
	{ "assigned", JV_STRING, 0, 8 },
	{ "limit", JV_INTEGER, 0, 0 },
	{ "cursor", JV_STRING, 0, 80 },
	{ NULL, 0, 0, 0 },
};

const struct jv_field h_empty_body[] = {
	{ NULL, 0, 0, 0 },
};

const struct jv_field h_assignee_body[] = {
	{ "user_id", JV_STRING, JV_REQUIRED, 36 },
	{ NULL, 0, 0, 0 },
};

const struct jv_field h_reassign_body[] = {
	{ "case_ids", JV_ARRAY, JV_REQUIRED, 500 },
	{ "user_id", JV_STRING, JV_REQUIRED, 36 },
	{ NULL, 0, 0, 0 },
};

enum pa_err
case_fail(struct req *r, enum pa_err rc, const struct cases_err *err)
{
	if (err->fr != NULL) {
		/* The field name is ours (the catalogue's), never client text. */
		char *field = err->field[0] ? strdup(err->field) : NULL;

		r->err_field_owned = field;
		r->err_code = err->code;
		return req_fail(r, rc, field, err->fr, err->en);
	}
	return rc;
}

enum pa_err
h_case_create(struct req *r)
{
	struct cases_err err;
	struct db *db;
	enum pa_err rc;

	if ((rc = req_db(r, &db)) != PA_OK)
		return rc;
	rc = cases_create(db, &r->who, r->json, &r->out, &err);
	if (rc == PA_OK)
		r->status = 201;
	return case_fail(r, rc, &err);
}

/* The caller the case's statement found (r->who itself): admitted, in the
 * request's language (Accept-Language), as every other caller is. */
static enum pa_err
admit_reader(struct actor *who, void *arg)
{
	return req_admit(arg, who);
}

/*
 * Hands the case's text to MHD, with the Content-Type of every JSON answer
 * (finish() adds the shared headers, as to any answer).
 */
static enum pa_err
case_text(struct req *r, enum pa_err rc, char *text, size_t len)
{
	if (rc != PA_OK)
		return rc;
	/* jv_text_free wipes strlen(text) bytes: JSON text holds no NUL. */
	if (strlen(text) != len) {
		jv_text_free(text);
		return PA_INTERNAL;
	}
	r->resp = MHD_create_response_from_buffer_with_free_callback(len, text,
	    jv_text_free);
	if (r->resp == NULL) {
		jv_text_free(text);
		return PA_INTERNAL;
	}
	MHD_add_response_header(r->resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "application/json; charset=utf-8");
	return PA_OK;
}

/*
 * The most frequent request: the session is checked in the case's own
 * statement (ROUTE_SESSION_IN_HANDLER), one round trip fewer. An id that
 * is no case id is answered after the usual session check (401 first).
 */
enum pa_err
h_case_get(struct req *r)
{
	unsigned char th[32];
	char idle[16], *text = NULL;
	size_t len = 0;
	struct db *db;
	enum pa_err rc;

	if ((rc = req_db(r, &db)) != PA_OK)
		return rc;
	if (req_session_deferred(r) && jv_uuid_valid(r->params[0])) {
		struct cases_signed s = { th, idle, r->addr,
			auth_allowed_pairs(r->route->action), admit_reader, r };

		if ((rc = auth_session_key(r->token, th, idle)) != PA_OK)
			return rc;
		/* The caller is written straight into r->who (admit sets .en). */
		rc = cases_get_signed(db, &s, r->params[0], &r->who, &text,
		    &len);
		return case_text(r, rc, text, len);
	}
	if (req_session_deferred(r) && (rc = req_session_check(r)) != PA_OK)
		return rc;
	rc = cases_get(db, &r->who, r->params[0], &text, &len);
	return case_text(r, rc, text, len);
}

enum pa_err
h_case_update(struct req *r)
{
	struct cases_err err;
	struct db *db;
	enum pa_err rc;

	if ((rc = req_db(r, &db)) != PA_OK)
		return rc;
	rc = cases_update(db, &r->who, r->params[0], r->json, &r->out, &err);
	return case_fail(r, rc, &err);
}

enum pa_err
h_case_erase(struct req *r)
{
	struct db *db;
	enum pa_err rc;

	if ((rc = req_db(r, &db)) != PA_OK)
		return rc;
	return cases_erase(db, &r->who, r->params[0], &r->out);
}

static enum pa_err
list(struct req *r, struct cases_query *q)
{
	struct cases_err err;
	struct db *db;
	enum pa_err rc;
	char *text = NULL;
	size_t len = 0;

	if (q->stage != NULL && !sop_code_valid(sop_current(), "stage",
	    q->stage))
		return req_fail(r, PA_INVALID, "stage", "étape inconnue",
		    "unknown stage");
	if ((rc = req_db(r, &db)) != PA_OK)
		return rc;
	rc = cases_list(db, &r->who, q, &text, &len, &err);
	if (rc == PA_OK) {
		r->resp = MHD_create_response_from_buffer(len, text,
		    MHD_RESPMEM_MUST_FREE);
		if (r->resp == NULL) {
			free(text);
			return PA_INTERNAL;
		}
		MHD_add_response_header(r->resp, MHD_HTTP_HEADER_CONTENT_TYPE,
		    "application/json; charset=utf-8");
	}
	return case_fail(r, rc, &err);
}

enum pa_err
h_case_list(struct req *r)
{
	char stage[48], ref[40], assigned[8], cursor[96], overdue[8];
	struct cases_query q = { 0 };
	const char *a;

	if (req_paging_limit(r, &q.limit) != 0)
		return req_fail(r, PA_INVALID, "limit", "paramètre invalide",
		    "invalid parameter");
	q.stage = req_query(r, "stage", stage, sizeof(stage));
	q.reference = req_query(r, "q", ref, sizeof(ref));
	q.cursor = req_query(r, "cursor", cursor, sizeof(cursor));
	if ((a = req_query(r, "assigned", assigned, sizeof(assigned))) !=
	    NULL) {
		if (strcmp(a, "me") != 0)
			return req_fail(r, PA_INVALID, "assigned",
			    "seule la valeur « me » est permise",
			    "only \"me\" is allowed");
		q.assigned_me = 1;
	}
	if (req_query(r, "overdue", overdue, sizeof(overdue)) != NULL) {
		if (strcmp(overdue, "true") != 0 &&
		    strcmp(overdue, "false") != 0)
			return req_fail(r, PA_INVALID, "overdue",
			    "paramètre invalide", "invalid parameter");
		q.overdue = strcmp(overdue, "true") == 0;
	}
	return list(r, &q);
}

enum pa_err
h_case_search(struct req *r)
{
	struct cases_query q = { 0 };
	json_t *limit = json_object_get(r->json, "limit");
	const char *a = req_str(r, "assigned");

	q.limit = 50;
	if (limit != NULL) {
		if (!json_is_integer(limit) || json_integer_value(limit) < 1 ||
		    json_integer_value(limit) > 500)
			return req_fail(r, PA_INVALID, "limit",
			    "valeur invalide", "invalid value");
		q.limit = (int)json_integer_value(limit);
	}
	q.name = req_str(r, "name");
	q.date_of_birth = req_str(r, "date_of_birth");
	q.reference = req_str(r, "reference");
	q.stage = req_str(r, "stage");
	q.cursor = req_str(r, "cursor");
	q.overdue = json_is_true(json_object_get(r->json, "overdue"));
	if (q.date_of_birth != NULL && !jv_date_valid(q.date_of_birth))
		return req_fail(r, PA_INVALID, "date_of_birth",
		    "date invalide (AAAA-MM-JJ)", "invalid date (YYYY-MM-DD)");
	if (q.date_of_birth != NULL && q.name == NULL)
		return req_fail(r, PA_INVALID, "date_of_birth",
		    "la date de naissance se cherche avec un nom",
		    "a date of birth is searched with a name");
	if (a != NULL) {
		if (strcmp(a, "me") != 0)
			return req_fail(r, PA_INVALID, "assigned",
			    "seule la valeur « me » est permise",
			    "only \"me\" is allowed");
		q.assigned_me = 1;
	}
	return list(r, &q);
}

enum pa_err
h_case_assign(struct req *r)
{
	struct db *db;
	enum pa_err rc;

	if ((rc = req_db(r, &db)) != PA_OK)
		return rc;
	rc = cases_assign(db, &r->who, r->params[0], req_str(r, "user_id"));
	if (rc == PA_INVALID)
		return req_fail(r, rc, "user_id",
		    "pas un intervenant actif de votre organisation",
		    "not an active caseworker of your organisation");
	if (rc == PA_OK) {
		r->out = json_pack("{s:s, s:s}", "case_id", r->params[0],
		    "user_id", req_str(r, "user_id"));
		if (r->out == NULL)
			return PA_INTERNAL;
	}
	return rc;
}

enum pa_err
h_case_reassign(struct req *r)
{
	struct db *db;
	enum pa_err rc;

	if ((rc = req_db(r, &db)) != PA_OK)
		return rc;
	rc = cases_reassign(db, &r->who, json_object_get(r->json, "case_ids"),
	    req_str(r, "user_id"), &r->out);
	if (rc == PA_INVALID)
		return req_fail(r, rc, NULL,
		    "dossiers ou intervenant invalides",
		    "invalid cases or assignee");
	return rc;
}
