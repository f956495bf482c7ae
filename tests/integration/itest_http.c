/*
 * The HTTP layer against a real server and a real PostgreSQL: health and
 * metrics, security headers, errors and their languages, methods, static
 * files and traversal, request framing, bodies, start-up checks (settings,
 * key file, schema), signals, connection limits and readiness while the
 * database is away. Each TCase starts the servers it needs; the readiness
 * case, which stops the cluster, runs last.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "db/db.h"
#include "err.h"
#include "harness.h"

/* The body of a raw answer (after the blank line), or "". */
static const char *
raw_body(const char *answer)
{
	const char *p = strstr(answer, "\r\n\r\n");

	return p ? p + 4 : "";
}

/* Reads a whole small file into buf; returns its length or -1. */
static long
read_file(const char *path, char *buf, size_t len)
{
	size_t n;
	FILE *f;

	if ((f = fopen(path, "rb")) == NULL)
		return -1;
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	return (long)n;
}

static int
write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	size_t len = strlen(text);

	if (fd < 0)
		return -1;
	if (write(fd, text, len) != (ssize_t)len) {
		close(fd);
		return -1;
	}
	if (fchmod(fd, mode) != 0) {
		close(fd);
		return -1;
	}
	return close(fd);
}

/* ======================================================================
 * TCase "api": one server on the source tree's web root.
 */

static struct harness_server api_srv;
static char *api_db;

static void
api_setup(void)
{
	api_db = harness_db_create();
	ck_assert_msg(api_db != NULL, "cannot create a database");
	if (harness_server_start(&api_srv, api_db, NULL) != 0) {
		harness_db_drop(api_db);
		api_db = NULL;
		ck_abort_msg("cannot start the server");
	}
}

static void
api_teardown(void)
{
	(void)harness_server_stop(&api_srv);
	harness_db_drop(api_db);
	api_db = NULL;
}

START_TEST(test_healthz_answers_status_ok)
{
	struct harness_resp r;
	json_t *j;

	ck_assert_int_eq(
	    harness_http(&api_srv, "GET", "/healthz", NULL, NULL, &r), 200);
	ck_assert_ptr_nonnull(harness_resp_header(&r, "Content-Type"));
	ck_assert_msg(strncmp(harness_resp_header(&r, "Content-Type"),
	                  "application/json", 16) == 0,
	    "Content-Type %s", harness_resp_header(&r, "Content-Type"));
	j = harness_json(&r);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(json_object_size(j), 1);
	ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "ok");
	json_decref(j);
	harness_resp_free(&r);
}
END_TEST

START_TEST(test_readyz_answers_200_with_database_up)
{
	struct harness_resp r;

	ck_assert_int_eq(
	    harness_http(&api_srv, "GET", "/readyz", NULL, NULL, &r), 200);
	ck_assert_msg(strstr(r.body, "\"status\"") != NULL, "body %s", r.body);
	harness_resp_free(&r);
}
END_TEST

START_TEST(test_head_healthz_answers_200_without_body)
{
	struct harness_resp r;

	ck_assert_int_eq(
	    harness_http(&api_srv, "HEAD", "/healthz", NULL, NULL, &r), 200);
	ck_assert_uint_eq(r.body_len, 0);
	harness_resp_free(&r);
}
END_TEST

/* The counter for /healthz 200 in the metrics text, or 0 when absent. */
static long
healthz_count(const char *metrics)
{
	static const char key[] = "passerelle_http_requests_total{route=\""
	                          "/healthz\",method=\"GET\",status=\"200\"} ";
	const char *p = strstr(metrics, key);

	return p ? strtol(p + sizeof(key) - 1, NULL, 10) : 0;
}

START_TEST(test_metrics_count_healthz_and_show_histogram_and_pool)
{
	struct harness_resp r;
	long before, after = 0;
	double end;
	int i;

	ck_assert_int_eq(
	    harness_http(&api_srv, "GET", "/metrics", NULL, NULL, &r), 200);
	before = healthz_count(r.body);
	harness_resp_free(&r);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(
		    harness_http(&api_srv, "GET", "/healthz", NULL, NULL, &r),
		    200);
		harness_resp_free(&r);
	}
	/* Requests are counted when complete, just after the answer. */
	for (end = harness_now_s() + 2; harness_now_s() < end;
	     harness_sleep_ms(20)) {
		ck_assert_int_eq(
		    harness_http(&api_srv, "GET", "/metrics", NULL, NULL, &r),
		    200);
		after = healthz_count(r.body);
		if (after >= before + 3)
			break;
		harness_resp_free(&r);
	}
	ck_assert_int_eq(after, before + 3);
	ck_assert_msg(strncmp(harness_resp_header(&r, "Content-Type")
	                          ? harness_resp_header(&r, "Content-Type")
	                          : "",
	                  "text/plain", 10) == 0,
	    "metrics are Prometheus text");
	ck_assert_ptr_nonnull(strstr(r.body,
	    "# TYPE passerelle_http_request_duration_seconds histogram"));
	ck_assert_ptr_nonnull(
	    strstr(r.body, "passerelle_http_request_duration_seconds_bucket{"
	                   "route=\"/healthz\""));
	ck_assert_ptr_nonnull(
	    strstr(r.body, "passerelle_http_request_duration_seconds_count{"
	                   "route=\"/healthz\""));
	ck_assert_ptr_nonnull(strstr(r.body, "le=\"+Inf\""));
	ck_assert_ptr_nonnull(strstr(r.body, "passerelle_db_pool_connections"));
	harness_resp_free(&r);
}
END_TEST

/* Asserts the headers every answer carries. */
static void
check_security_headers(const struct harness_resp *r, const char *what)
{
	const char *csp = harness_resp_header(r, "Content-Security-Policy");
	const char *v;

	ck_assert_msg(csp != NULL, "%s: no Content-Security-Policy", what);
	ck_assert_msg(strstr(csp, "unsafe-inline") == NULL &&
	                  strstr(csp, "unsafe-eval") == NULL,
	    "%s: CSP allows unsafe code: %s", what, csp);
	ck_assert_msg(strstr(csp, "default-src 'self'") != NULL,
	    "%s: CSP default-src: %s", what, csp);
	ck_assert_msg(strstr(csp, "frame-ancestors 'none'") != NULL,
	    "%s: CSP frame-ancestors: %s", what, csp);
	v = harness_resp_header(r, "X-Content-Type-Options");
	ck_assert_msg(v && strcmp(v, "nosniff") == 0, "%s: nosniff", what);
	v = harness_resp_header(r, "Referrer-Policy");
	ck_assert_msg(v && strcmp(v, "no-referrer") == 0, "%s: Referrer-Policy",
	    what);
	v = harness_resp_header(r, "X-Frame-Options");
	ck_assert_msg(v && strcmp(v, "DENY") == 0, "%s: X-Frame-Options", what);
}

/* Does any Cache-Control header say no-store? */
static int
has_no_store(const struct harness_resp *r)
{
	const char *v;
	size_t i;

	for (i = 0; (v = harness_resp_header_n(r, "Cache-Control", i)) != NULL;
	     i++)
		if (strstr(v, "no-store") != NULL)
			return 1;
	return 0;
}

static const struct {
	const char *method;
	const char *path;
	long status;
} api_answers[] = {
	{ "GET", "/healthz", 200 },
	{ "GET", "/readyz", 200 },
	{ "GET", "/metrics", 200 },
	{ "GET", "/api/v1/nothing", 404 },
	{ "POST", "/healthz", 405 },
};

START_TEST(test_api_answers_carry_security_headers_and_no_store)
{
	struct harness_resp r;
	char what[128];

	snprintf(what, sizeof(what), "%s %s", api_answers[_i].method,
	    api_answers[_i].path);
	ck_assert_int_eq(harness_http(&api_srv, api_answers[_i].method,
	                     api_answers[_i].path, NULL, NULL, &r),
	    api_answers[_i].status);
	check_security_headers(&r, what);
	ck_assert_msg(has_no_store(&r), "%s: no Cache-Control: no-store", what);
	ck_assert_msg(harness_resp_header(&r, "Strict-Transport-Security") ==
	                  NULL,
	    "%s: HSTS without TLS", what);
	harness_resp_free(&r);
}
END_TEST

START_TEST(test_static_index_is_served_as_html)
{
	struct harness_resp r;
	char path[512], want[65536];
	long n;

	snprintf(path, sizeof(path), "%s/web/index.html", harness_source_dir());
	n = read_file(path, want, sizeof(want));
	ck_assert_int_ge(n, 1);
	ck_assert_int_eq(harness_http(&api_srv, "GET", "/", NULL, NULL, &r),
	    200);
	ck_assert_msg(strncmp(harness_resp_header(&r, "Content-Type")
	                          ? harness_resp_header(&r, "Content-Type")
	                          : "",
	                  "text/html", 9) == 0,
	    "Content-Type %s", harness_resp_header(&r, "Content-Type"));
	ck_assert_uint_eq(r.body_len, (size_t)n);
	ck_assert_mem_eq(r.body, want, (size_t)n);
	harness_resp_free(&r);
	/* The same file by its name. */
	ck_assert_int_eq(
	    harness_http(&api_srv, "GET", "/index.html", NULL, NULL, &r), 200);
	ck_assert_uint_eq(r.body_len, (size_t)n);
	harness_resp_free(&r);
}
END_TEST

START_TEST(test_static_files_carry_security_headers_and_etag)
{
	struct harness_resp r;

	ck_assert_int_eq(harness_http(&api_srv, "GET", "/", NULL, NULL, &r),
	    200);
	check_security_headers(&r, "GET /");
	ck_assert_ptr_nonnull(harness_resp_header(&r, "ETag"));
	harness_resp_free(&r);
}
END_TEST

START_TEST(test_static_files_are_not_no_store)
{
	struct harness_resp r;
	char cc[256];
	size_t ncc;
	int no_store;

	ck_assert_int_eq(harness_http(&api_srv, "GET", "/", NULL, NULL, &r),
	    200);
	snprintf(cc, sizeof(cc), "%s",
	    harness_resp_header(&r, "Cache-Control")
	        ? harness_resp_header(&r, "Cache-Control")
	        : "");
	ncc = harness_resp_header_count(&r, "Cache-Control");
	no_store = has_no_store(&r);
	harness_resp_free(&r);
	ck_assert_msg(!no_store,
	    "static file sent with Cache-Control: no-store (%zu Cache-Control "
	    "headers, the first: %s)",
	    ncc, cc);
	ck_assert_uint_le(ncc, 1);
}
END_TEST

START_TEST(test_static_if_none_match_gives_304)
{
	const char *hdr[2] = { NULL, NULL };
	struct harness_resp r;
	char etag[128], inm[160];

	ck_assert_int_eq(harness_http(&api_srv, "GET", "/", NULL, NULL, &r),
	    200);
	ck_assert_ptr_nonnull(harness_resp_header(&r, "ETag"));
	snprintf(etag, sizeof(etag), "%s", harness_resp_header(&r, "ETag"));
	harness_resp_free(&r);
	ck_assert_msg(etag[0] == '"', "strong ETag, quoted: %s", etag);

	snprintf(inm, sizeof(inm), "If-None-Match: %s", etag);
	hdr[0] = inm;
	ck_assert_int_eq(harness_http(&api_srv, "GET", "/", hdr, NULL, &r),
	    304);
	ck_assert_uint_eq(r.body_len, 0);
	ck_assert_str_eq(harness_resp_header(&r, "ETag")
	                     ? harness_resp_header(&r, "ETag")
	                     : "",
	    etag);
	harness_resp_free(&r);

	/* Another tag: the file again. */
	hdr[0] = "If-None-Match: \"something-else\"";
	ck_assert_int_eq(harness_http(&api_srv, "GET", "/", hdr, NULL, &r),
	    200);
	ck_assert_uint_gt(r.body_len, 0);
	harness_resp_free(&r);
}
END_TEST

/*
 * The chart library, served from the installed npm package (the default
 * library root: node_modules next to the web root), and nothing else of it.
 */
static const struct {
	const char *path, *file, *ctype;
} lib_files[] = {
	{ "/lib/uplot/uPlot.iife.min.js", "uplot/dist/uPlot.iife.min.js",
	    "text/javascript" },
	{ "/lib/uplot/uPlot.esm.js", "uplot/dist/uPlot.esm.js",
	    "text/javascript" },
	{ "/lib/uplot/uPlot.min.css", "uplot/dist/uPlot.min.css", "text/css" },
};

START_TEST(test_lib_files_come_from_the_installed_package)
{
	static char want[262144];
	struct harness_resp r;
	const char *hdr[2] = { NULL, NULL };
	char path[512], inm[160];
	long n;

	snprintf(path, sizeof(path), "%s/node_modules/%s", harness_source_dir(),
	    lib_files[_i].file);
	n = read_file(path, want, sizeof(want));
	ck_assert_msg(n > 0, "%s: missing (scripts/setup installs it)", path);
	ck_assert_int_eq(
	    harness_http(&api_srv, "GET", lib_files[_i].path, NULL, NULL, &r),
	    200);
	ck_assert_msg(strncmp(harness_resp_header(&r, "Content-Type")
	                          ? harness_resp_header(&r, "Content-Type")
	                          : "",
	                  lib_files[_i].ctype, strlen(lib_files[_i].ctype)) == 0,
	    "%s: Content-Type %s", lib_files[_i].path,
	    harness_resp_header(&r, "Content-Type"));
	ck_assert_uint_eq(r.body_len, (size_t)n);
	ck_assert_mem_eq(r.body, want, (size_t)n);
	check_security_headers(&r, lib_files[_i].path);
	ck_assert(!has_no_store(&r));
	ck_assert_ptr_nonnull(harness_resp_header(&r, "ETag"));
	snprintf(inm, sizeof(inm), "If-None-Match: %s",
	    harness_resp_header(&r, "ETag"));
	harness_resp_free(&r);
	hdr[0] = inm;
	ck_assert_int_eq(harness_http(&api_srv, "GET", lib_files[_i].path, hdr,
	    NULL, &r), 304);
	harness_resp_free(&r);
}
END_TEST

static const char *const lib_refused[] = {
	"/lib/uplot/package.json",
	"/lib/uplot/README.md",
	"/lib/uplot/dist/uPlot.min.css",
	"/lib/uplot/uPlot.cjs.js",
	"/lib/playwright-core/package.json",
	"/lib/.package-lock.json",
	"/lib/uplot/..%2Fpackage.json",
	"/lib/uplot/%2e%2e/uplot/package.json",
	"/lib/../package.json",
	"/lib/",
};

START_TEST(test_lib_serves_only_its_list)
{
	char req[512], out[16384];

	snprintf(req, sizeof(req),
	    "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	    lib_refused[_i]);
	ck_assert_int_gt(
	    harness_raw(&api_srv, req, strlen(req), out, sizeof(out)), 0);
	ck_assert_msg(harness_raw_status(out) == 404, "%s: %.60s",
	    lib_refused[_i], out);
	ck_assert_msg(strstr(out, "\"name\"") == NULL, "%s leaked a file",
	    lib_refused[_i]);
}
END_TEST

START_TEST(test_unknown_api_path_is_404_in_french_then_english)
{
	static const char *const en[] = { "Accept-Language: en", NULL };
	struct harness_resp fr_r, en_r;
	json_t *jf, *je;
	const char *mf, *me;

	ck_assert_int_eq(
	    harness_http(&api_srv, "GET", "/api/v1/nothing", NULL, NULL, &fr_r),
	    404);
	ck_assert_error(&fr_r, 404, "not_found");
	ck_assert_int_eq(
	    harness_http(&api_srv, "GET", "/api/v1/nothing", en, NULL, &en_r),
	    404);
	ck_assert_error(&en_r, 404, "not_found");
	jf = harness_json(&fr_r);
	je = harness_json(&en_r);
	mf = json_string_value(
	    json_object_get(json_object_get(jf, "error"), "message"));
	me = json_string_value(
	    json_object_get(json_object_get(je, "error"), "message"));
	ck_assert_str_eq(mf, pa_err_message(PA_NOT_FOUND, 0));
	ck_assert_str_eq(me, pa_err_message(PA_NOT_FOUND, 1));
	ck_assert_str_ne(mf, me);
	json_decref(jf);
	json_decref(je);
	harness_resp_free(&fr_r);
	harness_resp_free(&en_r);
}
END_TEST

/*
 * Large but ordinary request headers (cookies of other applications on the
 * same host, long tracing headers): 24 KiB of headers, or 16 KiB of which
 * 8 KiB of cookies (libmicrohttpd copies the cookies it parses into the
 * same pool), still get a real answer, JSON errors included, within
 * libmicrohttpd's 32 KiB connection pool.
 */
START_TEST(test_24_kib_of_request_headers_get_their_answer)
{
	static char pad[3][8300], cookie[8400];
	const char *h[6];
	struct harness_resp r;
	int i;

	for (i = 0; i < 3; i++) {
		snprintf(pad[i], sizeof(pad[i]), "X-Pad-%d: ", i);
		memset(pad[i] + 9, 'a' + i, 8000);
		pad[i][8009] = '\0';
		h[i] = pad[i];
	}
	h[3] = NULL;
	ck_assert_int_eq(harness_http(&api_srv, "GET", "/healthz", h, NULL, &r),
	    200);
	harness_resp_free(&r);
	ck_assert_int_eq(
	    harness_http(&api_srv, "GET", "/api/v1/nothing", h, NULL, &r), 404);
	ck_assert_error(&r, 404, "not_found");
	harness_resp_free(&r);
	/* Other cookies around a session cookie that is no session: 401. */
	h[1] = NULL;
	snprintf(cookie, sizeof(cookie), "Cookie: other=");
	memset(cookie + 14, 'z', 8000);
	snprintf(cookie + 8014, sizeof(cookie) - 8014,
	    "; passerelle_session=%043d", 0);
	h[1] = cookie;
	h[2] = "X-CSRF-Token: x";
	h[3] = NULL;
	ck_assert_int_eq(harness_http(&api_srv, "GET",
	                     "/api/v1/cases/0b6f3f7e-3c1e-4f57-9d7a-5a1b2c3d4e5f",
	                     h, NULL, &r),
	    401);
	ck_assert_error(&r, 401, "unauthenticated");
	harness_resp_free(&r);
}
END_TEST

START_TEST(test_post_healthz_is_405_with_allow)
{
	struct harness_resp r;

	ck_assert_int_eq(
	    harness_http(&api_srv, "POST", "/healthz", NULL, NULL, &r), 405);
	ck_assert_error(&r, 405, "method_not_allowed");
	ck_assert_ptr_nonnull(harness_resp_header(&r, "Allow"));
	ck_assert_str_eq(harness_resp_header(&r, "Allow"), "GET, HEAD");
	harness_resp_free(&r);
}
END_TEST

static const char *const odd_methods[] = { "TRACE", "BREW", "CONNECT",
	"OPTIONS" };

START_TEST(test_unknown_methods_are_405)
{
	struct harness_resp r;
	char req[256], out[4096];

	/* curl cannot send CONNECT as a plain request: raw bytes for all. */
	snprintf(req, sizeof(req),
	    "%s /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	    odd_methods[_i]);
	ck_assert_int_ge(
	    harness_raw(&api_srv, req, strlen(req), out, sizeof(out)), 0);
	ck_assert_msg(harness_raw_status(out) == 405, "%s: %.80s",
	    odd_methods[_i], out);
	ck_assert_msg(strstr(out, "\r\nAllow: ") != NULL, "%s: no Allow",
	    odd_methods[_i]);
	ck_assert_msg(strstr(raw_body(out), "method_not_allowed") != NULL,
	    "%s: body %s", odd_methods[_i], raw_body(out));
	if (_i < 2) { /* and through curl, for the error shape */
		ck_assert_int_eq(harness_http(&api_srv, odd_methods[_i],
		                     "/api/v1/nothing", NULL, NULL, &r),
		    405);
		ck_assert_error(&r, 405, "method_not_allowed");
		harness_resp_free(&r);
	}
}
END_TEST

/* Paths that try to leave the source tree's web root. */
static const char *const escapes_src[] = {
	"/../CMakeLists.txt",
	"/%2e%2e/CMakeLists.txt",
	"/%2F..%2FCMakeLists.txt",
	"/..%2FCMakeLists.txt",
	"/%2e%2e%2fCMakeLists.txt",
	"/web/../../CMakeLists.txt",
	"/.git/config",
};

START_TEST(test_traversal_out_of_web_root_is_404)
{
	char req[512], out[16384];

	snprintf(req, sizeof(req),
	    "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	    escapes_src[_i]);
	ck_assert_int_gt(
	    harness_raw(&api_srv, req, strlen(req), out, sizeof(out)), 0);
	ck_assert_msg(harness_raw_status(out) == 404, "%s: %.60s",
	    escapes_src[_i], out);
	ck_assert_msg(strstr(out, "cmake_minimum_required") == NULL &&
	                  strstr(out, "[core]") == NULL,
	    "%s leaked a file", escapes_src[_i]);
}
END_TEST

START_TEST(test_two_content_lengths_are_400_and_close)
{
	static const char req[] = "POST /healthz HTTP/1.1\r\nHost: x\r\n"
	                          "Content-Length: 2\r\nContent-Length: 2\r\n"
	                          "\r\n{}";
	char out[4096];
	int closed;

	ck_assert_int_gt(harness_raw_ex(&api_srv, req, sizeof(req) - 1, out,
	                     sizeof(out), 3000, &closed),
	    0);
	ck_assert_msg(harness_raw_status(out) == 400, "%.80s", out);
	ck_assert_msg(strstr(raw_body(out), "\"bad_request\"") != NULL,
	    "body %s", raw_body(out));
	ck_assert_msg(closed, "the connection stayed open");
}
END_TEST

START_TEST(test_content_length_and_chunked_are_400_and_close)
{
	static const char req[] = "POST /healthz HTTP/1.1\r\nHost: x\r\n"
	                          "Content-Length: 5\r\n"
	                          "Transfer-Encoding: chunked\r\n\r\n"
	                          "0\r\n\r\nGET /healthz HTTP/1.1\r\n"
	                          "Host: x\r\n\r\n";
	char out[8192];
	int closed;

	ck_assert_int_gt(harness_raw_ex(&api_srv, req, sizeof(req) - 1, out,
	                     sizeof(out), 3000, &closed),
	    0);
	ck_assert_msg(harness_raw_status(out) == 400, "%.80s", out);
	ck_assert_msg(strstr(raw_body(out), "\"bad_request\"") != NULL,
	    "body %s", raw_body(out));
	/* The smuggled second request must not be answered. */
	ck_assert_msg(strstr(raw_body(out), "HTTP/1.1") == NULL,
	    "a second answer came: %s", raw_body(out));
	ck_assert_msg(closed, "the connection stayed open");
}
END_TEST

START_TEST(test_body_on_get_healthz_is_400)
{
	static const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n"
	                          "Content-Length: 5\r\n\r\nhello";
	char out[4096];
	int closed;

	ck_assert_int_gt(harness_raw_ex(&api_srv, req, sizeof(req) - 1, out,
	                     sizeof(out), 3000, &closed),
	    0);
	ck_assert_msg(harness_raw_status(out) == 400, "%.80s", out);
	ck_assert_msg(strstr(raw_body(out), "\"bad_request\"") != NULL,
	    "body %s", raw_body(out));
	ck_assert_msg(closed, "the connection stayed open");
}
END_TEST

/* ======================================================================
 * TCase "static_root": a web root of our own, with traps around it.
 *
 *   top/CMakeLists.txt        SECRET-PARENT (the root's parent)
 *   top/outside/secret.txt    SECRET-OUTSIDE
 *   top/web/index.html        <p>test root</p>
 *   top/web/style.css
 *   top/web/.env              SECRET-ENV
 *   top/web/.git/config       SECRET-GIT
 *   top/web/passwd.txt     -> /etc/passwd
 *   top/web/linkdir        -> top/outside
 *   top/web/sub/page.js
 */

static struct harness_server root_srv;
static char *root_db;
static char root_top[64];

static void
root_setup(void)
{
	char p[256], env[300];
	const char *extra[2] = { env, NULL };
	int ok = 1;

	ck_assert_int_eq(harness_tmpdir(root_top, sizeof(root_top)), 0);
	snprintf(p, sizeof(p), "%s/CMakeLists.txt", root_top);
	ok &= write_file(p, "SECRET-PARENT\n", 0644) == 0;
	snprintf(p, sizeof(p), "%s/outside", root_top);
	ok &= mkdir(p, 0755) == 0;
	snprintf(p, sizeof(p), "%s/outside/secret.txt", root_top);
	ok &= write_file(p, "SECRET-OUTSIDE\n", 0644) == 0;
	snprintf(p, sizeof(p), "%s/web", root_top);
	ok &= mkdir(p, 0755) == 0;
	snprintf(p, sizeof(p), "%s/web/index.html", root_top);
	ok &= write_file(p, "<p>test root</p>\n", 0644) == 0;
	snprintf(p, sizeof(p), "%s/web/style.css", root_top);
	ok &= write_file(p, "p { color: black }\n", 0644) == 0;
	snprintf(p, sizeof(p), "%s/web/.env", root_top);
	ok &= write_file(p, "SECRET-ENV\n", 0644) == 0;
	snprintf(p, sizeof(p), "%s/web/.git", root_top);
	ok &= mkdir(p, 0755) == 0;
	snprintf(p, sizeof(p), "%s/web/.git/config", root_top);
	ok &= write_file(p, "SECRET-GIT\n", 0644) == 0;
	snprintf(p, sizeof(p), "%s/web/passwd.txt", root_top);
	ok &= symlink("/etc/passwd", p) == 0;
	snprintf(p, sizeof(p), "%s/web/linkdir", root_top);
	snprintf(env, sizeof(env), "%s/outside", root_top);
	ok &= symlink(env, p) == 0;
	snprintf(p, sizeof(p), "%s/web/sub", root_top);
	ok &= mkdir(p, 0755) == 0;
	snprintf(p, sizeof(p), "%s/web/sub/page.js", root_top);
	ok &= write_file(p, "export {};\n", 0644) == 0;
	if (!ok) {
		harness_rmtree(root_top);
		ck_abort_msg("cannot build the test web root");
	}
	snprintf(env, sizeof(env), "PASSERELLE_WEB_ROOT=%s/web", root_top);
	root_db = harness_db_create();
	if (root_db == NULL ||
	    harness_server_start(&root_srv, root_db, extra) != 0) {
		harness_db_drop(root_db);
		root_db = NULL;
		harness_rmtree(root_top);
		ck_abort_msg("cannot start the server");
	}
}

static void
root_teardown(void)
{
	(void)harness_server_stop(&root_srv);
	harness_db_drop(root_db);
	root_db = NULL;
	harness_rmtree(root_top);
}

START_TEST(test_own_root_serves_its_files)
{
	struct harness_resp r;

	ck_assert_int_eq(harness_http(&root_srv, "GET", "/", NULL, NULL, &r),
	    200);
	ck_assert_str_eq(r.body, "<p>test root</p>\n");
	harness_resp_free(&r);
	ck_assert_int_eq(
	    harness_http(&root_srv, "GET", "/style.css", NULL, NULL, &r), 200);
	ck_assert_msg(strncmp(harness_resp_header(&r, "Content-Type")
	                          ? harness_resp_header(&r, "Content-Type")
	                          : "",
	                  "text/css", 8) == 0,
	    "css type");
	harness_resp_free(&r);
	ck_assert_int_eq(
	    harness_http(&root_srv, "GET", "/sub/page.js", NULL, NULL, &r),
	    200);
	ck_assert_msg(strncmp(harness_resp_header(&r, "Content-Type")
	                          ? harness_resp_header(&r, "Content-Type")
	                          : "",
	                  "text/javascript", 15) == 0,
	    "js type");
	harness_resp_free(&r);
}
END_TEST

static const char *const escapes_own[] = {
	"/../CMakeLists.txt",
	"/%2e%2e/CMakeLists.txt",
	"/%2E%2E/CMakeLists.txt",
	"/%2F..%2FCMakeLists.txt",
	"/..%2FCMakeLists.txt",
	"/sub/../../CMakeLists.txt",
	"/sub/%2e%2e/%2e%2e/CMakeLists.txt",
	"/..%5cCMakeLists.txt",
	"/.env",
	"/%2eenv",
	"/.git/config",
	"/passwd.txt",
	"/linkdir/secret.txt",
	"/sub",
	"/sub/",
	"//style.css",
	"/style.css%00.html",
	"/../outside/secret.txt",
};

START_TEST(test_own_root_refuses_escapes_with_404)
{
	char req[512], out[16384];

	snprintf(req, sizeof(req),
	    "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	    escapes_own[_i]);
	ck_assert_int_gt(
	    harness_raw(&root_srv, req, strlen(req), out, sizeof(out)), 0);
	ck_assert_msg(harness_raw_status(out) == 404, "%s: %.60s",
	    escapes_own[_i], out);
	ck_assert_msg(strstr(out, "SECRET") == NULL &&
	                  strstr(out, "root:") == NULL,
	    "%s leaked: %s", escapes_own[_i], raw_body(out));
}
END_TEST

/* ======================================================================
 * TCase "body": POST /api/v1/session with PASSERELLE_MAX_BODY=4096.
 */

static struct harness_server body_srv;
static char *body_db;

static void
body_setup(void)
{
	static const char *const extra[] = { "PASSERELLE_MAX_BODY=4096", NULL };

	body_db = harness_db_create();
	ck_assert_msg(body_db != NULL, "cannot create a database");
	if (harness_server_start(&body_srv, body_db, extra) != 0) {
		harness_db_drop(body_db);
		body_db = NULL;
		ck_abort_msg("cannot start the server");
	}
}

static void
body_teardown(void)
{
	(void)harness_server_stop(&body_srv);
	harness_db_drop(body_db);
	body_db = NULL;
}

START_TEST(test_body_declared_too_large_is_413_before_upload)
{
	static const char req[] = "POST /api/v1/session HTTP/1.1\r\n"
	                          "Host: x\r\n"
	                          "Content-Type: application/json\r\n"
	                          "Content-Length: 100000000\r\n\r\n"
	                          "{\"username\":";
	char out[4096];
	double t0 = harness_now_s();

	ck_assert_int_gt(harness_raw_ex(&body_srv, req, sizeof(req) - 1, out,
	                     sizeof(out), 5000, NULL),
	    0);
	ck_assert_msg(harness_raw_status(out) == 413, "%.80s", out);
	ck_assert_msg(strstr(raw_body(out), "\"body_too_large\"") != NULL,
	    "body %s", raw_body(out));
	/* Answered and closed without waiting for 100 MB. */
	ck_assert_msg(harness_now_s() - t0 < 3.0, "took %.1f s",
	    harness_now_s() - t0);
}
END_TEST

START_TEST(test_chunked_body_past_limit_is_413_or_closed)
{
	char *req, out[4096];
	size_t len = 0, cap = 16384;
	int closed, i, st;

	req = malloc(cap);
	ck_assert_ptr_nonnull(req);
	len += (size_t)snprintf(req, cap,
	    "POST /api/v1/session HTTP/1.1\r\nHost: x\r\n"
	    "Content-Type: application/json\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"
	    "c\r\n{\"username\":\r\n"
	    "1\r\n\"\r\n");
	for (i = 0; i < 5; i++) { /* 5 x 1000 bytes: past 4096 */
		len += (size_t)snprintf(req + len, cap - len, "3e8\r\n");
		memset(req + len, 'a', 1000);
		len += 1000;
		len += (size_t)snprintf(req + len, cap - len, "\r\n");
	}
	len += (size_t)snprintf(req + len, cap - len,
	    "12\r\n\",\"password\":\"b\"}\r\n0\r\n\r\n");
	ck_assert_int_ge(harness_raw_ex(&body_srv, req, len, out, sizeof(out),
	                     5000, &closed),
	    0);
	free(req);
	st = harness_raw_status(out);
	ck_assert_msg(st == 413 || (st == 0 && closed),
	    "expected 413 or a closed connection, got %d: %.200s", st, out);
	if (st == 413)
		ck_assert_msg(strstr(raw_body(out), "body_too_large") != NULL,
		    "body %s", raw_body(out));
}
END_TEST

/*
 * RFC 9112 6.1: chunked not the final coding, 400 and close. (Body routes
 * only: elsewhere any Transfer-Encoding is a body where none is taken.)
 */
START_TEST(test_unknown_transfer_coding_is_400_and_close)
{
	static const char req[] = "POST /api/v1/session HTTP/1.1\r\n"
	                          "Host: x\r\n"
	                          "Content-Type: application/json\r\n"
	                          "Transfer-Encoding: xchunked\r\n\r\n"
	                          "0\r\n\r\n";
	char out[4096];
	int closed, st;

	ck_assert_int_ge(harness_raw_ex(&body_srv, req, sizeof(req) - 1, out,
	                     sizeof(out), 3000, &closed),
	    0);
	st = harness_raw_status(out);
	ck_assert_msg(st == 400 || st == 501,
	    "expected 400 or 501 at once, got %d%s: %.80s", st,
	    closed ? "" : " (the connection hung)", out);
	ck_assert_msg(closed, "the connection stayed open");
}
END_TEST

/*
 * RFC 9112 5.1: whitespace between a field name and the colon is a 400.
 * A proxy that takes "Transfer-Encoding :" for chunked while we take the
 * Content-Length is the classic smuggling set-up.
 */
START_TEST(test_space_before_colon_is_400_and_close)
{
	static const char req[] = "POST /api/v1/session HTTP/1.1\r\n"
	                          "Host: x\r\n"
	                          "Content-Type: application/json\r\n"
	                          "Transfer-Encoding : chunked\r\n"
	                          "Content-Length: 2\r\n\r\n{}";
	char out[4096];
	int closed;

	ck_assert_int_ge(harness_raw_ex(&body_srv, req, sizeof(req) - 1, out,
	                     sizeof(out), 3000, &closed),
	    0);
	ck_assert_msg(harness_raw_status(out) == 400, "%.80s", out);
	ck_assert_msg(closed, "the connection stayed open");
}
END_TEST

static const struct {
	const char *name;
	const char *body;
	const char *ctype; /* NULL: application/json */
	long status;
	const char *code;
	const char *field; /* NULL: no field */
} bad_bodies[] = {
	{ "invalid JSON", "{\"username\":", NULL, 400, "bad_request", NULL },
	{ "invalid UTF-8", "{\"username\":\"\xff\xfe\",\"password\":\"b\"}",
	    NULL, 400, "bad_request", NULL },
	{ "overlong UTF-8", "{\"username\":\"\xc0\xaf\",\"password\":\"b\"}",
	    NULL, 400, "bad_request", NULL },
	{ "trailing garbage", "{\"username\":\"a\",\"password\":\"b\"} x", NULL,
	    400, "bad_request", NULL },
	{ "two objects", "{\"username\":\"a\",\"password\":\"b\"}{}", NULL, 400,
	    "bad_request", NULL },
	{ "duplicate key",
	    "{\"username\":\"a\",\"username\":\"c\",\"password\":\"b\"}", NULL,
	    400, "bad_request", NULL },
	{ "top-level array", "[\"a\",\"b\"]", NULL, 400, "bad_request", NULL },
	{ "NUL escape", "{\"username\":\"a\\u0000\",\"password\":\"b\"}", NULL,
	    400, "bad_request", NULL },
	{ "empty body", "", NULL, 400, "bad_request", NULL },
	{ "unknown member",
	    "{\"username\":\"a\",\"password\":\"b\",\"admin\":true}", NULL, 400,
	    "bad_request", NULL },
	{ "wrong Content-Type", "{\"username\":\"a\",\"password\":\"b\"}",
	    "text/plain", 415, "unsupported_media_type", NULL },
	{ "form Content-Type", "username=a&password=b",
	    "application/x-www-form-urlencoded", 415, "unsupported_media_type",
	    NULL },
	{ "username not a string", "{\"username\":1,\"password\":\"b\"}", NULL,
	    422, "invalid", "username" },
	{ "password not a string", "{\"username\":\"a\",\"password\":[]}", NULL,
	    422, "invalid", "password" },
};

START_TEST(test_session_body_is_refused)
{
	const char *hdr[3] = { NULL, "Accept-Language: en", NULL };
	struct harness_resp r;
	char ct[128];
	json_t *j, *f;

	snprintf(ct, sizeof(ct), "Content-Type: %s",
	    bad_bodies[_i].ctype ? bad_bodies[_i].ctype : "application/json");
	hdr[0] = ct;
	harness_http(&body_srv, "POST", "/api/v1/session", hdr,
	    bad_bodies[_i].body, &r);
	ck_assert_msg(r.status == bad_bodies[_i].status,
	    "%s: expected %ld, got %ld (%s)", bad_bodies[_i].name,
	    bad_bodies[_i].status, r.status, r.body);
	ck_assert_error(&r, bad_bodies[_i].status, bad_bodies[_i].code);
	j = harness_json(&r);
	f = json_object_get(json_object_get(j, "error"), "field");
	if (bad_bodies[_i].field == NULL)
		ck_assert_msg(f == NULL, "%s: unexpected field",
		    bad_bodies[_i].name);
	else
		ck_assert_str_eq(json_string_value(f) ? json_string_value(f)
		                                      : "",
		    bad_bodies[_i].field);
	json_decref(j);
	harness_resp_free(&r);
}
END_TEST

START_TEST(test_session_body_nested_100_deep_is_400)
{
	char body[512];
	size_t n = 0;
	struct harness_resp r;
	int i;

	/* As the username: were depth not checked, it would be 422. */
	n += (size_t)snprintf(body, sizeof(body), "{\"username\":");
	for (i = 0; i < 100; i++)
		body[n++] = '[';
	for (i = 0; i < 100; i++)
		body[n++] = ']';
	n += (size_t)snprintf(body + n, sizeof(body) - n,
	    ",\"password\":\"b\"}");
	harness_http(&body_srv, "POST", "/api/v1/session", harness_json_headers,
	    body, &r);
	ck_assert_error(&r, 400, "bad_request");
	harness_resp_free(&r);
}
END_TEST

/* ======================================================================
 * TCase "startup": the binary's own checks, each on a database of its own
 * where it matters.
 */

static char *start_db;          /* migrated, shared by the settings tests */
static char start_dir[64];      /* keys */
static char start_key[128];     /* a good key */
static char start_key_env[160]; /* PASSERELLE_KEY_FILE=start_key */

/*
 * A database remembers the master key that first served it: every server
 * on start_db uses start_key.
 */
static int
start_server(struct harness_server *srv, const char *extra_setting)
{
	const char *extra[3] = { start_key_env, extra_setting, NULL };

	return harness_server_start(srv, start_db, extra);
}

static void
start_setup(void)
{
	const char *keygen[] = { "keygen", "--out", start_key, NULL };
	char env[1200], out[4096];
	const char *e[2] = { env, NULL };
	const char *migrate[] = { "migrate", NULL };

	ck_assert_int_eq(harness_tmpdir(start_dir, sizeof(start_dir)), 0);
	snprintf(start_key, sizeof(start_key), "%s/good.key", start_dir);
	snprintf(start_key_env, sizeof(start_key_env), "PASSERELLE_KEY_FILE=%s",
	    start_key);
	ck_assert_int_eq(harness_run(NULL, keygen, out, sizeof(out)), 0);
	start_db = harness_db_create();
	ck_assert_ptr_nonnull(start_db);
	snprintf(env, sizeof(env), "PASSERELLE_DATABASE_URL=%s", start_db);
	ck_assert_int_eq(harness_run(e, migrate, out, sizeof(out)), 0);
}

static void
start_teardown(void)
{
	harness_db_drop(start_db);
	start_db = NULL;
	harness_rmtree(start_dir);
}

/* The number of lines in text (a last line without '\n' counts). */
/*
 * Runs `passerelle serve` (or another subcommand) with database url and key
 * file key (NULL: unset) plus more ("NAME=value" list); out gets the output.
 */
static int
run_with(const char *cmd, const char *url, const char *key,
    const char *const *more, char *out, size_t outlen)
{
	char e_db[1200], e_key[300];
	const char *env[16];
	const char *args[3] = { cmd, NULL, NULL };
	size_t n = 0, i;

	if (strcmp(cmd, "migrate --status") == 0) {
		args[0] = "migrate";
		args[1] = "--status";
	}
	if (url != NULL)
		snprintf(e_db, sizeof(e_db), "PASSERELLE_DATABASE_URL=%s", url);
	else
		snprintf(e_db, sizeof(e_db), "PASSERELLE_DATABASE_URL");
	env[n++] = e_db;
	if (key != NULL)
		snprintf(e_key, sizeof(e_key), "PASSERELLE_KEY_FILE=%s", key);
	else
		snprintf(e_key, sizeof(e_key), "PASSERELLE_KEY_FILE");
	env[n++] = e_key;
	/* A TEST-NET address: serve cannot stay up should a check be missing.
	 */
	env[n++] = "PASSERELLE_LISTEN=192.0.2.1:9";
	for (i = 0; more != NULL && more[i] != NULL && n < 15; i++)
		env[n++] = more[i];
	env[n] = NULL;
	return harness_run(env, args, out, outlen);
}

START_TEST(test_migrate_twice_is_idempotent)
{
	char *db = harness_db_create();
	char out[4096], count[32], expect[32];

	ck_assert_ptr_nonnull(db);
	ck_assert_msg(run_with("migrate", db, NULL, NULL, out, sizeof(out)) ==
	                  0,
	    "first migrate: %s", out);
	ck_assert_msg(run_with("migrate", db, NULL, NULL, out, sizeof(out)) ==
	                  0,
	    "second migrate: %s", out);
	ck_assert_int_eq(harness_value(db,
	                     "SELECT count(*) FROM schema_migrations", NULL, 0,
	                     count, sizeof(count)),
	    0);
	snprintf(expect, sizeof(expect), "%zu", db_migrations_count);
	ck_assert_str_eq(count, expect);
	ck_assert_msg(
	    run_with("migrate --status", db, NULL, NULL, out, sizeof(out)) == 0,
	    "migrate --status: %s", out);
	ck_assert_msg(strstr(out, db_migrations[0].name) != NULL,
	    "--status lists the migrations: %s", out);
	harness_db_drop(db);
}
END_TEST

START_TEST(test_edited_migration_stops_migrate_and_serve)
{
	char *db = harness_db_create();
	char out[4096], ver[16];
	const char *params[1] = { ver };

	ck_assert_ptr_nonnull(db);
	ck_assert_int_eq(run_with("migrate", db, NULL, NULL, out, sizeof(out)),
	    0);
	snprintf(ver, sizeof(ver), "%d", db_migrations[0].version);
	ck_assert_int_eq(harness_value(db,
	                     "WITH u AS (UPDATE schema_migrations SET sha256 = "
	                     "'x' WHERE version = $1::int RETURNING 1) "
	                     "SELECT count(*) FROM u",
	                     params, 1, out, sizeof(out)),
	    0);
	ck_assert_str_eq(out, "1");
	ck_assert_int_eq(run_with("migrate", db, NULL, NULL, out, sizeof(out)),
	    1);
	ck_assert_msg(strstr(out, db_migrations[0].name) != NULL,
	    "migrate does not name the file: %s", out);
	ck_assert_int_eq(
	    run_with("serve", db, start_key, NULL, out, sizeof(out)), 1);
	ck_assert_msg(strstr(out, db_migrations[0].name) != NULL,
	    "serve does not name the file: %s", out);
	ck_assert_int_eq(
	    run_with("migrate --status", db, NULL, NULL, out, sizeof(out)), 1);
	harness_db_drop(db);
}
END_TEST

START_TEST(test_newer_schema_stops_serve)
{
	char *db = harness_db_create();
	char out[4096];

	ck_assert_ptr_nonnull(db);
	ck_assert_int_eq(run_with("migrate", db, NULL, NULL, out, sizeof(out)),
	    0);
	ck_assert_int_eq(harness_exec(db,
	                     "INSERT INTO schema_migrations (version, name, "
	                     "sha256) VALUES (9999, '9999_future.sql', "
	                     "repeat('0', 64))"),
	    0);
	ck_assert_int_eq(
	    run_with("serve", db, start_key, NULL, out, sizeof(out)), 1);
	ck_assert_msg(strstr(out, "newer") != NULL, "serve: %s", out);
	ck_assert_int_eq(run_with("migrate", db, NULL, NULL, out, sizeof(out)),
	    1);
	ck_assert_msg(strstr(out, "newer") != NULL, "migrate: %s", out);
	harness_db_drop(db);
}
END_TEST

START_TEST(test_empty_database_stops_serve_asking_for_migrate)
{
	char *db = harness_db_create();
	char out[4096];

	ck_assert_ptr_nonnull(db);
	ck_assert_int_eq(
	    run_with("serve", db, start_key, NULL, out, sizeof(out)), 1);
	ck_assert_msg(strstr(out, "passerelle migrate") != NULL, "serve: %s",
	    out);
	ck_assert_int_eq(harness_count_lines(out), 1);
	harness_db_drop(db);
}
END_TEST

/* Bad key files: name, content, mode. */
static const struct {
	const char *name;
	const char *content; /* NULL: no file */
	mode_t mode;
} bad_keys[] = {
	{ "missing.key", NULL, 0600 },
	{ "open.key", "0123456789abcdef0123456789abcdef", 0644 },
	{ "group.key", "0123456789abcdef0123456789abcdef", 0640 },
	{ "short.key", "0123456789abcdef0123456789abcde", 0600 },
	{ "long.key", "0123456789abcdef0123456789abcdef!", 0600 },
	{ "empty.key", "", 0600 },
};

START_TEST(test_serve_refuses_bad_key_file_naming_it)
{
	char path[256], out[4096];

	snprintf(path, sizeof(path), "%s/%s", start_dir, bad_keys[_i].name);
	if (bad_keys[_i].content != NULL)
		ck_assert_int_eq(
		    write_file(path, bad_keys[_i].content, bad_keys[_i].mode),
		    0);
	ck_assert_int_eq(
	    run_with("serve", start_db, path, NULL, out, sizeof(out)), 1);
	ck_assert_msg(strstr(out, "PASSERELLE_KEY_FILE") != NULL, "%s: %s",
	    bad_keys[_i].name, out);
	ck_assert_msg(harness_count_lines(out) == 1, "%s: not one line: %s",
	    bad_keys[_i].name, out);
}
END_TEST

START_TEST(test_serve_names_unset_database_url)
{
	char out[4096];

	ck_assert_int_eq(
	    run_with("serve", NULL, start_key, NULL, out, sizeof(out)), 1);
	ck_assert_msg(strstr(out, "PASSERELLE_DATABASE_URL") != NULL, "%s",
	    out);
	ck_assert_int_eq(harness_count_lines(out), 1);
}
END_TEST

START_TEST(test_serve_names_unset_key_file)
{
	char out[4096];

	ck_assert_int_eq(
	    run_with("serve", start_db, NULL, NULL, out, sizeof(out)), 1);
	ck_assert_msg(strstr(out, "PASSERELLE_KEY_FILE") != NULL, "%s", out);
	ck_assert_int_eq(harness_count_lines(out), 1);
}
END_TEST

static const char *const bad_settings[] = {
	"PASSERELLE_MAX_BODY=1",
	"PASSERELLE_MAX_BODY=1000000000",
	"PASSERELLE_MAX_BODY=12kb",
	"PASSERELLE_THREADS=-1",
	"PASSERELLE_LISTEN=nowhere",
	"PASSERELLE_PER_IP_CONNECTIONS=0",
};

START_TEST(test_serve_names_out_of_bounds_setting)
{
	const char *more[2] = { bad_settings[_i], NULL };
	char out[4096], name[64];

	snprintf(name, sizeof(name), "%.*s",
	    (int)strcspn(bad_settings[_i], "="), bad_settings[_i]);
	ck_assert_int_eq(
	    run_with("serve", start_db, start_key, more, out, sizeof(out)), 1);
	ck_assert_msg(strstr(out, name) != NULL, "%s: %s", bad_settings[_i],
	    out);
	ck_assert_msg(harness_count_lines(out) == 1, "%s: not one line: %s",
	    bad_settings[_i], out);
}
END_TEST

START_TEST(test_serve_names_a_lib_root_it_cannot_open)
{
	const char *more[2] = { "PASSERELLE_LIB_ROOT=/nonexistent/passerelle",
		NULL };
	char out[4096];

	ck_assert_int_eq(
	    run_with("serve", start_db, start_key, more, out, sizeof(out)), 1);
	ck_assert_msg(strstr(out, "PASSERELLE_LIB_ROOT") != NULL &&
	                  strstr(out, "/nonexistent/passerelle") != NULL,
	    "%s", out);
}
END_TEST

START_TEST(test_sigterm_stops_server_with_exit_0)
{
	struct harness_server srv;
	struct harness_resp r;

	ck_assert_int_eq(start_server(&srv, NULL), 0);
	ck_assert_int_eq(harness_http(&srv, "GET", "/healthz", NULL, NULL, &r),
	    200);
	harness_resp_free(&r);
	ck_assert_int_eq(harness_server_stop(&srv), 0);
	/* Nothing listens there any more. */
	ck_assert_int_eq(harness_http(&srv, "GET", "/healthz", NULL, NULL, &r),
	    0);
	harness_resp_free(&r);
}
END_TEST

START_TEST(test_keygen_writes_0600_32_bytes_and_never_overwrites)
{
	const char *args[] = { "keygen", "--out", NULL, NULL };
	char path[256], out[4096], before[64], after[64];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/new.key", start_dir);
	args[2] = path;
	ck_assert_msg(harness_run(NULL, args, out, sizeof(out)) == 0, "%s",
	    out);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_int_eq(st.st_size, 32);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(read(fd, before, sizeof(before)), 32);
	close(fd);

	ck_assert_int_eq(harness_run(NULL, args, out, sizeof(out)), 1);
	ck_assert_msg(strstr(out, "new.key") != NULL, "%s", out);
	fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(read(fd, after, sizeof(after)), 32);
	close(fd);
	ck_assert_mem_eq(before, after, 32);

	/* Two keys are never the same. */
	snprintf(path, sizeof(path), "%s/other.key", start_dir);
	ck_assert_int_eq(harness_run(NULL, args, out, sizeof(out)), 0);
	fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(read(fd, after, sizeof(after)), 32);
	close(fd);
	ck_assert_msg(memcmp(before, after, 32) != 0, "two equal keys");
}
END_TEST

/* ======================================================================
 * TCase "limits": connection limits, each with a server of its own.
 */

/*
 * A kept-alive connection on which the server answered GET /healthz: it
 * was accepted and counts against the limit. The server may still count a
 * connection the harness closed a moment ago (start-up probes), and then
 * refuse this one: try again for up to 3 s. Returns the socket or -1.
 */
static int
held_connection(const struct harness_server *srv)
{
	static const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
	double end = harness_now_s() + 3;
	char buf[4096];
	size_t used;
	ssize_t n;
	int fd;

	while (harness_now_s() < end) {
		if ((fd = harness_connect(srv)) < 0)
			return -1;
		used = 0;
		if (send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) ==
		    (ssize_t)sizeof(req) - 1) {
			struct timeval tv = { 2, 0 };

			setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
			    sizeof(tv));
			while (used < sizeof(buf) - 1 &&
			       (n = recv(fd, buf + used, sizeof(buf) - 1 - used,
			            0)) > 0) {
				used += (size_t)n;
				buf[used] = '\0';
				if (strstr(buf, "{\"status\":\"ok\"}") != NULL)
					return fd;
			}
		}
		close(fd);
		harness_sleep_ms(100);
	}
	return -1;
}

START_TEST(test_per_ip_connection_limit_refuses_the_fifth)
{
	struct harness_server srv;
	struct harness_resp r;
	int fds[4], i;
	long st = 0;
	double end;

	ck_assert_int_eq(start_server(&srv, "PASSERELLE_PER_IP_CONNECTIONS=4"),
	    0);
	for (i = 0; i < 4; i++) {
		fds[i] = held_connection(&srv);
		ck_assert_msg(fds[i] >= 0, "connection %d refused", i + 1);
	}
	harness_http(&srv, "GET", "/healthz", NULL, NULL, &r);
	ck_assert_msg(r.status == 0 || r.status == 503,
	    "the fifth connection got %ld", r.status);
	harness_resp_free(&r);
	for (i = 0; i < 4; i++)
		close(fds[i]);
	for (end = harness_now_s() + 5; harness_now_s() < end;
	     harness_sleep_ms(50)) {
		st = harness_http(&srv, "GET", "/healthz", NULL, NULL, &r);
		harness_resp_free(&r);
		if (st == 200)
			break;
	}
	ck_assert_int_eq(st, 200);
	ck_assert_int_eq(harness_server_stop(&srv), 0);
}
END_TEST

START_TEST(test_idle_half_request_is_closed_after_timeout)
{
	static const char half[] = "GET /heal";
	struct harness_server srv;
	char out[1024];
	int closed;
	double t0, took;

	ck_assert_int_eq(start_server(&srv, "PASSERELLE_CONNECTION_TIMEOUT=1"),
	    0);
	t0 = harness_now_s();
	ck_assert_int_ge(harness_raw_ex(&srv, half, sizeof(half) - 1, out,
	                     sizeof(out), 6000, &closed),
	    0);
	took = harness_now_s() - t0;
	ck_assert_msg(closed, "still open after %.1f s", took);
	ck_assert_msg(took < 3.5, "closed after %.1f s", took);
	ck_assert_msg(took > 0.5, "closed at once (%.2f s), not by the timeout",
	    took);
	ck_assert_int_eq(harness_server_stop(&srv), 0);
}
END_TEST

/* ======================================================================
 * TCase "readiness": stops the cluster, so it runs last. The unchecked
 * teardown (in the parent process, whatever the test did) starts it again.
 */

static struct harness_server ready_srv;
static char *ready_db;

static void
ready_setup(void)
{
	ready_db = harness_db_create();
	ck_assert_msg(ready_db != NULL, "cannot create a database");
	if (harness_server_start(&ready_srv, ready_db, NULL) != 0) {
		harness_db_drop(ready_db);
		ready_db = NULL;
		ck_abort_msg("cannot start the server");
	}
}

static void
ready_teardown(void)
{
	double end = harness_now_s() + 30;

	if (!harness_db_reachable() && harness_pg_start_cmd() != NULL) {
		fprintf(stderr, "itest_http: starting the cluster again\n");
		(void)harness_shell(harness_pg_start_cmd());
	}
	while (!harness_db_reachable() && harness_now_s() < end)
		harness_sleep_ms(100);
	(void)harness_server_stop(&ready_srv);
	harness_db_drop(ready_db);
	ready_db = NULL;
}

START_TEST(test_readyz_follows_the_database_without_restart)
{
	struct harness_resp r;
	long st = 0;
	double end;

	if (harness_pg_stop_cmd() == NULL || harness_pg_start_cmd() == NULL) {
		printf("itest_http: PASSERELLE_TEST_PG_STOP/START unset: "
		       "skipping the readiness test\n");
		return;
	}
	ck_assert_int_eq(
	    harness_http(&ready_srv, "GET", "/readyz", NULL, NULL, &r), 200);
	harness_resp_free(&r);

	ck_assert_int_eq(harness_shell(harness_pg_stop_cmd()), 0);
	harness_http(&ready_srv, "GET", "/readyz", NULL, NULL, &r);
	ck_assert_error(&r, 503, "database_unavailable");
	ck_assert_ptr_nonnull(harness_resp_header(&r, "Retry-After"));
	harness_resp_free(&r);
	ck_assert_int_eq(
	    harness_http(&ready_srv, "GET", "/healthz", NULL, NULL, &r), 200);
	harness_resp_free(&r);

	ck_assert_int_eq(harness_shell(harness_pg_start_cmd()), 0);
	for (end = harness_now_s() + 10; harness_now_s() < end;
	     harness_sleep_ms(100)) {
		st = harness_http(&ready_srv, "GET", "/readyz", NULL, NULL, &r);
		harness_resp_free(&r);
		if (st == 200)
			break;
	}
	ck_assert_int_eq(st, 200);
}
END_TEST

static Suite *
http_suite(void)
{
	Suite *s = suite_create("http");
	TCase *tc;

	tc = tcase_create("api");
	tcase_add_unchecked_fixture(tc, api_setup, api_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_healthz_answers_status_ok);
	tcase_add_test(tc, test_readyz_answers_200_with_database_up);
	tcase_add_test(tc, test_head_healthz_answers_200_without_body);
	tcase_add_test(tc,
	    test_metrics_count_healthz_and_show_histogram_and_pool);
	tcase_add_loop_test(tc,
	    test_api_answers_carry_security_headers_and_no_store, 0,
	    (int)(sizeof(api_answers) / sizeof(api_answers[0])));
	tcase_add_test(tc, test_static_index_is_served_as_html);
	tcase_add_test(tc, test_static_files_carry_security_headers_and_etag);
	tcase_add_test(tc, test_static_files_are_not_no_store);
	tcase_add_test(tc, test_static_if_none_match_gives_304);
	tcase_add_loop_test(tc, test_lib_files_come_from_the_installed_package,
	    0, (int)(sizeof(lib_files) / sizeof(lib_files[0])));
	tcase_add_loop_test(tc, test_lib_serves_only_its_list, 0,
	    (int)(sizeof(lib_refused) / sizeof(lib_refused[0])));
	tcase_add_test(tc, test_unknown_api_path_is_404_in_french_then_english);
	tcase_add_test(tc, test_24_kib_of_request_headers_get_their_answer);
	tcase_add_test(tc, test_post_healthz_is_405_with_allow);
	tcase_add_loop_test(tc, test_unknown_methods_are_405, 0,
	    (int)(sizeof(odd_methods) / sizeof(odd_methods[0])));
	tcase_add_loop_test(tc, test_traversal_out_of_web_root_is_404, 0,
	    (int)(sizeof(escapes_src) / sizeof(escapes_src[0])));
	tcase_add_test(tc, test_two_content_lengths_are_400_and_close);
	tcase_add_test(tc, test_content_length_and_chunked_are_400_and_close);
	tcase_add_test(tc, test_body_on_get_healthz_is_400);
	suite_add_tcase(s, tc);

	tc = tcase_create("static_root");
	tcase_add_unchecked_fixture(tc, root_setup, root_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_own_root_serves_its_files);
	tcase_add_loop_test(tc, test_own_root_refuses_escapes_with_404, 0,
	    (int)(sizeof(escapes_own) / sizeof(escapes_own[0])));
	suite_add_tcase(s, tc);

	tc = tcase_create("body");
	tcase_add_unchecked_fixture(tc, body_setup, body_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_body_declared_too_large_is_413_before_upload);
	tcase_add_test(tc, test_chunked_body_past_limit_is_413_or_closed);
	tcase_add_test(tc, test_unknown_transfer_coding_is_400_and_close);
	tcase_add_test(tc, test_space_before_colon_is_400_and_close);
	tcase_add_loop_test(tc, test_session_body_is_refused, 0,
	    (int)(sizeof(bad_bodies) / sizeof(bad_bodies[0])));
	tcase_add_test(tc, test_session_body_nested_100_deep_is_400);
	suite_add_tcase(s, tc);

	tc = tcase_create("startup");
	tcase_add_unchecked_fixture(tc, start_setup, start_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_migrate_twice_is_idempotent);
	tcase_add_test(tc, test_edited_migration_stops_migrate_and_serve);
	tcase_add_test(tc, test_newer_schema_stops_serve);
	tcase_add_test(tc, test_empty_database_stops_serve_asking_for_migrate);
	tcase_add_loop_test(tc, test_serve_refuses_bad_key_file_naming_it, 0,
	    (int)(sizeof(bad_keys) / sizeof(bad_keys[0])));
	tcase_add_test(tc, test_serve_names_unset_database_url);
	tcase_add_test(tc, test_serve_names_unset_key_file);
	tcase_add_test(tc, test_serve_names_a_lib_root_it_cannot_open);
	tcase_add_loop_test(tc, test_serve_names_out_of_bounds_setting, 0,
	    (int)(sizeof(bad_settings) / sizeof(bad_settings[0])));
	tcase_add_test(tc, test_sigterm_stops_server_with_exit_0);
	tcase_add_test(tc,
	    test_keygen_writes_0600_32_bytes_and_never_overwrites);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_unchecked_fixture(tc, start_setup, start_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_per_ip_connection_limit_refuses_the_fifth);
	tcase_add_test(tc, test_idle_half_request_is_closed_after_timeout);
	suite_add_tcase(s, tc);

	tc = tcase_create("readiness");
	tcase_add_unchecked_fixture(tc, ready_setup, ready_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_readyz_follows_the_database_without_restart);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return harness_run_suite("itest_http", http_suite);
}
