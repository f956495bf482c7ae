/* Handlers: consents, referrals, transitions, notes, services, justice. */
#include <string.h>

#include "../cases/cases.h"
#include "../util/jv.h"
#include "internal.h"

const struct jv_field h_consent_body[] = {
	{ "scope", JV_STRING, JV_REQUIRED, 40 },
	{ "given_by", JV_STRING, JV_REQUIRED, 16 },
	{ "date", JV_STRING, JV_REQUIRED, 10 },
	{ "note", JV_STRING, JV_NULLABLE, 4000 },
	{ NULL, 0, 0, 0 },
};

const struct jv_field h_referral_body[] = {
	{ "to_organisation_id", JV_STRING, JV_REQUIRED, 36 },
	{ "service", JV_STRING, JV_REQUIRED, 40 },
	{ "urgency", JV_STRING, JV_REQUIRED, 20 },
	{ "note", JV_STRING, JV_NULLABLE, 4000 },
	{ "consent_id", JV_STRING, JV_NULLABLE, 36 },
	{ NULL, 0, 0, 0 },
};

const struct jv_field h_decline_body[] = {
	{ "reason", JV_STRING, JV_REQUIRED, 40 },
	{ "note", JV_STRING, JV_NULLABLE, 4000 },
	{ NULL, 0, 0, 0 },
};

const struct jv_field h_withdraw_body[] = {
	{ "reason", JV_STRING, JV_NULLABLE, 4000 },
	{ NULL, 0, 0, 0 },
};

const struct jv_field h_complete_body[] = {
	{ "note", JV_STRING, JV_NULLABLE, 4000 },
	{ NULL, 0, 0, 0 },
};

const struct jv_field h_transition_body[] = {
	{ "transition", JV_STRING, JV_REQUIRED, 80 },
	{ "note", JV_STRING, JV_NULLABLE, 4000 },
	{ "version", JV_INTEGER, JV_REQUIRED, 0 },
	{ NULL, 0, 0, 0 },
};

const struct jv_field h_note_body[] = {
	{ "body", JV_STRING, JV_REQUIRED, 20000 },
	{ "visibility", JV_STRING, JV_REQUIRED, 16 },
	{ "category", JV_STRING, 0, 40 },
	{ NULL, 0, 0, 0 },
};

const struct jv_field h_service_body[] = {
	{ "service", JV_STRING, JV_REQUIRED, 40 },
	{ "date", JV_STRING, JV_REQUIRED, 10 },
	{ "note", JV_STRING, JV_NULLABLE, 4000 },
	{ NULL, 0, 0, 0 },
};

const struct jv_field h_justice_body[] = {
	{ "status", JV_STRING, JV_REQUIRED, 40 },
	{ "note", JV_STRING, JV_NULLABLE, 4000 },
	{ NULL, 0, 0, 0 },
};

typedef enum pa_err (*case_op)(struct db *, const struct actor *,
    const char *, json_t *, json_t **, struct cases_err *);

/* Runs a module operation on the case in the path; status on success. */
static enum pa_err
on_case(struct req *r, case_op op, unsigned int status)
{
	struct cases_err err;
	struct db *db;
	enum pa_err rc;

	memset(&err, 0, sizeof(err));
	if (!jv_uuid_valid(r->params[0]))
		return PA_NOT_FOUND;
	if ((rc = req_db(r, &db)) != PA_OK)
		return rc;
	rc = op(db, &r->who, r->params[0], r->json, &r->out, &err);
	if (rc == PA_OK)
		r->status = status;
	return case_fail(r, rc, &err);
}

enum pa_err
h_consent_add(struct req *r)
{
	return on_case(r, cases_consent_add, 201);
}

enum pa_err
h_consent_withdraw(struct req *r)
{
	struct cases_err err;
	struct db *db;
	enum pa_err rc;

	memset(&err, 0, sizeof(err));
	if (!jv_uuid_valid(r->params[0]))
		return PA_NOT_FOUND;
	if ((rc = req_db(r, &db)) != PA_OK)
		return rc;
	rc = cases_consent_withdraw(db, &r->who, r->params[0], r->params[1],
	    &r->out, &err);
	return case_fail(r, rc, &err);
}

enum pa_err
h_referral_create(struct req *r)
{
	return on_case(r, cases_referral_create, 201);
}

enum pa_err
h_transition(struct req *r)
{
	return on_case(r, cases_transition, 200);
}

enum pa_err
h_note_add(struct req *r)
{
	return on_case(r, cases_note_add, 201);
}

enum pa_err
h_service_add(struct req *r)
{
	return on_case(r, cases_service_add, 201);
}

enum pa_err
h_justice_set(struct req *r)
{
	return on_case(r, cases_justice_set, 200);
}

enum pa_err
h_referral_list(struct req *r)
{
	static const char *const statuses[] = { "pending", "accepted",
		"declined", "withdrawn", "completed" };
	char dir[16], st[16], od[8];
	const char *d = req_query(r, "direction", dir, sizeof(dir));
	const char *s = req_query(r, "status", st, sizeof(st));
	const char *o = req_query(r, "overdue", od, sizeof(od));
	struct db *db;
	enum pa_err rc;
	size_t i;
	int limit, ok = s == NULL;

	if (d != NULL && strcmp(d, "incoming") != 0 &&
	    strcmp(d, "outgoing") != 0)
		return req_fail(r, PA_INVALID, "direction",
		    "« incoming » ou « outgoing »",
		    "\"incoming\" or \"outgoing\"");
	for (i = 0; s != NULL && i < sizeof(statuses) / sizeof(statuses[0]);
	     i++)
		if (strcmp(s, statuses[i]) == 0)
			ok = 1;
	if (!ok)
		return req_fail(r, PA_INVALID, "status", "statut inconnu",
		    "unknown status");
	if (o != NULL && strcmp(o, "true") != 0 && strcmp(o, "false") != 0)
		return req_fail(r, PA_INVALID, "overdue", "paramètre invalide",
		    "invalid parameter");
	if (req_paging_limit(r, &limit) != 0)
		return req_fail(r, PA_INVALID, "limit", "paramètre invalide",
		    "invalid parameter");
	if ((rc = req_db(r, &db)) != PA_OK)
		return rc;
	return cases_referral_list(db, &r->who, d, s,
	    o != NULL && strcmp(o, "true") == 0, limit, &r->out);
}

enum pa_err
h_referral_get(struct req *r)
{
	struct db *db;
	enum pa_err rc;

	if ((rc = req_db(r, &db)) != PA_OK)
		return rc;
	return cases_referral_get(db, &r->who, r->params[0], &r->out);
}

static enum pa_err
referral_act(struct req *r, enum referral_act act)
{
	struct cases_err err;
	struct db *db;
	enum pa_err rc;

	memset(&err, 0, sizeof(err));
	if ((rc = req_db(r, &db)) != PA_OK)
		return rc;
	rc = cases_referral_act(db, &r->who, r->params[0], act, r->json,
	    &r->out, &err);
	return case_fail(r, rc, &err);
}

enum pa_err
h_referral_accept(struct req *r)
{
	return referral_act(r, REF_ACCEPT);
}

enum pa_err
h_referral_decline(struct req *r)
{
	return referral_act(r, REF_DECLINE);
}

enum pa_err
h_referral_withdraw(struct req *r)
{
	return referral_act(r, REF_WITHDRAW);
}

enum pa_err
h_referral_complete(struct req *r)
{
	return referral_act(r, REF_COMPLETE);
}

enum pa_err
h_inbox(struct req *r)
{
	struct db *db;
	enum pa_err rc;

	if ((rc = req_db(r, &db)) != PA_OK)
		return rc;
	return cases_inbox(db, &r->who, &r->out);
}
