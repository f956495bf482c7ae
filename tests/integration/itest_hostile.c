/*
 * A hostile walk of every endpoint, black box: malformed, oversized,
 * wrongly typed, deeply nested and invalid UTF-8 bodies, path parameters
 * and query strings, sent as nobody, as a forged session and as each demo
 * account. Whatever comes, the server must answer below 500, stay up, keep
 * the database as it was, and give every 4xx the error shape
 * {"error":{"code","message","field"?}} as application/json.
 *
 * The endpoints come from the server's own route table (http_routes), so a
 * new route is walked without touching this file: its path parameters are
 * filled from the segment before them ("cases/{id}" takes the case made
 * here), its body members from the route's jv spec, and the members of
 * nested case sections from the SOP file's field catalogue.
 *
 * What is never sent: a request that is well formed as a whole, since it
 * would rightly change the database (POST .../erase with "{}" on the real
 * case, DELETE /api/v1/session). Path spellings are all hostile, every
 * body holds at least one wrong member, and a null goes into a case
 * section only where the section is required (a creation): in a PATCH it
 * clears the field. The one exception is deliberate: a caller that the
 * route refuses (401, 403) also sends the well-formed request, which must
 * stay refused.
 *
 * Cost, a few thousand requests: for each route, every caller sends a
 * probe that tells whether it gets through the door (session, CSRF token,
 * role; the server reads no body before that): a body wrong only in its
 * members, a read, or a write on random ids. Each full list (path
 * spellings, JSON, members, media types, CSRF tokens, queries) then goes
 * once, by turns among the callers that got through, since those checks
 * do not depend on who asks; the SOP section values go by turns among the
 * callers whose section probe reaches the SOP validation; and every caller
 * also sends a sample of each list. After each route the database must be
 * as it was, and after each write route every session must still work.
 *
 * Known limit of the client: libcurl 7.88 with cookies sends a Cookie
 * header without its final CRLF once the request line passes about 8 KB,
 * and the request then hangs. Long values here stay at 4000 characters; a
 * request line too long for libmicrohttpd is tested on a raw socket.
 */
#include <ctype.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "harness.h"
#include "http/internal.h"
#include "util/jv.h"

#define DEMO_PASSWORD "Passerelle-Demo-2026"
#define MAX_BODY 65536 /* PASSERELLE_MAX_BODY of this server */
#define RANDOM_UUID "3f1c2b7e-9a4d-4c1e-8b2a-5d6e7f8091a2"
#define HEALTH_EVERY 200 /* requests between two /healthz checks */
#define MAX_PRINTED 200  /* violations printed in full */

static const char *const accounts[] = { "police.agent", "police.chef",
	"refuge.gao", "guichet.agent", "enfance.agent", "justice.agent",
	"comite.analyste", "comite.audit", "admin" };
#define NACCOUNTS (sizeof(accounts) / sizeof(accounts[0]))

/* --- growing strings ----------------------------------------------------- */

struct buf {
	char *p;
	size_t len, cap;
};

static void
buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *np = realloc(b->p, cap);

		if (np == NULL)
			abort();
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
buf_printf(struct buf *b, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		abort();
	buf_add(b, tmp, (size_t)n);
}

static void
buf_repeat(struct buf *b, char c, size_t n)
{
	char chunk[4096];

	memset(chunk, c, sizeof(chunk));
	while (n > 0) {
		size_t k = n < sizeof(chunk) ? n : sizeof(chunk);

		buf_add(b, chunk, k);
		n -= k;
	}
}

static void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->p != NULL)
		b->p[0] = '\0';
}

static void
buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* --- the run ------------------------------------------------------------- */

enum caller_kind { NOBODY, FORGED, ACCOUNT };

struct caller {
	const char *name;
	enum caller_kind kind;
	struct harness_client c;
	char csrf[128];
	int csrf_ok; /* csrf holds the session's token */
};

struct run_state {
	struct harness_server srv;
	char *db;
	int dead;   /* the server died: stop walking */
	int log_fd; /* kept open: the harness removes the log at stop */
	struct harness_client health;
	struct caller callers[NACCOUNTS + 2];
	size_t ncallers;
	json_t *sop;
	/* Real ids, made through the API. */
	char case_id[40], consent_id[40], referral_id[40], user_id[40];
	char org_id[40];
	long case_version;
	/* Counters. */
	unsigned long requests, violations, relogins, dbchanges;
	double t0;
	char fingerprint[4096];
};

static struct run_state run;

/* Wrong spellings of a path parameter; 0 is the real id. */
static const char *const bad_params[] = {
	NULL,        /* the real id */
	RANDOM_UUID, /* well formed, exists nowhere */
	"not-a-uuid", "%00", "..%2F..", "%ZZ", "%C3%28", "..", "%2e%2e", "-1",
	"",   /* an empty segment */
	NULL, /* 300 characters (built) */
	NULL, /* 2100: past the router's path limit (built) */
	NULL, /* the real id in upper case (built) */
	NULL, /* the real id and a NUL (built) */
};
#define NBAD_PARAMS (sizeof(bad_params) / sizeof(bad_params[0]))

/* Query strings for GET routes. */
static const char *const bad_queries[] = {
	"limit=-1", "limit=0", "limit=abc", "limit=999999",
	"limit=99999999999999999999999", "limit=1e3", "limit=", "limit",
	"limit=1&limit=2", "limit=%00", "cursor=garbage", "cursor=-1",
	"cursor=99999999999999999999999", "cursor=%C3%28", "cursor=%ZZ",
	"stage=unknown", "stage=%00", "stage=%C3%28", "q=%FF%FE",
	"from=2026-13-45", "to=0000-00-00", "from=2026-02-30&to=1900-01-01",
	"direction=sideways", "status=x", "direction=incoming&status=%00",
	"overdue=maybe", "assigned=you", "organisation_id=not-a-uuid",
	"organisation_id=%00", "case_id=not-a-uuid", "user_id=%C3%28",
	"by=nonsense", "k=-1", "%FF=1", "%00=1", "x=%ZZ", "&&&", "=", "?",
	"a=1;b=2", "from=0001-01-01&to=9999-12-31",
	"from=2026-01-01&to=2025-01-01", "k=0", "k=2147483648",
	"k=99999999999999999999", "by=sex,sex", "by=,,,,,,,,,,,,,,,,", "by=%00",
	"k=1&k=2&by=sex&by=region",
	NULL, /* three values of 1000 characters (built) */
	NULL, /* a value of 4000 characters (built) */
};
#define NBAD_QUERIES (sizeof(bad_queries) / sizeof(bad_queries[0]))

/* --- violations and health ----------------------------------------------- */

static void violation(const struct caller *who, const char *method,
    const char *path, const char *label, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void
violation(const struct caller *who, const char *method, const char *path,
    const char *label, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	run.violations++;
	if (run.violations > MAX_PRINTED)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "hostile: VIOLATION %lu: as %s: %s %.160s%s [%s]: %s\n",
	    run.violations, who ? who->name : "-", method ? method : "",
	    path ? path : "", path && strlen(path) > 160 ? "..." : "",
	    label ? label : "", msg);
}

/* Is the server process still running? Reaps it when it died. */
static int
server_alive(void)
{
	int st;
	pid_t w;

	if (run.dead)
		return 0;
	w = waitpid(run.srv.pid, &st, WNOHANG);
	if (w == 0)
		return 1;
	run.dead = 1;
	if (w == run.srv.pid) {
		fprintf(stderr, "hostile: the server died: %s %d\n",
		    WIFSIGNALED(st) ? "signal" : "exit status",
		    WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
		run.srv.pid = 0; /* reaped: harness_server_stop must not kill */
	}
	return 0;
}

/* /healthz answers 200 and the process is alive; else a violation. */
static int
health(const char *after)
{
	struct harness_resp r;
	long st;

	if (!server_alive()) {
		violation(NULL, "", "", after, "the server process is gone");
		return 0;
	}
	st = harness_client_http(&run.health, &run.srv, "GET", "/healthz", NULL,
	    NULL, &r);
	harness_resp_free(&r);
	if (st != 200) {
		violation(NULL, "GET", "/healthz", after,
		    "/healthz answered %ld", st);
		return server_alive();
	}
	return 1;
}

/* --- the database fingerprint -------------------------------------------- */

/*
 * Row counts of every table but those that rightly grow with logins and
 * refusals, and checksums of the tables that hold cases and accounts.
 */
static const char count_sql[] =
    "SELECT string_agg(format('%s=%s', c.relname, (xpath('/row/n/text()', "
    "query_to_xml(format('SELECT count(*) AS n FROM %I.%I', n.nspname, "
    "c.relname), false, true, '')))[1]::text), ' ' ORDER BY c.relname) "
    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind IN ('r', 'p') AND n.nspname = current_schema() "
    "AND c.relname NOT IN ('audit_log', 'login_failures', 'sessions')";

/* Tables whose contents, not only their row counts, must not change. */
static const char *const summed[] = { "cases", "case_fields", "referrals",
	"consents", "users", "organisations" };

static int
fingerprint(char *out, size_t len)
{
	char counts[2048], sums[1024];
	struct buf sql = { 0 };
	size_t i;
	int rc;

	buf_str(&sql, "SELECT concat_ws(' '");
	for (i = 0; i < sizeof(summed) / sizeof(summed[0]); i++)
		buf_printf(&sql,
		    ", '%s:' || (SELECT md5(coalesce(string_agg(t::text, ',' "
		    "ORDER BY t::text), '')) FROM %s t)",
		    summed[i], summed[i]);
	buf_str(&sql, ")");
	rc = harness_value(run.db, count_sql, NULL, 0, counts,
	         sizeof(counts)) != 0 ||
	     harness_value(run.db, sql.p, NULL, 0, sums, sizeof(sums)) != 0;
	buf_free(&sql);
	if (rc)
		return -1;
	snprintf(out, len, "%s | %s", counts, sums);
	return 0;
}

/* Prints the words of a that differ from b's. */
static void
print_diff(const char *a, const char *b)
{
	char *ca = strdup(a), *cb = strdup(b), *sa, *sb, *wa, *wb;

	if (ca == NULL || cb == NULL)
		abort();
	wa = strtok_r(ca, " ", &sa);
	wb = strtok_r(cb, " ", &sb);
	while (wa != NULL || wb != NULL) {
		if (wa == NULL || wb == NULL || strcmp(wa, wb) != 0)
			fprintf(stderr, "hostile:   before %s, after %s\n",
			    wa ? wa : "-", wb ? wb : "-");
		wa = wa ? strtok_r(NULL, " ", &sa) : NULL;
		wb = wb ? strtok_r(NULL, " ", &sb) : NULL;
	}
	free(ca);
	free(cb);
}

/* Compares the database with the last fingerprint; attributes a change. */
static void
db_unchanged(const struct route *rt)
{
	char now[sizeof(run.fingerprint)];

	if (fingerprint(now, sizeof(now)) != 0) {
		violation(NULL, rt->method, rt->pattern, "database",
		    "cannot take the fingerprint");
		return;
	}
	if (strcmp(now, run.fingerprint) == 0)
		return;
	run.dbchanges++;
	violation(NULL, rt->method, rt->pattern, "database",
	    "the database changed during the walk of this route");
	print_diff(run.fingerprint, now);
	snprintf(run.fingerprint, sizeof(run.fingerprint), "%s", now);
}

/* --- requests ------------------------------------------------------------ */

/* Requests by kind (the label up to its colon), for the summary. */
static struct {
	char kind[40];
	unsigned long n;
} tallies[48];

static unsigned long statuses[600];

static void
tally(const char *label)
{
	size_t len = strcspn(label, ":"), i;

	if (len >= sizeof(tallies[0].kind))
		len = sizeof(tallies[0].kind) - 1;
	for (i = 0; i < sizeof(tallies) / sizeof(tallies[0]); i++) {
		if (tallies[i].kind[0] == '\0') {
			memcpy(tallies[i].kind, label, len);
			tallies[i].kind[len] = '\0';
		}
		if (strlen(tallies[i].kind) == len &&
		    strncmp(tallies[i].kind, label, len) == 0) {
			tallies[i].n++;
			return;
		}
	}
}

static void
tally_print(void)
{
	struct buf line = { 0 };
	size_t i;

	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		if (statuses[i] > 0)
			buf_printf(&line, " %zu:%lu", i, statuses[i]);
	fprintf(stderr, "hostile: statuses (status:count):%s\n",
	    line.p ? line.p : " none");
	buf_free(&line);

	for (i = 0; i < sizeof(tallies) / sizeof(tallies[0]) &&
	            tallies[i].kind[0] != '\0';
	     i++)
		fprintf(stderr, "hostile:   %-36s %lu\n", tallies[i].kind,
		    tallies[i].n);
}

enum csrf { CSRF_OWN, CSRF_NONE, CSRF_WRONG, CSRF_OTHER };

/* Flags of one request. */
#define F_MAY_CUT 0x1 /* over the size limit: a cut connection is fine */
#define F_READ 0x2    /* a 2xx is fine (a read with ignored garbage) */

static int
is_write(const char *method)
{
	return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
}

static int
snake_case(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!islower((unsigned char)*s) &&
		    !isdigit((unsigned char)*s) && *s != '_')
			return 0;
	return 1;
}

/* The code an error status must carry, or NULL where several may. */
static const char *
status_code_name(long st)
{
	switch (st) {
	case 400:
		return "bad_request";
	case 401:
		return "unauthenticated";
	case 404:
		return "not_found";
	case 405:
		return "method_not_allowed";
	case 413:
		return "body_too_large";
	case 415:
		return "unsupported_media_type";
	case 429:
		return "throttled";
	default:
		return NULL;
	}
}

static void
check_answer(const struct caller *who, const char *method, const char *path,
    const char *label, unsigned int flags, const char *sent,
    const struct harness_resp *r)
{
	const char *ct, *code, *want;
	char why[256];
	json_t *j, *c;

	if (r->status == 0) {
		if ((flags & F_MAY_CUT) == 0)
			violation(who, method, path, label, "no answer: %s",
			    r->error);
		(void)health(label);
		return;
	}
	if (r->status >= 500) {
		violation(who, method, path, label, "status %ld: %.300s",
		    r->status, r->body);
		return;
	}
	if (r->status < 400) {
		if (r->status >= 200 && r->status < 300 &&
		    (flags & F_READ) == 0)
			violation(who, method, path, label,
			    "a hostile request was accepted: %ld %.120s; "
			    "it sent %.300s",
			    r->status, r->body, sent ? sent : "no body");
		return;
	}
	ct = harness_resp_header(r, "Content-Type");
	if (ct == NULL || strncasecmp(ct, "application/json", 16) != 0)
		violation(who, method, path, label,
		    "status %ld with Content-Type %s", r->status,
		    ct ? ct : "(none)");
	if ((j = harness_json(r)) == NULL) {
		violation(who, method, path, label,
		    "status %ld with a body that is not JSON: %.200s",
		    r->status, r->body);
		return;
	}
	c = json_object_get(json_object_get(j, "error"), "code");
	code = json_is_string(c) ? json_string_value(c) : "";
	want = status_code_name(r->status);
	if (!harness_error_shape(r->body, code, why, sizeof(why)))
		violation(who, method, path, label,
		    "status %ld: error shape: %s: %.200s", r->status, why,
		    r->body);
	else if (!snake_case(code) || (want != NULL && strcmp(code, want) != 0))
		violation(who, method, path, label,
		    "status %ld with code \"%s\"", r->status, code);
	json_decref(j);
}

/*
 * Sends one request as who and checks the answer. ctype NULL sends no
 * Content-Type. Returns the status (0: no answer or not sent).
 */
static long
hit(struct caller *who, const char *method, const char *path, const char *body,
    const char *ctype, enum csrf csrf, const char *label, unsigned int flags)
{
	const char *hdr[8];
	char h_ct[128], h_csrf[160], h_cookie[128];
	struct harness_resp r;
	size_t n = 0, i;
	long st;

	if (run.dead)
		return 0;
	if (ctype != NULL) {
		snprintf(h_ct, sizeof(h_ct), "Content-Type: %s", ctype);
		hdr[n++] = h_ct;
	}
	if (who->kind != NOBODY) {	/* reads need the token too */
		const char *tok = NULL;

		if (csrf == CSRF_OWN)
			tok = who->csrf;
		else if (csrf == CSRF_WRONG)
			tok = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
		else if (csrf == CSRF_OTHER)
			for (i = 0; i < run.ncallers && tok == NULL; i++)
				if (&run.callers[i] != who &&
				    run.callers[i].csrf_ok)
					tok = run.callers[i].csrf;
		if (tok != NULL && tok[0] != '\0') {
			snprintf(h_csrf, sizeof(h_csrf), "X-CSRF-Token: %s",
			    tok);
			hdr[n++] = h_csrf;
		}
	}
	if (who->kind == FORGED) {
		/* 43 base64url characters: the form of a real token. */
		snprintf(h_cookie, sizeof(h_cookie),
		    "Cookie: passerelle_session="
		    "Zm9yZ2VkLXNlc3Npb24tdG9rZW4tZm9yLXRlc3RzLXh");
		hdr[n++] = h_cookie;
	}
	hdr[n++] = "Accept-Language: en";
	hdr[n] = NULL;
	st =
	    harness_client_http(&who->c, &run.srv, method, path, hdr, body, &r);
	run.requests++;
	if (st >= 0 && st < (long)(sizeof(statuses) / sizeof(statuses[0])))
		statuses[st]++;
	check_answer(who, method, path, label, flags, body, &r);
	tally(label);
	harness_resp_free(&r);
	if (run.requests % HEALTH_EVERY == 0)
		(void)health(label);
	return st;
}

/* --- sessions and setup -------------------------------------------------- */

static int
login(struct caller *who)
{
	struct harness_resp r;
	json_t *j;
	char body[256];
	long st;

	snprintf(body, sizeof(body),
	    "{\"username\":\"%s\",\"password\":\"" DEMO_PASSWORD "\"}",
	    who->name);
	st = harness_client_http(&who->c, &run.srv, "POST", "/api/v1/session",
	    harness_json_headers, body, &r);
	who->csrf_ok = 0;
	if (st == 200 && (j = harness_json(&r)) != NULL) {
		const char *t =
		    json_string_value(json_object_get(j, "csrf_token"));

		if (t != NULL && strlen(t) < sizeof(who->csrf)) {
			snprintf(who->csrf, sizeof(who->csrf), "%s", t);
			who->csrf_ok = 1;
		}
		json_decref(j);
	}
	if (!who->csrf_ok)
		fprintf(stderr, "hostile: login of %s: %ld %.200s\n", who->name,
		    st, r.body);
	harness_resp_free(&r);
	return who->csrf_ok ? 0 : -1;
}

/* The session still works; when it does not, that is a violation. */
static void
session_alive(struct caller *who, const struct route *rt)
{
	char h_csrf[160];
	const char *hdr[2];
	struct harness_resp r;
	long st;

	if (who->kind != ACCOUNT || run.dead)
		return;
	snprintf(h_csrf, sizeof(h_csrf), "X-CSRF-Token: %s", who->csrf);
	hdr[0] = h_csrf;
	hdr[1] = NULL;
	st = harness_client_http(&who->c, &run.srv, "GET", "/api/v1/me", hdr,
	    NULL, &r);
	harness_resp_free(&r);
	if (st == 200)
		return;
	violation(who, rt->method, rt->pattern, "session",
	    "GET /api/v1/me answered %ld after this route's walk", st);
	run.relogins++;
	(void)login(who);
}

/* A POST as who with a JSON body that must answer want; fills *out. */
static void
api_post(struct caller *who, const char *path, const char *body, long want,
    json_t **out)
{
	const char *hdr[3];
	char h_csrf[160];
	struct harness_resp r;
	long st;

	snprintf(h_csrf, sizeof(h_csrf), "X-CSRF-Token: %s", who->csrf);
	hdr[0] = "Content-Type: application/json";
	hdr[1] = h_csrf;
	hdr[2] = NULL;
	st =
	    harness_client_http(&who->c, &run.srv, "POST", path, hdr, body, &r);
	ck_assert_msg(st == want, "setup: POST %s: %ld %.300s", path, st,
	    r.body);
	*out = harness_json(&r);
	harness_resp_free(&r);
	ck_assert_ptr_nonnull(*out);
}

static void
api_get(struct caller *who, const char *path, json_t **out)
{
	char h_csrf[160];
	const char *hdr[2];
	struct harness_resp r;
	long st;

	snprintf(h_csrf, sizeof(h_csrf), "X-CSRF-Token: %s", who->csrf);
	hdr[0] = h_csrf;	/* reads need the token too */
	hdr[1] = NULL;
	st =
	    harness_client_http(&who->c, &run.srv, "GET", path, hdr, NULL, &r);
	ck_assert_msg(st == 200, "setup: GET %s: %ld %.300s", path, st, r.body);
	*out = harness_json(&r);
	harness_resp_free(&r);
	ck_assert_ptr_nonnull(*out);
}

static void
copy_id(char *dst, size_t len, json_t *obj, const char *what)
{
	const char *id = json_string_value(json_object_get(obj, "id"));

	ck_assert_msg(id != NULL && jv_uuid_valid(id), "setup: no id for %s",
	    what);
	snprintf(dst, len, "%s", id);
}

/* A case, a consent and a referral, made by police.agent. */
static void
make_records(struct caller *police)
{
	static const char case_body[] =
	    "{\"victim\":{\"given_name\":\"Awa\",\"family_name\":\"Traoré\","
	    "\"sex\":\"female\",\"age_estimate\":25,\"nationality\":\"ML\"},"
	    "\"identification\":{\"date\":\"2024-06-01\",\"region\":\"bamako\","
	    "\"exploitation_types\":[\"forced_labour\"],"
	    "\"indicators\":[\"threats\"]}}";
	char path[256], body[512];
	json_t *j, *items, *o;
	size_t i;

	api_post(police, "/api/v1/cases", case_body, 201, &j);
	copy_id(run.case_id, sizeof(run.case_id), j, "the case");
	json_decref(j);

	snprintf(path, sizeof(path), "/api/v1/cases/%s/consents", run.case_id);
	api_post(police, path,
	    "{\"scope\":\"assistance\",\"given_by\":\"victim\","
	    "\"date\":\"2024-06-01\"}",
	    201, &j);
	copy_id(run.consent_id, sizeof(run.consent_id), j, "the consent");
	json_decref(j);

	/* The shelter of Gao, where refuge.gao works: it sees the referral. */
	api_get(police, "/api/v1/organisations", &j);
	items = json_object_get(j, "items");
	json_array_foreach(items, i, o)
	{
		const char *kind =
		    json_string_value(json_object_get(o, "kind"));
		const char *reg =
		    json_string_value(json_object_get(o, "region"));

		if (kind && reg && strcmp(kind, "shelter") == 0 &&
		    strcmp(reg, "gao") == 0)
			copy_id(run.org_id, sizeof(run.org_id), o, "Gao");
	}
	json_decref(j);
	ck_assert_msg(run.org_id[0] != '\0', "setup: no shelter in Gao");

	snprintf(path, sizeof(path), "/api/v1/cases/%s/referrals", run.case_id);
	snprintf(body, sizeof(body),
	    "{\"to_organisation_id\":\"%s\",\"service\":\"shelter\","
	    "\"urgency\":\"normal\",\"consent_id\":\"%s\"}",
	    run.org_id, run.consent_id);
	api_post(police, path, body, 201, &j);
	copy_id(run.referral_id, sizeof(run.referral_id), j, "the referral");
	json_decref(j);

	snprintf(path, sizeof(path), "/api/v1/cases/%s", run.case_id);
	api_get(police, path, &j);
	ck_assert_msg(json_is_integer(json_object_get(j, "version")),
	    "setup: the case has no version");
	run.case_version =
	    (long)json_integer_value(json_object_get(j, "version"));
	json_decref(j);

	/* A user that is none of the callers, for PATCH /users/{id}. */
	{
		const char *p[1] = { "frontiere.agent" };

		ck_assert_int_eq(harness_value(run.db,
		                     "SELECT id FROM users WHERE username = $1",
		                     p, 1, run.user_id, sizeof(run.user_id)),
		    0);
	}
}

/* The real id for a parameter after segment prev, or NULL. */
static const char *
real_id(const char *prev, size_t len)
{
	static const struct {
		const char *seg;
		size_t off;
	} map[] = {
		{ "cases", offsetof(struct run_state, case_id) },
		{ "consents", offsetof(struct run_state, consent_id) },
		{ "referrals", offsetof(struct run_state, referral_id) },
		{ "users", offsetof(struct run_state, user_id) },
		{ "organisations", offsetof(struct run_state, org_id) },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strlen(map[i].seg) == len &&
		    strncmp(map[i].seg, prev, len) == 0)
			return (const char *)&run + map[i].off;
	return NULL;
}

/* --- paths --------------------------------------------------------------- */

#define MAX_PARAMS ROUTER_MAX_PARAMS

struct route_info {
	const struct route *rt;
	size_t nparams;
	const char *real[MAX_PARAMS]; /* NULL when no real id is known */
	int all_real;                 /* every parameter has a real id */
	size_t limit;                 /* body limit */
};

static void
route_info(const struct route *rt, struct route_info *ri)
{
	const char *p = rt->pattern, *prev = NULL, *seg;
	size_t prevlen = 0, len;

	memset(ri, 0, sizeof(*ri));
	ri->rt = rt;
	ri->all_real = 1;
	ri->limit = (rt->flags & ROUTE_LARGE) && MAX_BODY < ROUTE_LARGE_BODY
	                ? (size_t)ROUTE_LARGE_BODY
	                : MAX_BODY;
	while (*p == '/') {
		seg = p + 1;
		len = strcspn(seg, "/");
		if (len > 1 && seg[0] == '{' && seg[len - 1] == '}') {
			ck_assert_uint_lt(ri->nparams, MAX_PARAMS);
			ri->real[ri->nparams] =
			    prev ? real_id(prev, prevlen) : NULL;
			if (ri->real[ri->nparams] == NULL)
				ri->all_real = 0;
			ri->nparams++;
		}
		prev = seg;
		prevlen = len;
		p = seg + len;
	}
}

/* Spelling number v of a parameter whose real id is real (may be NULL). */
static void
param_value(const char *real, size_t v, struct buf *out)
{
	const char *id = real ? real : RANDOM_UUID;
	size_t i;

	buf_reset(out);
	if (v == 0) {
		buf_str(out, id);
	} else if (bad_params[v] != NULL) {
		buf_str(out, bad_params[v]);
	} else if (v == NBAD_PARAMS - 4) {
		buf_repeat(out, 'a', 300);
	} else if (v == NBAD_PARAMS - 3) {
		buf_repeat(out, 'b', 2100);
	} else if (v == NBAD_PARAMS - 2) {
		for (i = 0; id[i] != '\0'; i++) {
			char c = (char)toupper((unsigned char)id[i]);

			buf_add(out, &c, 1);
		}
	} else {
		buf_str(out, id);
		buf_str(out, "%00");
	}
}

/*
 * The route's path with parameter k spelt v and the others real (k past
 * the last: all real), then "?query" when query is not NULL.
 */
static void
build_path(const struct route_info *ri, size_t k, size_t v, const char *query,
    struct buf *out)
{
	const char *p = ri->rt->pattern, *seg;
	struct buf val = { 0 };
	size_t len, idx = 0;

	buf_reset(out);
	while (*p == '/') {
		seg = p + 1;
		len = strcspn(seg, "/");
		buf_str(out, "/");
		if (len > 1 && seg[0] == '{' && seg[len - 1] == '}') {
			param_value(ri->real[idx], idx == k ? v : 0, &val);
			buf_add(out, val.p, val.len);
			idx++;
		} else {
			buf_add(out, seg, len);
		}
		p = seg + len;
	}
	if (query != NULL) {
		buf_str(out, "?");
		buf_str(out, query);
	}
	buf_free(&val);
}

/* --- bodies -------------------------------------------------------------- */

/* The first member's name, and the first string member's ("x": none). */
static const char *
first_member(const struct jv_field *spec, int want_string)
{
	for (; spec != NULL && spec->name != NULL; spec++)
		if (!want_string || spec->type == JV_STRING)
			return spec->name;
	return "x";
}

/* A value of the right type, for the members that are not under test. */
static void
good_value(const struct jv_field *f, struct buf *out)
{
	switch (f->type) {
	case JV_STRING:
		buf_str(out, "\"x\"");
		break;
	case JV_INTEGER:
		buf_printf(out, "%ld", run.case_version);
		break;
	case JV_BOOLEAN:
		buf_str(out, "false");
		break;
	case JV_OBJECT:
		buf_str(out, "{}");
		break;
	case JV_ARRAY:
		buf_str(out, "[]");
		break;
	case JV_ANY:
		buf_str(out, "null");
		break;
	}
}

/*
 * {"name": value}, or with fill every other member of spec with a value of
 * its type, and section (when not NULL) holding {"sfield": value} instead.
 */
static void
member_body(const struct jv_field *spec, const char *name, const char *value,
    int fill, struct buf *out)
{
	const struct jv_field *f;
	int first = 1;

	buf_reset(out);
	buf_str(out, "{");
	for (f = spec; f != NULL && f->name != NULL; f++) {
		if (strcmp(f->name, name) != 0 && !fill)
			continue;
		buf_printf(out, "%s\"%s\":", first ? "" : ",", f->name);
		if (strcmp(f->name, name) == 0)
			buf_str(out, value);
		else
			good_value(f, out);
		first = 0;
	}
	buf_str(out, "}");
}

/* Values of the wrong type (or out of bounds) for a spec member. */
static size_t
wrong_values(const struct jv_field *f, const char **v, size_t max)
{
	size_t n = 0;

#define ADD(x)                                                                 \
	do {                                                                   \
		if (n < max)                                                   \
			v[n++] = (x);                                          \
	} while (0)
	switch (f->type) {
	case JV_STRING:
		ADD("1");
		ADD("true");
		ADD("[]");
		ADD("{}");
		ADD("1.5");
		ADD("[\"x\"]");
		if (f->flags & JV_NONEMPTY) {
			ADD("\"\"");
			ADD("\"   \"");
		}
		break;
	case JV_INTEGER:
		ADD("\"1\"");
		ADD("1.5");
		ADD("true");
		ADD("[]");
		ADD("{}");
		ADD("-1");
		ADD("0");
		ADD("9223372036854775807");
		break;
	case JV_BOOLEAN:
		ADD("\"true\"");
		ADD("1");
		ADD("0");
		ADD("[]");
		ADD("{}");
		break;
	case JV_OBJECT:
		ADD("\"x\"");
		ADD("1");
		ADD("[]");
		ADD("true");
		ADD("[{}]");
		break;
	case JV_ARRAY:
		ADD("\"x\"");
		ADD("1");
		ADD("{}");
		ADD("true");
		ADD("[1,true,null,{},[]]");
		ADD("[\"not-a-uuid\"]");
		ADD("[[[[[]]]]]");
		break;
	case JV_ANY:
		break;
	}
	if ((f->flags & JV_NULLABLE) == 0 && f->type != JV_ANY)
		ADD("null");
#undef ADD
	return n;
}

/* --- the walk ------------------------------------------------------------ */

/*
 * One hostile request of a route: path NULL is the route with its real
 * ids, body NULL sends none, ctype NULL no Content-Type.
 */
struct item {
	char *path;
	char *body;
	const char *ctype;
	enum csrf csrf;
	char label[64];
	unsigned int flags;
};

struct items {
	struct item *v;
	size_t n, cap;
};

/* Appends an item; path and body are copied. */
static void
item_add(struct items *l, const char *label, const char *path, const char *body,
    const char *ctype, enum csrf csrf, unsigned int flags)
{
	struct item *it;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		if ((it = realloc(l->v, l->cap * sizeof(*it))) == NULL)
			abort();
		l->v = it;
	}
	it = &l->v[l->n++];
	it->path = path ? strdup(path) : NULL;
	it->body = body ? strdup(body) : NULL;
	if ((path && !it->path) || (body && !it->body))
		abort();
	it->ctype = ctype;
	it->csrf = csrf;
	it->flags = flags;
	snprintf(it->label, sizeof(it->label), "%s", label);
}

static void
items_free(struct items *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].path);
		free(l->v[i].body);
	}
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

/* One route being walked. */
struct route_walk {
	size_t index; /* in http_routes */
	struct route_info ri;
	int body;        /* the route takes a body */
	int write;       /* not GET */
	struct buf path; /* with the real ids */
	struct buf b, tmp;
	int admitted[NACCOUNTS + 2];   /* got through the door at the probe */
	int conclusive[NACCOUNTS + 2]; /* the probe could tell */
	size_t pool[NACCOUNTS + 2], npool, rr;
	size_t deep[NACCOUNTS + 2], ndeep, rr_deep;
};

/* A JSON body item on the route's real path. */
static void
add_body(struct items *l, const char *label, const char *body,
    unsigned int flags)
{
	item_add(l, label, NULL, body, "application/json", CSRF_OWN, flags);
}

/* Every spelling of every path parameter, with "{}" or no body. */
static void
path_items(struct route_walk *rw, struct items *l)
{
	struct buf p = { 0 };
	size_t k, v;
	char label[64];

	for (k = 0; k < rw->ri.nparams; k++)
		for (v = 1; v < NBAD_PARAMS; v++) {
			build_path(&rw->ri, k, v, NULL, &p);
			snprintf(label, sizeof(label),
			    "param: %zu spelling %zu", k, v);
			item_add(l, label, p.p, rw->body ? "{}" : NULL,
			    rw->body ? "application/json" : NULL, CSRF_OWN,
			    rw->write ? 0 : F_READ);
		}
	buf_free(&p);
}

/* Bodies that are wrong before any member is read. */
static void
json_items(struct route_walk *rw, struct items *l)
{
	static const char *const fixed[] = { "this is not json", "", "null",
		"[]", "\"a string\"", "42", "true", "{", "{}}", "{} {}",
		"{'a':1}", "\xEF\xBB\xBF{}", "{\"\xFF\":1}", "{\"a\":1,}",
		"[{}]", " ", "\t{\n}\n\x01" };
	static const char *const bad_str[] = { "\xC3\x28", "\xED\xA0\x80",
		"\xFF", "a\\u0000b", "\\ud800", "\\udfff\\ud800", "\xC0\xAF",
		"\xF4\x90\x80\x80", "a\\x41", "\\u00" };
	static const char *const num[] = { "1e400", "-1", "9223372036854775808",
		"-9223372036854775809", "18446744073709551616", "1e-400", "-0",
		"NaN", "Infinity", "0x10", "01", "1.", ".5", "+1" };
	const struct jv_field *spec = rw->ri.rt->body;
	const char *m = first_member(spec, 0), *s = first_member(spec, 1);
	struct buf *b = &rw->b;
	size_t i;
	char lim[64];

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		add_body(l, "json: not an object", fixed[i], 0);

	buf_reset(b);
	buf_repeat(b, '[', 200);
	buf_repeat(b, ']', 200);
	add_body(l, "json: 200 nested arrays", b->p, 0);
	buf_reset(b);
	buf_printf(b, "{\"%s\":", m);
	buf_repeat(b, '[', 200);
	buf_repeat(b, ']', 200);
	buf_str(b, "}");
	add_body(l, "json: member of 200 nested arrays", b->p, 0);
	buf_reset(b);
	buf_printf(b, "{\"%s\":", m);
	for (i = 0; i < 200; i++)
		buf_str(b, "{\"a\":");
	buf_str(b, "1");
	buf_repeat(b, '}', 201);
	add_body(l, "json: 200 nested objects", b->p, 0);
	buf_reset(b);
	buf_printf(b, "{\"%s\":", m);
	buf_repeat(b, '[', 16);
	buf_repeat(b, ']', 16);
	buf_str(b, "}");
	add_body(l, "json: 17 levels", b->p, 0);

	for (i = 0; i < sizeof(bad_str) / sizeof(bad_str[0]); i++) {
		buf_reset(b);
		buf_printf(b, "{\"%s\":\"%s\"}", s, bad_str[i]);
		add_body(l, "json: bad string", b->p, 0);
	}
	buf_reset(b);
	buf_printf(b, "{\"%s\":\"a\",\"%s\":\"b\"}", m, m);
	add_body(l, "json: duplicate keys", b->p, 0);
	buf_reset(b);
	buf_printf(b, "{\"%s\":1,\"%s\":1}", m, m);
	add_body(l, "json: duplicate keys, same value", b->p, 0);
	for (i = 0; i < sizeof(num) / sizeof(num[0]); i++) {
		buf_reset(b);
		buf_printf(b, "{\"%s\":%s}", m, num[i]);
		add_body(l, "json: number", b->p, 0);
	}

	add_body(l, "json: unknown member", "{\"no_such_member\":1}", 0);
	buf_reset(b);
	buf_printf(b, "{\"%s\":1,\"__proto__\":{}}", m);
	add_body(l, "json: unknown beside a member", b->p, 0);
	buf_reset(b);
	buf_printf(b, "{\"%s \":1}", m);
	add_body(l, "json: member name with a space", b->p, 0);
	buf_reset(b);
	buf_printf(b, "{\"%c%s\":1}", toupper((unsigned char)m[0]), m + 1);
	add_body(l, "json: member name in another case", b->p, 0);

	buf_reset(b);
	buf_printf(b, "{\"%s\":\"", s);
	buf_repeat(b, 'a', 100000);
	buf_str(b, "\"}");
	add_body(l, "json: 100000 characters", b->p,
	    b->len > rw->ri.limit ? F_MAY_CUT : 0);
	buf_reset(b);
	buf_printf(b, "{\"%s\":\"", s);
	buf_repeat(b, 'a', rw->ri.limit);
	buf_str(b, "\"}");
	snprintf(lim, sizeof(lim), "json: past the limit (%zu bytes)", b->len);
	add_body(l, lim, b->p, F_MAY_CUT);
}

/* Each member of the spec with values of the wrong type, alone and amid. */
static void
member_items(struct route_walk *rw, struct items *l)
{
	const struct jv_field *spec = rw->ri.rt->body, *f;
	const char *vals[16];
	size_t n, i, big;
	int fill;

	for (f = spec; f != NULL && f->name != NULL; f++) {
		n = wrong_values(f, vals, sizeof(vals) / sizeof(vals[0]));
		for (i = 0; i < n; i++)
			for (fill = 0; fill < 2; fill++) {
				member_body(spec, f->name, vals[i], fill,
				    &rw->b);
				add_body(l,
				    fill ? "member: wrong type amid others"
				         : "member: wrong type",
				    rw->b.p, 0);
			}
		/* One past the length or item limit. */
		if (f->max > 0 && f->max < 60000 &&
		    (f->type == JV_STRING || f->type == JV_ARRAY)) {
			buf_reset(&rw->tmp);
			if (f->type == JV_STRING) {
				buf_str(&rw->tmp, "\"");
				buf_repeat(&rw->tmp, 'a', f->max + 1);
				buf_str(&rw->tmp, "\"");
			} else {
				buf_str(&rw->tmp, "[");
				for (big = 0; big <= f->max; big++)
					buf_printf(&rw->tmp, "%s\"%s\"",
					    big ? "," : "", RANDOM_UUID);
				buf_str(&rw->tmp, "]");
			}
			if (rw->tmp.len < MAX_BODY - 1024) {
				member_body(spec, f->name, rw->tmp.p, 1,
				    &rw->b);
				add_body(l, "member: over max", rw->b.p, 0);
			}
		}
		/* Multi-byte characters one past the limit. */
		if (f->type == JV_STRING && f->max > 0 && f->max < 10000) {
			buf_reset(&rw->tmp);
			buf_str(&rw->tmp, "\"");
			for (big = 0; big <= f->max; big++)
				buf_str(&rw->tmp, "\xE2\x82\xAC");
			buf_str(&rw->tmp, "\"");
			member_body(spec, f->name, rw->tmp.p, 1, &rw->b);
			add_body(l, "member: over max in UTF-8", rw->b.p, 0);
		}
	}
}

/* Wrong values for one SOP field, by its type in the catalogue. */
static size_t
sop_wrong_values(json_t *field, int allow_null, struct buf *store, size_t *offs,
    size_t max)
{
	const char *type = json_string_value(json_object_get(field, "type"));
	json_t *jmax = json_object_get(field, "max");
	json_t *jmin = json_object_get(field, "min");
	long fmax = json_is_integer(jmax) ? (long)json_integer_value(jmax) : 0;
	long fmin = json_is_integer(jmin) ? (long)json_integer_value(jmin) : 0;
	size_t n = 0;
	long i;
	int list;

#define ADDV(...)                                                              \
	do {                                                                   \
		if (n < max) {                                                 \
			offs[n++] = store->len;                                \
			buf_printf(store, __VA_ARGS__);                        \
			buf_add(store, "", 1);                                 \
		}                                                              \
	} while (0)
	if (type == NULL)
		type = "";
	list = strcmp(type, "codes") == 0 || strcmp(type, "countries") == 0 ||
	       strcmp(type, "languages") == 0;
	if (strcmp(type, "integer") != 0)
		ADDV("1");
	ADDV("{}");
	ADDV("true");
	if (!list)
		ADDV("[]"); /* an empty list is a valid list */
	if (allow_null)
		ADDV("null");
	if (strcmp(type, "text") == 0) {
		ADDV("\"\"");
		ADDV("\"   \"");
		ADDV("\"a\\u0001b\"");
		ADDV("\"a\\u001bb\"");
		if (fmax > 0 && fmax < 30000 && n < max) {
			offs[n++] = store->len;
			buf_str(store, "\"");
			buf_repeat(store, 'a', (size_t)fmax + 1);
			buf_str(store, "\"");
			buf_add(store, "", 1);
		}
	} else if (strcmp(type, "date") == 0) {
		ADDV("\"2026-13-45\"");
		ADDV("\"2026-02-30\"");
		ADDV("\"2999-01-01\"");
		ADDV("\"1800-01-01\"");
		ADDV("\"01/06/2024\"");
		ADDV("\"\"");
	} else if (strcmp(type, "integer") == 0) {
		ADDV("\"1\"");
		ADDV("1.5");
		ADDV("%ld", fmin - 1);
		if (fmax > 0)
			ADDV("%ld", fmax + 1);
		ADDV("9223372036854775807");
	} else if (strcmp(type, "code") == 0 || strcmp(type, "country") == 0) {
		ADDV("\"no_such_code\"");
		ADDV("\"\"");
		ADDV("\"ZZ\"");
		ADDV("\"ml\"");
		ADDV("\"MLI\"");
		ADDV("[\"bamako\"]");
	} else if (strcmp(type, "photo") == 0) {
		ADDV("\"not base64!\"");
		ADDV("\"AAAA\"");
		ADDV("\"aGVsbG8gd29ybGQgaGVsbG8=\"");
		ADDV("\"iVBORw0KGgo=\"");
	} else if (list) {
		ADDV("\"fr\"");
		ADDV("[1]");
		ADDV("[null]");
		ADDV("[\"\"]");
		if (strcmp(type, "languages") == 0)
			ADDV("[\"%s\"]", /* not a code of the SOP's list */
			    "abcdefghijklmnopqrstuvwxyzabcdefghijklmno");
		else
			ADDV("[\"no_such_code\"]");
		ADDV("[\"x\",\"x\"]");
		ADDV("[\"a\\u0001b\"]");
		ADDV("[[]]");
		if (fmax > 0 && fmax < 1000 && n < max) {
			offs[n++] = store->len;
			buf_str(store, "[");
			for (i = 0; i <= fmax; i++)
				buf_printf(store, "%s\"l%ld\"", i ? "," : "",
				    i);
			buf_str(store, "]");
			buf_add(store, "", 1);
		}
	}
#undef ADDV
	return n;
}

/* Is this spec member an object named like a SOP section? */
static int
is_section(const struct jv_field *f)
{
	json_t *fields = json_object_get(run.sop, "fields"), *fld;
	size_t k;

	if (f->type != JV_OBJECT)
		return 0;
	json_array_foreach(fields, k, fld)
	{
		const char *sec =
		    json_string_value(json_object_get(fld, "section"));

		if (sec != NULL && strcmp(sec, f->name) == 0)
			return 1;
	}
	return 0;
}

/*
 * Members that are objects named like a SOP section ("victim",
 * "identification"): each catalogue field of that section with wrong
 * values, an unknown field and a repeated one.
 */
static void
section_items(struct route_walk *rw, struct items *l)
{
	const struct jv_field *spec = rw->ri.rt->body, *f;
	json_t *fields = json_object_get(run.sop, "fields"), *fld;
	struct buf store = { 0 }, section = { 0 };
	size_t offs[32], n, i, k;

	for (f = spec; f != NULL && f->name != NULL; f++) {
		if (!is_section(f))
			continue;
		json_array_foreach(fields, k, fld)
		{
			const char *sec =
			    json_string_value(json_object_get(fld, "section"));
			const char *name =
			    json_string_value(json_object_get(fld, "name"));

			if (sec == NULL || name == NULL ||
			    strcmp(sec, f->name) != 0)
				continue;
			buf_reset(&store);
			n = sop_wrong_values(fld, (f->flags & JV_REQUIRED) != 0,
			    &store, offs, sizeof(offs) / sizeof(offs[0]));
			for (i = 0; i < n; i++) {
				buf_reset(&section);
				buf_printf(&section, "{\"%s\":", name);
				buf_str(&section, store.p + offs[i]);
				buf_str(&section, "}");
				member_body(spec, f->name, section.p, 1,
				    &rw->b);
				add_body(l, "section: wrong value", rw->b.p, 0);
			}
		}
		member_body(spec, f->name, "{\"a\":\"x\",\"a\":\"y\"}", 1,
		    &rw->b);
		add_body(l, "section: repeated field", rw->b.p, 0);
	}
	buf_free(&store);
	buf_free(&section);
}

/* Media types other than JSON. */
static void
media_items(struct route_walk *rw, struct items *l)
{
	static const char *const types[] = { NULL, "text/plain",
		"application/json; charset=latin1", "application/jsonx",
		"application/x-www-form-urlencoded", "multipart/form-data",
		"application/json; charset=utf-16" };
	size_t i;

	(void)rw;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		item_add(l, "media type", NULL, "{}", types[i], CSRF_OWN, 0);
}

/* Writes without the right CSRF token. */
static void
csrf_items(struct route_walk *rw, struct items *l)
{
	const char *body = rw->body ? "{}" : NULL;
	const char *ct = rw->body ? "application/json" : NULL;

	item_add(l, "csrf: none", NULL, body, ct, CSRF_NONE, 0);
	item_add(l, "csrf: wrong", NULL, body, ct, CSRF_WRONG, 0);
	item_add(l, "csrf: another session's", NULL, body, ct, CSRF_OTHER, 0);
}

/* Bodies sent to a route that takes none. */
static void
unwanted_items(struct route_walk *rw, struct items *l)
{
	static const char *const bodies[] = { "{}", "not json",
		"{\"x\":\"\xFF\"}",
		"[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]" };
	size_t i;

	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
		add_body(l, "unwanted body", bodies[i], 0);
	item_add(l, "unwanted body: text", NULL, "{}", "text/plain", CSRF_OWN,
	    0);
	buf_reset(&rw->b);
	buf_str(&rw->b, "{\"x\":\"");
	buf_repeat(&rw->b, 'a', MAX_BODY + 16);
	buf_str(&rw->b, "\"}");
	add_body(l, "unwanted body: large", rw->b.p, F_MAY_CUT);
}

/* Hostile query strings on the real path. */
static void
query_items(struct route_walk *rw, struct items *l)
{
	struct buf q = { 0 }, p = { 0 };
	size_t i;

	for (i = 0; i < NBAD_QUERIES; i++) {
		buf_reset(&q);
		if (bad_queries[i] != NULL) {
			buf_str(&q, bad_queries[i]);
		} else if (i == NBAD_QUERIES - 2) {
			buf_str(&q, "limit=");
			buf_repeat(&q, '9', 1000);
			buf_str(&q, "&cursor=");
			buf_repeat(&q, 'c', 1000);
			buf_str(&q, "&stage=");
			buf_repeat(&q, 's', 1000);
		} else {
			buf_str(&q, "q=");
			buf_repeat(&q, 'q', 4000);
		}
		build_path(&rw->ri, MAX_PARAMS, 0, q.p, &p);
		item_add(l, "query", p.p, NULL, NULL, CSRF_OWN, F_READ);
	}
	buf_free(&q);
	buf_free(&p);
}

static long
send_item(struct route_walk *rw, struct caller *who, const struct item *it)
{
	return hit(who, rw->ri.rt->method, it->path ? it->path : rw->path.p,
	    it->body, it->ctype, it->csrf, it->label, it->flags);
}

/* Each item once, by turns among the callers of pool. */
static void
send_all(struct route_walk *rw, const struct items *l, const size_t *pool,
    size_t npool, size_t *rr)
{
	size_t i;

	for (i = 0; i < l->n && !run.dead; i++)
		send_item(rw, &run.callers[pool[(*rr)++ % npool]], &l->v[i]);
}

/* One item of the list for caller c, a different one for each caller. */
static void
send_sample(struct route_walk *rw, const struct items *l, size_t c)
{
	if (l->n > 0)
		send_item(rw, &run.callers[c],
		    &l->v[(c * 7 + rw->index * 3) % l->n]);
}

/*
 * Who gets through the door (session, CSRF, role), before any body is
 * read: a body wrong only in its members, a read of the real path, or a
 * write on a random id. A 401 or 403 says no.
 */
static void
probe(struct route_walk *rw, size_t c)
{
	struct caller *who = &run.callers[c];
	const struct route *rt = rw->ri.rt;
	struct buf p = { 0 };
	long st;
	size_t k;

	rw->conclusive[c] = 1;
	if (rw->body) {
		st = hit(who, rt->method, rw->path.p,
		    "{\"hostile_probe_member\":1}", "application/json",
		    CSRF_OWN, "probe", 0);
	} else if (!rw->write) {
		st = hit(who, rt->method, rw->path.p, NULL, NULL, CSRF_OWN,
		    "probe", F_READ);
	} else if (rw->ri.nparams > 0) {
		struct route_info r2 = rw->ri;

		for (k = 0; k < r2.nparams; k++)
			r2.real[k] = NULL; /* random ids */
		build_path(&r2, MAX_PARAMS, 0, NULL, &p);
		st =
		    hit(who, rt->method, p.p, NULL, NULL, CSRF_OWN, "probe", 0);
	} else {
		/* Nothing to send that is both harmless and telling. */
		st = who->kind == ACCOUNT ? 200 : 401;
		rw->conclusive[c] = 0;
	}
	rw->admitted[c] = st != 401 && st != 403 && st != 0;
	buf_free(&p);
}

/*
 * Callers that reach the SOP validation of a section: an unknown field
 * there is 400 past the door and past the case's visibility.
 */
static void
find_deep(struct route_walk *rw)
{
	const struct jv_field *f;
	size_t i;
	long st;

	rw->ndeep = 0;
	for (f = rw->ri.rt->body; f != NULL && f->name != NULL; f++)
		if (is_section(f))
			break;
	if (f == NULL || f->name == NULL)
		return;
	member_body(rw->ri.rt->body, f->name, "{\"no_such_field\":\"x\"}", 1,
	    &rw->b);
	for (i = 0; i < rw->npool; i++) {
		st = hit(&run.callers[rw->pool[i]], rw->ri.rt->method,
		    rw->path.p, rw->b.p, "application/json", CSRF_OWN,
		    "section: probe", 0);
		if (st == 400 || st == 422)
			rw->deep[rw->ndeep++] = rw->pool[i];
	}
}

static void
walk_route(size_t index)
{
	const struct route *rt = &http_routes[index];
	struct items paths = { 0 }, json = { 0 }, members = { 0 },
	             sections = { 0 }, media = { 0 }, csrf = { 0 },
	             unwanted = { 0 }, queries = { 0 };
	struct items *lists[] = { &paths, &json, &members, &media, &csrf,
		&unwanted, &queries };
	struct route_walk rw;
	size_t c, i;

	memset(&rw, 0, sizeof(rw));
	rw.index = index;
	route_info(rt, &rw.ri);
	rw.body = (rt->flags & ROUTE_BODY) != 0;
	rw.write = is_write(rt->method);
	build_path(&rw.ri, MAX_PARAMS, 0, NULL, &rw.path);

	for (c = 0; c < run.ncallers && !run.dead; c++) {
		probe(&rw, c);
		if (rw.admitted[c])
			rw.pool[rw.npool++] = c;
	}
	if (rw.npool == 0)
		for (c = 0; c < run.ncallers; c++)
			rw.pool[rw.npool++] = c;

	{
		struct buf who = { 0 };

		for (c = 0; c < run.ncallers; c++)
			if (rw.admitted[c])
				buf_printf(&who, " %s", run.callers[c].name);
		fprintf(stderr, "hostile: %s %s: through the door:%s\n",
		    rt->method, rt->pattern, who.p ? who.p : " nobody");
		buf_free(&who);
	}

	/* A well-formed request from a caller the door refused. */
	for (c = 0; c < run.ncallers && rw.write && rw.ri.all_real; c++)
		if (rw.conclusive[c] && !rw.admitted[c])
			hit(&run.callers[c], rt->method, rw.path.p,
			    rw.body ? "{}" : NULL,
			    rw.body ? "application/json" : NULL, CSRF_OWN,
			    "closed door: well formed", 0);

	path_items(&rw, &paths);
	if (rw.body) {
		json_items(&rw, &json);
		member_items(&rw, &members);
		section_items(&rw, &sections);
		media_items(&rw, &media);
	} else {
		unwanted_items(&rw, &unwanted);
	}
	if (rw.write)
		csrf_items(&rw, &csrf);
	else
		query_items(&rw, &queries);

	/* Every item once, as the callers that get through, by turns. */
	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		send_all(&rw, lists[i], rw.pool, rw.npool, &rw.rr);
	if (sections.n > 0) {
		find_deep(&rw);
		fprintf(stderr, "hostile: %s %s: SOP sections checked as",
		    rt->method, rt->pattern);
		for (i = 0; i < rw.ndeep; i++)
			fprintf(stderr, " %s", run.callers[rw.deep[i]].name);
		fprintf(stderr, "%s\n", rw.ndeep ? "" : " none");
		if (rw.ndeep > 0)
			send_all(&rw, &sections, rw.deep, rw.ndeep,
			    &rw.rr_deep);
		else
			send_all(&rw, &sections, rw.pool, rw.npool, &rw.rr);
	}
	/* And a sample of each kind as every caller. */
	for (c = 0; c < run.ncallers && !run.dead; c++) {
		for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
			send_sample(&rw, lists[i], c);
		send_sample(&rw, &sections, c);
	}

	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		items_free(lists[i]);
	items_free(&sections);
	buf_free(&rw.path);
	buf_free(&rw.b);
	buf_free(&rw.tmp);
	for (c = 0; c < run.ncallers && rw.write && !run.dead; c++)
		session_alive(&run.callers[c], rt);
	if (!run.dead)
		db_unchanged(rt);
}

/* Methods that no route of a path has, and methods nobody knows. */
static void
walk_methods(void)
{
	static const char *const known[] = { "GET", "POST", "PUT", "PATCH",
		"DELETE" };
	static const char *const odd[] = { "OPTIONS", "TRACE", "PROPFIND",
		"get", "FOO" };
	struct route_info ri;
	struct buf p = { 0 };
	size_t i, j, k, turn = 0;
	int has, seen;

	for (i = 0; i < http_nroutes; i++) {
		seen = 0;
		for (k = 0; k < i; k++)
			if (strcmp(http_routes[k].pattern,
			        http_routes[i].pattern) == 0)
				seen = 1;
		if (seen)
			continue;
		route_info(&http_routes[i], &ri);
		build_path(&ri, MAX_PARAMS, 0, NULL, &p);
		for (j = 0; j < sizeof(known) / sizeof(known[0]); j++) {
			has = 0;
			for (k = 0; k < http_nroutes; k++)
				if (strcmp(http_routes[k].pattern,
				        http_routes[i].pattern) == 0 &&
				    strcmp(http_routes[k].method, known[j]) ==
				        0)
					has = 1;
			if (!has)
				hit(&run.callers[turn++ % run.ncallers],
				    known[j], p.p, NULL, NULL, CSRF_OWN,
				    "method", 0);
		}
		for (j = 0; j < sizeof(odd) / sizeof(odd[0]); j++)
			hit(&run.callers[turn++ % run.ncallers], odd[j], p.p,
			    NULL, NULL, CSRF_OWN, "method", 0);
	}
	buf_free(&p);
}

/* Paths outside the route table: static files and unknown API paths. */
static void
walk_static(void)
{
	static const struct {
		const char *method, *path, *body;
	} reqs[] = {
		{ "GET", "/no-such-file", NULL },
		{ "GET", "/%00", NULL },
		{ "GET", "/..%2F..%2Fetc%2Fpasswd", NULL },
		{ "GET", "/../../etc/passwd", NULL },
		{ "GET", "/.git/config", NULL },
		{ "GET", "/%C3%28", NULL },
		{ "GET", "/%ZZ", NULL },
		{ "GET", "/index.html%00.js", NULL },
		{ "POST", "/index.html", "{}" },
		{ "DELETE", "/", NULL },
		{ "PUT", "/no-such-file", "x" },
		{ "GET", "/index.html", "{}" },
		{ "GET", "/api", NULL },
		{ "GET", "/api/", NULL },
		{ "GET", "/api/v1", NULL },
		{ "GET", "/api/v2/cases", NULL },
		{ "POST", "/api/v1/no-such-thing", "{}" },
		{ "GET", "/api/v1/cases/", NULL },
		{ "GET", "/api/v1//cases", NULL },
		{ "GET", "/api/v1/cases/%2F", NULL },
		{ "GET", "//api/v1/cases", NULL },
		{ "GET", "/API/V1/CASES", NULL },
	};
	size_t i, c;

	for (c = 0; c < 3; c++)
		for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++)
			hit(&run.callers[c], reqs[i].method, reqs[i].path,
			    reqs[i].body,
			    reqs[i].body ? "application/json" : NULL, CSRF_OWN,
			    "outside the route table", 0);
}

/* --- the test ------------------------------------------------------------ */

static void
load_sop(void)
{
	char path[1024];
	json_error_t err;

	snprintf(path, sizeof(path), "%s/sop/mali.json", harness_source_dir());
	run.sop = json_load_file(path, 0, &err);
	ck_assert_msg(run.sop != NULL, "cannot read %s: %s", path, err.text);
}

static void
start(void)
{
	static const char *const extra[] = { "PASSERELLE_ARGON2_OPS=2",
		"PASSERELLE_ARGON2_MEM_KIB=19456",
		"PASSERELLE_THROTTLE_ADDRESS=100000",
		"PASSERELLE_MAX_BODY=65536", NULL };
	const char *seed[] = { "seed", "--demo", NULL };
	char env0[1200], env1[256], out[8192];
	const char *env[5];
	size_t i;
	int rc;

	memset(&run, 0, sizeof(run));
	run.log_fd = -1;
	load_sop();
	run.db = harness_db_create();
	ck_assert_msg(run.db != NULL, "cannot create a database");
	ck_assert_msg(harness_server_start(&run.srv, run.db, extra) == 0,
	    "cannot start the server");
	run.log_fd = open(run.srv.log, O_RDONLY | O_CLOEXEC);

	snprintf(env0, sizeof(env0), "PASSERELLE_DATABASE_URL=%s", run.db);
	snprintf(env1, sizeof(env1), "PASSERELLE_KEY_FILE=%s", run.srv.key);
	env[0] = env0;
	env[1] = env1;
	env[2] = "PASSERELLE_ARGON2_OPS=2";
	env[3] = "PASSERELLE_ARGON2_MEM_KIB=19456";
	env[4] = NULL;
	rc = harness_run(env, seed, out, sizeof(out));
	ck_assert_msg(rc == 0, "seed --demo exited %d: %s", rc, out);

	ck_assert_int_eq(harness_client_init(&run.health), 0);
	run.callers[0].name = "nobody";
	run.callers[0].kind = NOBODY;
	run.callers[1].name = "forged-session";
	run.callers[1].kind = FORGED;
	snprintf(run.callers[1].csrf, sizeof(run.callers[1].csrf),
	    "forged-csrf-token");
	for (i = 0; i < NACCOUNTS; i++) {
		run.callers[i + 2].name = accounts[i];
		run.callers[i + 2].kind = ACCOUNT;
	}
	run.ncallers = NACCOUNTS + 2;
	for (i = 0; i < run.ncallers; i++) {
		ck_assert_int_eq(harness_client_init(&run.callers[i].c), 0);
		if (run.callers[i].kind == ACCOUNT)
			ck_assert_msg(login(&run.callers[i]) == 0,
			    "cannot log in as %s", run.callers[i].name);
	}
	make_records(&run.callers[2]);
	ck_assert_msg(fingerprint(run.fingerprint, sizeof(run.fingerprint)) ==
	                  0,
	    "cannot take the database fingerprint");
}

/* Prints sanitizer reports and internal errors from the server's log. */
static unsigned long
scan_log(void)
{
	static const char *const marks[] = { "AddressSanitizer",
		"LeakSanitizer", "UndefinedBehaviorSanitizer",
		"runtime error:", " error " };
	struct buf all = { 0 };
	char chunk[65536], *line, *save;
	unsigned long found = 0, lines = 0;
	ssize_t n;
	size_t i;

	if (run.log_fd < 0)
		return 0;
	(void)lseek(run.log_fd, 0, SEEK_SET);
	while ((n = read(run.log_fd, chunk, sizeof(chunk))) > 0)
		buf_add(&all, chunk, (size_t)n);
	if (all.p == NULL)
		return 0;
	for (line = strtok_r(all.p, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save), lines++)
		for (i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
			if (strstr(line, marks[i]) != NULL) {
				if (found++ < 60)
					fprintf(stderr,
					    "hostile: log: %.300s\n", line);
				break;
			}
	buf_free(&all);
	fprintf(stderr, "hostile: the server's log: %lu lines, %lu reports\n",
	    lines, found);
	return found;
}

static void
finish(void)
{
	size_t i;

	for (i = 0; i < run.ncallers; i++)
		harness_client_cleanup(&run.callers[i].c);
	harness_client_cleanup(&run.health);
	json_decref(run.sop);
	run.sop = NULL;
	if (run.log_fd >= 0)
		close(run.log_fd);
	run.log_fd = -1;
	harness_db_drop(run.db);
	run.db = NULL;
}

START_TEST(test_hostile_walk_of_every_route_as_every_caller)
{
	char after[sizeof(run.fingerprint)], first[sizeof(run.fingerprint)];
	unsigned long logged;
	int stop_rc;
	size_t i;

	start();
	snprintf(first, sizeof(first), "%s", run.fingerprint);
	run.t0 = harness_now_s();
	fprintf(stderr,
	    "hostile: %s: %zu routes, %zu callers; case %s, consent %s, "
	    "referral %s\n",
	    harness_bin(), http_nroutes, run.ncallers, run.case_id,
	    run.consent_id, run.referral_id);

	for (i = 0; i < http_nroutes && !run.dead; i++) {
		walk_route(i);
		(void)health(http_routes[i].pattern);
	}
	walk_methods();
	walk_static();

	(void)health("the end of the walk");
	ck_assert_msg(fingerprint(after, sizeof(after)) == 0,
	    "cannot take the database fingerprint");
	if (strcmp(first, after) != 0) {
		violation(NULL, "", "", "database",
		    "the database differs from before the walk");
		print_diff(first, after);
	}
	fprintf(stderr,
	    "hostile: %lu requests in %.1f s, %lu violations, %lu database "
	    "changes, %lu lost sessions\n",
	    run.requests, harness_now_s() - run.t0, run.violations,
	    run.dbchanges, run.relogins);
	tally_print();

	stop_rc = run.dead ? -1 : harness_server_stop(&run.srv);
	logged = scan_log();
	finish();
	ck_assert_msg(!run.dead, "the server died during the walk");
	ck_assert_msg(stop_rc == 0, "the server did not stop cleanly: %d",
	    stop_rc);
	ck_assert_msg(logged == 0,
	    "%lu sanitizer reports or errors in the server's log", logged);
	ck_assert_msg(strcmp(first, after) == 0,
	    "the database changed (see above)");
	ck_assert_msg(run.violations == 0,
	    "%lu violations in %lu requests (see above)", run.violations,
	    run.requests);
	ck_assert_msg(run.requests > 1000, "only %lu requests", run.requests);
}
END_TEST

/*
 * A request line or a header past libmicrohttpd's connection memory is
 * refused by libmicrohttpd itself, before the server sees it: an answer
 * (414 or 431) and a closed connection, and the server serves on. That
 * answer is libmicrohttpd's fixed HTML page, not the error shape: the
 * server cannot change it (see the report in the test's output).
 */
START_TEST(test_request_too_large_for_the_server_memory_is_refused)
{
	static const char *const extra[] = { "PASSERELLE_MAX_BODY=65536",
		NULL };
	struct harness_server s;
	struct buf req = { 0 };
	char out[8192], why[256];
	const char *body;
	char *db;
	int closed, st, which;

	db = harness_db_create();
	ck_assert_ptr_nonnull(db);
	ck_assert_int_eq(harness_server_start(&s, db, extra), 0);
	for (which = 0; which < 2; which++) {
		buf_reset(&req);
		if (which == 0) {
			buf_str(&req, "GET /api/v1/cases?q=");
			buf_repeat(&req, 'q', 100000);
			buf_str(&req, " HTTP/1.1\r\nHost: x\r\n\r\n");
		} else {
			buf_str(&req, "GET /api/v1/cases HTTP/1.1\r\nHost: "
			              "x\r\nX-Big: ");
			buf_repeat(&req, 'h', 100000);
			buf_str(&req, "\r\n\r\n");
		}
		ck_assert_int_ge(harness_raw_ex(&s, req.p, req.len, out,
		                     sizeof(out), 5000, &closed),
		    0);
		st = harness_raw_status(out);
		ck_assert_msg(st == 414 || st == 431 || st == 400,
		    "a request of 100 KB: %.120s", out);
		ck_assert_msg(closed, "the connection stays open");
		body = strstr(out, "\r\n\r\n");
		body = body ? body + 4 : "";
		if (!harness_error_shape(body,
		        st == 400   ? "bad_request"
		        : st == 414 ? "uri_too_long"
		                    : "headers_too_large",
		        why, sizeof(why)))
			fprintf(stderr,
			    "hostile: NOTE: %s of 100 KB: libmicrohttpd "
			    "answers "
			    "%d without the error shape: %.160s\n",
			    which ? "a header" : "a request line", st, body);
	}
	buf_free(&req);
	{
		struct harness_resp r;

		ck_assert_int_eq(
		    harness_http(&s, "GET", "/healthz", NULL, NULL, &r), 200);
		harness_resp_free(&r);
	}
	ck_assert_int_eq(harness_server_stop(&s), 0);
	harness_db_drop(db);
}
END_TEST

static Suite *
hostile_suite(void)
{
	Suite *s = suite_create("hostile");
	TCase *tc;

	tc = tcase_create("walk");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_hostile_walk_of_every_route_as_every_caller);
	tcase_add_test(tc,
	    test_request_too_large_for_the_server_memory_is_refused);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return harness_run_suite("itest_hostile", hostile_suite);
}
