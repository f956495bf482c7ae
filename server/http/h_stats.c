/* Handlers: statistics, indicators and exports (anonymised). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>

#include "../config.h"
#include "../stats/stats.h"
#include "internal.h"

/* Period, dimensions, k and scope from the query string. */
static enum pa_err
query(struct req *r, struct stats_query *q)
{
	char from[16], to[16], by[128];
	const char *field = NULL;

	memset(q, 0, sizeof(*q));
	if (stats_query_parse(q, req_query(r, "from", from, sizeof(from)),
		req_query(r, "to", to, sizeof(to)),
		req_query(r, "by", by, sizeof(by)), &field) != PA_OK)
		return req_fail(r, PA_INVALID, field,
		    field && strcmp(field, "by") == 0 ?
			"dimensions inconnues, répétées ou plus de trois" :
			"période invalide (AAAA-MM-JJ, du plus ancien au plus "
			"récent)",
		    field && strcmp(field, "by") == 0 ?
			"unknown or repeated dimensions, or more than three" :
			"invalid period (YYYY-MM-DD, oldest first)");
	q->k = (int)http_config()->stats_k;
	/* The committee sees the country; a supervisor their own cases. */
	if (strcmp(r->who.org_kind, "committee") != 0)
		q->organisation_id = r->who.org_id;
	return PA_OK;
}

enum pa_err
h_stats(struct req *r)
{
	struct stats_query q;
	struct db *db;
	enum pa_err rc;

	if ((rc = query(r, &q)) != PA_OK)
		return rc;
	if ((rc = req_db(r, &db)) != PA_OK)
		return rc;
	return stats_run(db, &q, &r->out);
}

enum pa_err
h_indicators(struct req *r)
{
	struct stats_query q;
	struct db *db;
	enum pa_err rc;

	if ((rc = query(r, &q)) != PA_OK)
		return rc;
	if ((rc = req_db(r, &db)) != PA_OK)
		return rc;
	return stats_indicators(db, &q, &r->out);
}

static void
attachment(struct req *r, const struct stats_query *q, const char *ext,
    const char *type)
{
	char cd[128];

	snprintf(cd, sizeof(cd),
	    "attachment; filename=\"passerelle-stats-%s-%s.%s\"", q->from,
	    q->to, ext);
	MHD_add_response_header(r->resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r->resp, "Content-Disposition", cd);
}

static enum pa_err
export(struct req *r, const char *format)
{
	struct stats_query q;
	struct db *db;
	json_t *st = NULL;
	enum pa_err rc;
	char *text = NULL, path[] = "/tmp/passerelle-xlsx-XXXXXX";
	size_t len = 0;
	struct stat sb;
	int fd;

	if ((rc = query(r, &q)) != PA_OK)
		return rc;
	if ((rc = req_db(r, &db)) != PA_OK)
		return rc;
	if ((rc = stats_run(db, &q, &st)) != PA_OK)
		return rc;
	if ((rc = stats_audit_export(db, &r->who, &q, format)) != PA_OK)
		goto out;
	if (strcmp(format, "json") == 0) {
		r->out = st;
		st = NULL;
		goto out;
	}
	if (strcmp(format, "csv") == 0) {
		if ((text = stats_csv(st, r->en, &len)) == NULL) {
			rc = PA_INTERNAL;
			goto out;
		}
		r->resp = MHD_create_response_from_buffer(len, text,
		    MHD_RESPMEM_MUST_FREE);
		if (r->resp == NULL) {
			free(text);
			rc = PA_INTERNAL;
			goto out;
		}
		attachment(r, &q, "csv", "text/csv; charset=utf-8");
		goto out;
	}
	/* XLSX: written to a private temporary file, sent from its fd. */
	if ((fd = mkstemp(path)) < 0) {
		rc = PA_INTERNAL;
		goto out;
	}
	close(fd);
	if (stats_xlsx(st, r->en, path) != 0 ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		unlink(path);
		rc = PA_INTERNAL;
		goto out;
	}
	unlink(path);
	if (fstat(fd, &sb) != 0 || (r->resp = MHD_create_response_from_fd(
	    (uint64_t)sb.st_size, fd)) == NULL) {
		close(fd);
		rc = PA_INTERNAL;
		goto out;
	}
	attachment(r, &q, "xlsx", "application/vnd.openxmlformats-"
	    "officedocument.spreadsheetml.sheet");
out:
	json_decref(st);
	return rc;
}

enum pa_err
h_export_csv(struct req *r)
{
	return export(r, "csv");
}

enum pa_err
h_export_json(struct req *r)
{
	return export(r, "json");
}

enum pa_err
h_export_xlsx(struct req *r)
{
	return export(r, "xlsx");
}
