/* Handlers: statistics, indicators and exports (anonymised). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "../config.h"
#include "../db/db.h"
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
		req_query(r, "by", by, sizeof(by)), &field) != PA_OK) {
		if (q->multi_year)
			return req_fail(r, PA_INVALID, field,
			    "une réponse couvre une seule année civile : "
			    "demandez une année à la fois (par mois ou "
			    "trimestre : by=month, by=quarter)",
			    "an answer covers one calendar year: ask one "
			    "year at a time (by month or quarter: by=month, "
			    "by=quarter)");
		return req_fail(r, PA_INVALID, field,
		    field && strcmp(field, "by") == 0 ?
			"dimensions inconnues, répétées ou plus de deux" :
			"période invalide (AAAA-MM-JJ, du plus ancien au plus "
			"récent)",
		    field && strcmp(field, "by") == 0 ?
			"unknown or repeated dimensions, or more than two" :
			"invalid period (YYYY-MM-DD, oldest first)");
	}
	q->k = (int)http_config()->stats_k;
	q->htcds_k = (int)http_config()->htcds_k;
	/* config_load checked the setting: month or none */
	if (stats_freeze(q, http_config()->stats_freeze, time(NULL)) != 0)
		return PA_INTERNAL;
	/* The committee sees the country; a supervisor their own cases. */
	if (strcmp(r->who.org_kind, "committee") != 0)
		q->organisation_id = r->who.org_id;
	return PA_OK;
}

/*
 * Statistics read through db_acquire_read: the replica when one is fit,
 * else the primary. The session's primary lease goes back first, so that a
 * request holds one connection at a time. When a statement fails on the
 * replica (it went away, or recovery cancelled the query), the same read
 * runs again on the primary: losing the replica degrades nothing.
 */
typedef enum pa_err (*stats_fn)(struct db *, const struct stats_query *,
    json_t **);

static enum pa_err
read_run(struct req *r, stats_fn fn, const struct stats_query *q,
    json_t **out)
{
	enum pa_err rc;

	req_db_release(r);
	if ((rc = db_acquire_read(&r->db)) != PA_OK)
		return rc;
	rc = fn(r->db, q, out);
	if ((rc == PA_DB || rc == PA_CONFLICT) && db_is_replica(r->db)) {
		if (rc == PA_DB)
			db_replica_failed();
		json_decref(*out);
		*out = NULL;
		req_db_release(r);
		if ((rc = db_acquire(&r->db)) != PA_OK)
			return rc;
		rc = fn(r->db, q, out);
	}
	return rc;
}

enum pa_err
h_stats(struct req *r)
{
	struct stats_query q;
	enum pa_err rc;

	if ((rc = query(r, &q)) != PA_OK)
		return rc;
	return read_run(r, stats_run, &q, &r->out);
}

enum pa_err
h_indicators(struct req *r)
{
	struct stats_query q;
	enum pa_err rc;

	if ((rc = query(r, &q)) != PA_OK)
		return rc;
	return read_run(r, stats_indicators, &q, &r->out);
}

/*
 * An export's audit record is a write: it goes to the primary, in its own
 * transaction, committed before a byte of the export is sent.
 */
static enum pa_err
audit_export(struct req *r, const struct stats_query *q, const char *format)
{
	struct db *db;
	enum pa_err rc;

	req_db_release(r);	/* maybe the replica's: never written to */
	if ((rc = req_db(r, &db)) != PA_OK)
		return rc;
	return stats_audit_export(db, &r->who, q, format);
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
	json_t *st = NULL;
	enum pa_err rc;
	char *text = NULL, path[] = "/tmp/passerelle-xlsx-XXXXXX";
	size_t len = 0;
	struct stat sb;
	int fd;

	if ((rc = query(r, &q)) != PA_OK)
		return rc;
	if ((rc = read_run(r, stats_run, &q, &st)) != PA_OK)
		goto out;
	if ((rc = audit_export(r, &q, format)) != PA_OK)
		goto out;
	if (strcmp(format, "json") == 0) {
		if ((text = json_dumps(st, JSON_COMPACT)) == NULL ||
		    (r->resp = MHD_create_response_from_buffer(strlen(text),
			text, MHD_RESPMEM_MUST_FREE)) == NULL) {
			free(text);
			rc = PA_INTERNAL;
			goto out;
		}
		attachment(r, &q, "json", "application/json; charset=utf-8");
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

static ssize_t
htcds_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	size_t n;

	(void)pos;
	if (max < 512)
		return 0;	/* asked again with more room */
	n = stats_htcds_next(cls, buf, max);
	return n == 0 ? MHD_CONTENT_READER_END_OF_STREAM : (ssize_t)n;
}

static void
htcds_free(void *cls)
{
	stats_htcds_free(cls);
}

/*
 * One k-anonymous row per case, for sharing abroad (analysts of the
 * committee). ?k= may raise k above PASSERELLE_HTCDS_K, never lower it.
 */
enum pa_err
h_export_htcds(struct req *r)
{
	struct stats_query q;
	struct htcds *h = NULL;
	char kb[16], cd[128], num[24], *end;
	const char *kv = req_query(r, "k", kb, sizeof(kb));
	long k = http_config()->htcds_k, rows, gen, dropped;
	enum pa_err rc;

	if (strcmp(r->who.org_kind, "committee") != 0)
		return PA_FORBIDDEN;
	if (kv != NULL) {
		long want = strtol(kv, &end, 10);

		if (end == kv || *end != '\0' || want < k || want > 1000)
			return req_fail(r, PA_INVALID, "k",
			    "k ne peut pas descendre sous le minimum",
			    "k cannot go below the minimum");
		k = want;
	}
	if ((rc = query(r, &q)) != PA_OK)
		return rc;
	q.k = (int)k;
	req_db_release(r);
	if ((rc = db_acquire_read(&r->db)) != PA_OK)
		return rc;
	rc = stats_htcds_prepare(r->db, &q, (int)k, r->en, &h);
	if ((rc == PA_DB || rc == PA_CONFLICT) && db_is_replica(r->db)) {
		if (rc == PA_DB)
			db_replica_failed();
		req_db_release(r);
		if ((rc = db_acquire(&r->db)) != PA_OK)
			return rc;
		rc = stats_htcds_prepare(r->db, &q, (int)k, r->en, &h);
	}
	if (rc != PA_OK)
		return rc;
	if ((rc = audit_export(r, &q, "htcds.csv")) != PA_OK) {
		stats_htcds_free(h);
		return rc;
	}
	stats_htcds_counts(h, &rows, &gen, &dropped);
	r->resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024,
	    htcds_read, h, htcds_free);
	if (r->resp == NULL) {
		stats_htcds_free(h);
		return PA_INTERNAL;
	}
	snprintf(cd, sizeof(cd), "attachment; filename=\"htcds-%s-%s.csv\"",
	    q.from, q.to);
	MHD_add_response_header(r->resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/csv; charset=utf-8");
	MHD_add_response_header(r->resp, "Content-Disposition", cd);
	snprintf(num, sizeof(num), "%ld", rows);
	MHD_add_response_header(r->resp, "X-Passerelle-Rows", num);
	snprintf(num, sizeof(num), "%ld", gen);
	MHD_add_response_header(r->resp, "X-Passerelle-Generalised", num);
	snprintf(num, sizeof(num), "%ld", dropped);
	MHD_add_response_header(r->resp, "X-Passerelle-Dropped", num);
	snprintf(num, sizeof(num), "%ld", k);
	MHD_add_response_header(r->resp, "X-Passerelle-K", num);
	MHD_add_response_header(r->resp, "X-Passerelle-Period-From", q.from);
	MHD_add_response_header(r->resp, "X-Passerelle-Period-To", q.to);
	MHD_add_response_header(r->resp, "X-Passerelle-Period-Widened",
	    q.widened ? "1" : "0");
	/* the freeze: cases opened before this instant ("" when none) */
	MHD_add_response_header(r->resp, "X-Passerelle-As-Of", q.cutoff);
	return PA_OK;
}
