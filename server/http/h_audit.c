/* Handlers: the audit trail and its verification (auditors). */
#include <stdlib.h>
#include <string.h>

#include "../audit/audit.h"
#include "../util/jv.h"
#include "internal.h"

static enum pa_err
invalid(struct req *r, const char *field)
{
	return req_fail(r, PA_INVALID, field, "paramètre invalide",
	    "invalid parameter");
}

/* ?limit= (1..500, default 50) and ?cursor= (a record id). */
int
req_paging(struct req *r, int *limit, long long *cursor)
{
	char buf[32], *end;
	const char *v;
	long n;

	*limit = 50;
	*cursor = 0;
	if ((v = req_query(r, "limit", buf, sizeof(buf))) != NULL) {
		n = strtol(v, &end, 10);
		if (end == v || *end != '\0' || n < 1 || n > 500)
			return -1;
		*limit = (int)n;
	}
	if ((v = req_query(r, "cursor", buf, sizeof(buf))) != NULL) {
		*cursor = strtoll(v, &end, 10);
		if (end == v || *end != '\0' || *cursor < 1)
			return -2;
	}
	return 0;
}

int
req_paging_limit(struct req *r, int *limit)
{
	char buf[32], *end;
	const char *v;
	long n;

	*limit = 50;
	if ((v = req_query(r, "limit", buf, sizeof(buf))) == NULL)
		return 0;
	n = strtol(v, &end, 10);
	if (end == v || *end != '\0' || n < 1 || n > 500)
		return -1;
	*limit = (int)n;
	return 0;
}

enum pa_err
h_audit_list(struct req *r)
{
	char case_id[64], user_id[64], from[16], to[16];
	struct audit_filter f = { 0 };
	long long cursor;
	int64_t next = 0;
	json_t *items;
	struct db *db;
	enum pa_err rc;
	int p;

	if ((p = req_paging(r, &f.limit, &cursor)) != 0)
		return invalid(r, p == -1 ? "limit" : "cursor");
	f.before_id = cursor;
	f.resource_id = req_query(r, "case_id", case_id, sizeof(case_id));
	f.user_id = req_query(r, "user_id", user_id, sizeof(user_id));
	f.from = req_query(r, "from", from, sizeof(from));
	f.to = req_query(r, "to", to, sizeof(to));
	if (f.resource_id != NULL && !jv_uuid_valid(f.resource_id))
		return invalid(r, "case_id");
	if (f.user_id != NULL && !jv_uuid_valid(f.user_id))
		return invalid(r, "user_id");
	if (f.from != NULL && !jv_date_valid(f.from))
		return invalid(r, "from");
	if (f.to != NULL && !jv_date_valid(f.to))
		return invalid(r, "to");
	/* Auditors of one organisation read their organisation's records. */
	if (!auth_allowed(&r->who, ACT_AUDIT_ALL))
		f.organisation_id = r->who.org_id;
	if ((rc = req_db(r, &db)) != PA_OK)
		return rc;
	if ((rc = audit_list(db, &f, &items, &next)) != PA_OK)
		return rc;
	r->out = next ? json_pack("{s:o, s:s+}", "items", items,
			    "next_cursor", "", "") :
			json_pack("{s:o, s:n}", "items", items, "next_cursor");
	if (r->out != NULL && next) {
		char nc[24];

		snprintf(nc, sizeof(nc), "%lld", (long long)next);
		json_object_set_new(r->out, "next_cursor", json_string(nc));
	}
	return r->out ? PA_OK : PA_INTERNAL;
}

enum pa_err
h_audit_verify(struct req *r)
{
	struct audit_verdict v;
	struct db *db;
	enum pa_err rc;

	if ((rc = req_db(r, &db)) != PA_OK)
		return rc;
	if ((rc = audit_verify(db, &v)) != PA_OK)
		return rc;
	if (v.ok)
		r->out = json_pack("{s:b, s:I}", "ok", 1, "records",
		    (json_int_t)v.records);
	else
		r->out = json_pack("{s:b, s:I, s:s, s:I}", "ok", 0, "first_bad",
		    (json_int_t)v.first_bad, "chain", v.chain, "records",
		    (json_int_t)v.records);
	return r->out ? PA_OK : PA_INTERNAL;
}
