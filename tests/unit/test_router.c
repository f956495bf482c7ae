/*
 * The router: matching on a table of its own (parameters, methods, Allow
 * text, refused paths), the application's table, the known methods and the
 * decoding of one path segment.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "http/internal.h"

static enum pa_err
h_dummy(struct req *r)
{
	(void)r;
	return PA_OK;
}

static const struct route tab[] = {
	{ .method = "GET", .pattern = "/api/v1/cases", .fn = h_dummy },
	{ .method = "POST", .pattern = "/api/v1/cases", .fn = h_dummy },
	{ .method = "GET", .pattern = "/api/v1/cases/{id}", .fn = h_dummy },
	{ .method = "PATCH", .pattern = "/api/v1/cases/{id}", .fn = h_dummy },
	{ .method = "DELETE",
	    .pattern = "/api/v1/cases/{id}/consents/{cid}",
	    .fn = h_dummy },
	{ .method = "POST",
	    .pattern = "/api/v1/cases/{id}/notes",
	    .fn = h_dummy },
	{ .method = "PUT",
	    .pattern = "/api/v1/cases/{id}/justice",
	    .fn = h_dummy },
	{ .method = "POST", .pattern = "/api/v1/cases/search", .fn = h_dummy },
	{ .method = "GET", .pattern = "/healthz", .fn = h_dummy },
};
#define NTAB (sizeof(tab) / sizeof(tab[0]))

static const struct {
	const char *method;
	const char *path;
	enum router_match want;
	int route; /* index in tab when found */
	int nparams;
	const char *p0, *p1;
	const char *allow; /* for ROUTER_NO_METHOD */
} cases[] = {
	{ "GET", "/api/v1/cases", ROUTER_FOUND, 0, 0, NULL, NULL, NULL },
	{ "POST", "/api/v1/cases", ROUTER_FOUND, 1, 0, NULL, NULL, NULL },
	{ "HEAD", "/api/v1/cases", ROUTER_FOUND, 0, 0, NULL, NULL, NULL },
	{ "DELETE", "/api/v1/cases", ROUTER_NO_METHOD, -1, 0, NULL, NULL,
	    "GET, HEAD, POST" },
	{ "GET", "/api/v1/cases/abc", ROUTER_FOUND, 2, 1, "abc", NULL, NULL },
	{ "HEAD", "/api/v1/cases/abc", ROUTER_FOUND, 2, 1, "abc", NULL, NULL },
	{ "GET", "/api/v1/cases/a%20b", ROUTER_FOUND, 2, 1, "a b", NULL, NULL },
	{ "GET", "/api/v1/cases/%C3%A9t%c3%a9", ROUTER_FOUND, 2, 1,
	    "\xc3\xa9t\xc3\xa9", NULL, NULL },
	{ "GET", "/api/v1/cases/%252F", ROUTER_FOUND, 2, 1, "%2F", NULL, NULL },
	{ "PATCH", "/api/v1/cases/x", ROUTER_FOUND, 3, 1, "x", NULL, NULL },
	{ "POST", "/api/v1/cases/x", ROUTER_NO_METHOD, -1, 0, NULL, NULL,
	    "GET, HEAD, PATCH" },
	{ "DELETE", "/api/v1/cases/c1/consents/k2", ROUTER_FOUND, 4, 2, "c1",
	    "k2", NULL },
	{ "GET", "/api/v1/cases/c1/consents/k2", ROUTER_NO_METHOD, -1, 0, NULL,
	    NULL, "DELETE" },
	{ "HEAD", "/api/v1/cases/c1/notes", ROUTER_NO_METHOD, -1, 0, NULL, NULL,
	    "POST" },
	{ "PUT", "/api/v1/cases/c1/justice", ROUTER_FOUND, 6, 1, "c1", NULL,
	    NULL },
	/* A literal segment after a parameter route of another method. */
	{ "POST", "/api/v1/cases/search", ROUTER_FOUND, 7, 0, NULL, NULL,
	    NULL },
	{ "GET", "/healthz", ROUTER_FOUND, 8, 0, NULL, NULL, NULL },
	{ "HEAD", "/healthz", ROUTER_FOUND, 8, 0, NULL, NULL, NULL },
	{ "POST", "/healthz", ROUTER_NO_METHOD, -1, 0, NULL, NULL,
	    "GET, HEAD" },
	{ "get", "/healthz", ROUTER_NO_METHOD, -1, 0, NULL, NULL, "GET, HEAD" },
	/* Shapes that must not match. */
	{ "GET", "/healthz/", ROUTER_NO_PATH, -1, 0, NULL, NULL, NULL },
	{ "GET", "//healthz", ROUTER_NO_PATH, -1, 0, NULL, NULL, NULL },
	{ "GET", "/HEALTHZ", ROUTER_NO_PATH, -1, 0, NULL, NULL, NULL },
	{ "GET", "/healthzz", ROUTER_NO_PATH, -1, 0, NULL, NULL, NULL },
	{ "GET", "/health", ROUTER_NO_PATH, -1, 0, NULL, NULL, NULL },
	{ "GET", "/heal%74hz", ROUTER_NO_PATH, -1, 0, NULL, NULL, NULL },
	{ "GET", "/api/v1/cases/", ROUTER_NO_PATH, -1, 0, NULL, NULL, NULL },
	{ "GET", "/api/v1/cases/x/", ROUTER_NO_PATH, -1, 0, NULL, NULL, NULL },
	{ "GET", "/api/v1//cases", ROUTER_NO_PATH, -1, 0, NULL, NULL, NULL },
	{ "GET", "/api/v1/cases//x", ROUTER_NO_PATH, -1, 0, NULL, NULL, NULL },
	{ "DELETE", "/api/v1/cases/c1/consents/", ROUTER_NO_PATH, -1, 0, NULL,
	    NULL, NULL },
	{ "GET", "/api/v1/cases/a/b/c", ROUTER_NO_PATH, -1, 0, NULL, NULL,
	    NULL },
	{ "GET", "/", ROUTER_NO_PATH, -1, 0, NULL, NULL, NULL },
	{ "GET", "/nothing", ROUTER_NO_PATH, -1, 0, NULL, NULL, NULL },
	/* Parameters that cannot be decoded safely. */
	{ "GET", "/api/v1/cases/a%2Fb", ROUTER_BAD_PATH, -1, 0, NULL, NULL,
	    NULL },
	{ "GET", "/api/v1/cases/a%2fb", ROUTER_BAD_PATH, -1, 0, NULL, NULL,
	    NULL },
	{ "GET", "/api/v1/cases/%2F", ROUTER_BAD_PATH, -1, 0, NULL, NULL,
	    NULL },
	{ "GET", "/api/v1/cases/%00", ROUTER_BAD_PATH, -1, 0, NULL, NULL,
	    NULL },
	{ "GET", "/api/v1/cases/a%00.json", ROUTER_BAD_PATH, -1, 0, NULL, NULL,
	    NULL },
	{ "GET", "/api/v1/cases/a%5Cb", ROUTER_BAD_PATH, -1, 0, NULL, NULL,
	    NULL },
	{ "GET", "/api/v1/cases/a%5cb", ROUTER_BAD_PATH, -1, 0, NULL, NULL,
	    NULL },
	{ "GET", "/api/v1/cases/a\\b", ROUTER_BAD_PATH, -1, 0, NULL, NULL,
	    NULL },
	{ "GET", "/api/v1/cases/%zz", ROUTER_BAD_PATH, -1, 0, NULL, NULL,
	    NULL },
	{ "GET", "/api/v1/cases/%g1", ROUTER_BAD_PATH, -1, 0, NULL, NULL,
	    NULL },
	{ "GET", "/api/v1/cases/ab%", ROUTER_BAD_PATH, -1, 0, NULL, NULL,
	    NULL },
	{ "GET", "/api/v1/cases/ab%4", ROUTER_BAD_PATH, -1, 0, NULL, NULL,
	    NULL },
	{ "GET", "/api/v1/cases/%%41", ROUTER_BAD_PATH, -1, 0, NULL, NULL,
	    NULL },
	{ "PUT", "/api/v1/cases/%/justice", ROUTER_BAD_PATH, -1, 0, NULL, NULL,
	    NULL },
	{ "DELETE", "/api/v1/cases/ok/consents/a%2Fb", ROUTER_BAD_PATH, -1, 0,
	    NULL, NULL, NULL },
	{ "DELETE", "/api/v1/cases/a%2Fb/consents/ok", ROUTER_BAD_PATH, -1, 0,
	    NULL, NULL, NULL },
	/* Not a path at all. */
	{ "GET", "", ROUTER_BAD_PATH, -1, 0, NULL, NULL, NULL },
	{ "GET", "healthz", ROUTER_BAD_PATH, -1, 0, NULL, NULL, NULL },
	{ "GET", "*", ROUTER_BAD_PATH, -1, 0, NULL, NULL, NULL },
};

START_TEST(test_router_match_table)
{
	const struct route *out = &tab[0]; /* must be reset */
	const char *params[ROUTER_MAX_PARAMS] = { NULL };
	char buf[512], allow[64];
	enum router_match m;
	int np = -1;

	m = router_match(tab, NTAB, cases[_i].method, cases[_i].path, &out,
	    params, &np, buf, sizeof(buf), allow, sizeof(allow));
	ck_assert_msg(m == cases[_i].want, "%s %s: got %d, want %d",
	    cases[_i].method, cases[_i].path, (int)m, (int)cases[_i].want);
	if (m != ROUTER_FOUND) {
		ck_assert_msg(out == NULL, "%s %s: route set without a match",
		    cases[_i].method, cases[_i].path);
		ck_assert_int_eq(np, 0);
	}
	if (m == ROUTER_FOUND) {
		ck_assert_msg(out == &tab[cases[_i].route],
		    "%s %s: route %td, want %d", cases[_i].method,
		    cases[_i].path, out - tab, cases[_i].route);
		ck_assert_int_eq(np, cases[_i].nparams);
		if (cases[_i].nparams > 0)
			ck_assert_str_eq(params[0], cases[_i].p0);
		if (cases[_i].nparams > 1)
			ck_assert_str_eq(params[1], cases[_i].p1);
	}
	if (m == ROUTER_NO_METHOD)
		ck_assert_str_eq(allow, cases[_i].allow);
	else
		ck_assert_str_eq(allow, "");
}
END_TEST

START_TEST(test_router_rejects_over_long_path)
{
	const struct route *out;
	const char *params[ROUTER_MAX_PARAMS];
	char buf[512], allow[64], *path;
	int np;

	path = malloc(ROUTER_MAX_PATH + 2);
	ck_assert_ptr_nonnull(path);
	/* Exactly the limit: a path like any other (here unknown). */
	path[0] = '/';
	memset(path + 1, 'a', ROUTER_MAX_PATH - 1);
	path[ROUTER_MAX_PATH] = '\0';
	ck_assert_int_eq(router_match(tab, NTAB, "GET", path, &out, params, &np,
	                     buf, sizeof(buf), allow, sizeof(allow)),
	    ROUTER_NO_PATH);
	/* One byte more. */
	path[ROUTER_MAX_PATH] = 'a';
	path[ROUTER_MAX_PATH + 1] = '\0';
	ck_assert_int_eq(router_match(tab, NTAB, "GET", path, &out, params, &np,
	                     buf, sizeof(buf), allow, sizeof(allow)),
	    ROUTER_BAD_PATH);
	/* A long parameter under a known pattern. */
	memcpy(path, "/api/v1/cases/", 14);
	ck_assert_int_eq(router_match(tab, NTAB, "GET", path, &out, params, &np,
	                     buf, sizeof(buf), allow, sizeof(allow)),
	    ROUTER_BAD_PATH);
	ck_assert_int_eq(router_match(tab, NTAB, "GET", NULL, &out, params, &np,
	                     buf, sizeof(buf), allow, sizeof(allow)),
	    ROUTER_BAD_PATH);
	free(path);
}
END_TEST

START_TEST(test_router_parameters_that_overflow_buffer_are_bad_path)
{
	const struct route *out;
	const char *params[ROUTER_MAX_PARAMS];
	char buf[8], allow[64];
	int np;

	/* Seven bytes and the NUL fit; eight do not. */
	ck_assert_int_eq(router_match(tab, NTAB, "GET", "/api/v1/cases/1234567",
	                     &out, params, &np, buf, sizeof(buf), allow,
	                     sizeof(allow)),
	    ROUTER_FOUND);
	ck_assert_str_eq(params[0], "1234567");
	ck_assert_int_eq(router_match(tab, NTAB, "GET",
	                     "/api/v1/cases/12345678", &out, params, &np, buf,
	                     sizeof(buf), allow, sizeof(allow)),
	    ROUTER_BAD_PATH);
	/* The second parameter has no room left. */
	ck_assert_int_eq(router_match(tab, NTAB, "DELETE",
	                     "/api/v1/cases/123456/consents/x", &out, params,
	                     &np, buf, sizeof(buf), allow, sizeof(allow)),
	    ROUTER_BAD_PATH);
}
END_TEST

START_TEST(test_router_pattern_with_too_many_params_never_matches)
{
	static const struct route five[] = {
		{ .method = "GET",
		    .pattern = "/{a}/{b}/{c}/{d}/{e}",
		    .fn = h_dummy },
		{ .method = "GET",
		    .pattern = "/{a}/{b}/{c}/{d}",
		    .fn = h_dummy },
	};
	const struct route *out;
	const char *params[ROUTER_MAX_PARAMS];
	char buf[64], allow[64];
	int np;

	ck_assert_int_eq(router_match(five, 2, "GET", "/1/2/3/4/5", &out,
	                     params, &np, buf, sizeof(buf), allow,
	                     sizeof(allow)),
	    ROUTER_NO_PATH);
	ck_assert_int_eq(router_match(five, 2, "GET", "/1/2/3/4", &out, params,
	                     &np, buf, sizeof(buf), allow, sizeof(allow)),
	    ROUTER_FOUND);
	ck_assert_int_eq(np, 4);
	ck_assert_str_eq(params[0], "1");
	ck_assert_str_eq(params[3], "4");
}
END_TEST

START_TEST(test_router_app_table_health_routes)
{
	const struct route *out;
	const char *params[ROUTER_MAX_PARAMS];
	char buf[512], allow[64];
	int np;

	ck_assert_int_eq(router_match(http_routes, http_nroutes, "GET",
	                     "/healthz", &out, params, &np, buf, sizeof(buf),
	                     allow, sizeof(allow)),
	    ROUTER_FOUND);
	ck_assert_str_eq(out->pattern, "/healthz");
	ck_assert_int_eq(router_match(http_routes, http_nroutes, "HEAD",
	                     "/readyz", &out, params, &np, buf, sizeof(buf),
	                     allow, sizeof(allow)),
	    ROUTER_FOUND);
	ck_assert_str_eq(out->pattern, "/readyz");
	ck_assert_str_eq(out->method, "GET");
	ck_assert_int_eq(router_match(http_routes, http_nroutes, "GET",
	                     "/metrics", &out, params, &np, buf, sizeof(buf),
	                     allow, sizeof(allow)),
	    ROUTER_FOUND);
	ck_assert_int_eq(router_match(http_routes, http_nroutes, "POST",
	                     "/healthz", &out, params, &np, buf, sizeof(buf),
	                     allow, sizeof(allow)),
	    ROUTER_NO_METHOD);
	ck_assert_str_eq(allow, "GET, HEAD");
	ck_assert_int_eq(router_match(http_routes, http_nroutes, "GET",
	                     "/api/v1/nothing", &out, params, &np, buf,
	                     sizeof(buf), allow, sizeof(allow)),
	    ROUTER_NO_PATH);
	ck_assert_int_eq(router_match(http_routes, http_nroutes, "GET", "/",
	                     &out, params, &np, buf, sizeof(buf), allow,
	                     sizeof(allow)),
	    ROUTER_NO_PATH);
	ck_assert_int_eq(router_match(http_routes, http_nroutes, "GET",
	                     "/index.html", &out, params, &np, buf, sizeof(buf),
	                     allow, sizeof(allow)),
	    ROUTER_NO_PATH);
}
END_TEST

/* The pattern with each {x} as "p1", "p2"... */
static void
concrete(const char *pattern, char *out, size_t len)
{
	size_t o = 0;
	int n = 0;

	while (*pattern != '\0' && o + 4 < len) {
		if (*pattern == '{') {
			pattern += strcspn(pattern, "}");
			if (*pattern == '}')
				pattern++;
			o += (size_t)snprintf(out + o, len - o, "p%d", ++n);
			continue;
		}
		out[o++] = *pattern++;
	}
	out[o] = '\0';
}

START_TEST(test_router_every_app_route_is_reachable)
{
	const struct route *rt = &http_routes[_i], *out;
	const char *params[ROUTER_MAX_PARAMS];
	char path[ROUTER_MAX_PATH], buf[512], allow[64];
	int np;

	ck_assert_msg(router_method_known(rt->method), "%s %s: unknown method",
	    rt->method, rt->pattern);
	ck_assert_msg(rt->pattern[0] == '/', "%s: not absolute", rt->pattern);
	ck_assert_msg(rt->fn != NULL, "%s: no handler", rt->pattern);
	concrete(rt->pattern, path, sizeof(path));
	ck_assert_int_eq(router_match(http_routes, http_nroutes, rt->method,
	                     path, &out, params, &np, buf, sizeof(buf), allow,
	                     sizeof(allow)),
	    ROUTER_FOUND);
	ck_assert_msg(out == rt, "%s %s is shadowed by %s %s", rt->method,
	    rt->pattern, out->method, out->pattern);
}
END_TEST

START_TEST(test_router_every_app_body_route_lists_its_members)
{
	const struct route *rt = &http_routes[_i];

	if (strncmp(rt->pattern, "/api/", 5) == 0)
		ck_assert_msg(rt->flags & ROUTE_API, "%s %s lacks ROUTE_API",
		    rt->method, rt->pattern);
	if (rt->flags & ROUTE_BODY) {
		ck_assert_msg(rt->body != NULL,
		    "%s %s takes a body without a member list", rt->method,
		    rt->pattern);
		ck_assert_msg(strcmp(rt->method, "GET") != 0 &&
		                  strcmp(rt->method, "HEAD") != 0,
		    "%s %s: a body on a safe method", rt->method, rt->pattern);
	}
}
END_TEST

static const char *const known[] = { "GET", "HEAD", "POST", "PUT", "PATCH",
	"DELETE" };
static const char *const unknown[] = { "TRACE", "CONNECT", "OPTIONS", "BREW",
	"get", "Get", "", "GETX", "GE", "PROPFIND", "DELETE ", " GET" };

START_TEST(test_router_knows_six_methods)
{
	ck_assert_msg(router_method_known(known[_i]), "%s", known[_i]);
}
END_TEST

START_TEST(test_router_does_not_know_other_methods)
{
	ck_assert_msg(!router_method_known(unknown[_i]), "%s", unknown[_i]);
}
END_TEST

/* clang-format off */
static const struct {
	const char *in;
	size_t len; /* 0: strlen(in) */
	size_t outlen;
	const char *want; /* NULL: refused */
} segs[] = {
	{ "abc", 0, 64, "abc" },
	{ "", 0, 64, "" },
	{ "a%20b", 0, 64, "a b" },
	{ "%41%42", 0, 64, "AB" },
	{ "%c3%a9", 0, 64, "\xc3\xa9" },
	{ "%C3%A9", 0, 64, "\xc3\xa9" },
	{ "a+b", 0, 64, "a+b" },    /* no form decoding in paths */
	{ "%252F", 0, 64, "%2F" },  /* decoded once only */
	{ "%2e%2E", 0, 64, ".." },  /* the caller refuses dot segments */
	{ "abc%2F", 3, 64, "abc" }, /* len is honoured */
	{ "abc", 0, 4, "abc" },     /* exactly fits */
	{ "abc", 0, 3, NULL },      /* no room for the NUL */
	{ "%41", 0, 1, NULL },
	{ "%2F", 0, 64, NULL },
	{ "%2f", 0, 64, NULL },
	{ "a/b", 0, 64, NULL },
	{ "%5C", 0, 64, NULL },
	{ "%5c", 0, 64, NULL },
	{ "a\\b", 0, 64, NULL },
	{ "%00", 0, 64, NULL },
	{ "a\0b", 3, 64, NULL },
	{ "%zz", 0, 64, NULL },
	{ "%g0", 0, 64, NULL },
	{ "%0g", 0, 64, NULL },
	{ "%", 0, 64, NULL },
	{ "a%", 0, 64, NULL },
	{ "a%4", 0, 64, NULL },
	{ "%%41", 0, 64, NULL },
	{ "%41%2", 0, 64, NULL },
	{ "%4142", 3, 64, "A" },
	{ "%41", 2, 64, NULL }, /* the escape runs past len */
};
/* clang-format on */

START_TEST(test_router_segment_decode_table)
{
	char out[64];
	size_t len = segs[_i].len ? segs[_i].len : strlen(segs[_i].in);
	int rc;

	memset(out, 'X', sizeof(out));
	rc = router_segment_decode(segs[_i].in, len, out, segs[_i].outlen);
	/* Nothing is ever written past outlen. */
	if (segs[_i].outlen < sizeof(out))
		ck_assert_int_eq(out[segs[_i].outlen], 'X');
	if (segs[_i].want == NULL) {
		ck_assert_msg(rc != 0, "row %d (%s): accepted", _i,
		    segs[_i].in);
		return;
	}
	ck_assert_msg(rc == 0, "row %d (%s): refused", _i, segs[_i].in);
	ck_assert_str_eq(out, segs[_i].want);
}
END_TEST

static Suite *
router_suite(void)
{
	Suite *s = suite_create("router");
	TCase *tc;

	tc = tcase_create("match");
	tcase_add_loop_test(tc, test_router_match_table, 0,
	    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_router_rejects_over_long_path);
	tcase_add_test(tc,
	    test_router_parameters_that_overflow_buffer_are_bad_path);
	tcase_add_test(tc,
	    test_router_pattern_with_too_many_params_never_matches);
	suite_add_tcase(s, tc);

	tc = tcase_create("routes");
	tcase_add_test(tc, test_router_app_table_health_routes);
	tcase_add_loop_test(tc, test_router_every_app_route_is_reachable, 0,
	    (int)http_nroutes);
	tcase_add_loop_test(tc,
	    test_router_every_app_body_route_lists_its_members, 0,
	    (int)http_nroutes);
	suite_add_tcase(s, tc);

	tc = tcase_create("methods");
	tcase_add_loop_test(tc, test_router_knows_six_methods, 0,
	    (int)(sizeof(known) / sizeof(known[0])));
	tcase_add_loop_test(tc, test_router_does_not_know_other_methods, 0,
	    (int)(sizeof(unknown) / sizeof(unknown[0])));
	suite_add_tcase(s, tc);

	tc = tcase_create("segment");
	tcase_add_loop_test(tc, test_router_segment_decode_table, 0,
	    (int)(sizeof(segs) / sizeof(segs[0])));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(router_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
