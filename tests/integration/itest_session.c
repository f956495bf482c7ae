/*
 * GET /api/v1/session, against a real server and a real PostgreSQL with the
 * demo data: a reloaded page (its tab kept the CSRF token) gets its token
 * and user again, exactly as sign-in answered them. The cookie alone, or
 * with another session's token, gets 403 and no token: a browser left open
 * gives the next person nothing. The token is accepted for a write and is
 * bound to its own session; no session, a made-up one or a session ended by
 * logout get 401; a request that says it comes from another site gets 403
 * and no token; the answer is never cached.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <jansson.h>

#include "harness.h"
#include "world.h"

static struct env se;

static void
se_setup(void)
{
	env_start(&se);
}

static void
se_teardown(void)
{
	env_stop(&se);
}

/* GET /api/v1/session with the session token (NULL: no cookie), its CSRF
 * token (NULL: none), and one more header (may be NULL). */
static struct res
session_get(const char *token, const char *csrf, const char *extra)
{
	char cookie[160], tok[160];
	const char *h[4];
	size_t n = 0;
	struct res x;

	if (token != NULL) {
		snprintf(cookie, sizeof(cookie),
		    "Cookie: passerelle_session=%s", token);
		h[n++] = cookie;
	}
	if (csrf != NULL) {
		snprintf(tok, sizeof(tok), "X-CSRF-Token: %s", csrf);
		h[n++] = tok;
	}
	if (extra != NULL)
		h[n++] = extra;
	h[n] = NULL;
	memset(&x, 0, sizeof(x));
	x.st = harness_http(&se.srv, "GET", "/api/v1/session", h, NULL, &x.r);
	x.body = x.r.body ? x.r.body : "";
	x.len = x.r.body ? x.r.body_len : 0;
	x.j = harness_json(&x.r);
	return x;
}

/* POST /api/v1/cases with this session's cookie and this CSRF token. */
static struct res
create_case(const char *token, const char *csrf)
{
	char cookie[160], tok[160];
	const char *h[4];
	struct res x;

	snprintf(cookie, sizeof(cookie), "Cookie: passerelle_session=%s",
	    token);
	snprintf(tok, sizeof(tok), "X-CSRF-Token: %s", csrf);
	h[0] = cookie;
	h[1] = tok;
	h[2] = "Content-Type: application/json";
	h[3] = NULL;
	memset(&x, 0, sizeof(x));
	x.st = harness_http(&se.srv, "POST", "/api/v1/cases", h,
	    "{\"victim\":{\"sex\":\"female\",\"age_estimate\":30},"
	    "\"identification\":{\"date\":\"2026-02-01\",\"region\":"
	    "\"bamako\",\"exploitation_types\":[\"forced_labour\"]}}",
	    &x.r);
	x.body = x.r.body ? x.r.body : "";
	x.j = harness_json(&x.r);
	return x;
}

static long
ncases(void)
{
	return sqln(se.db, "SELECT count(*) FROM cases", NULL, NULL);
}

START_TEST(test_the_session_answers_as_sign_in_did)
{
	struct sess s;
	struct res x, me;
	const char *cc;

	login_ok(&se.srv, "police.agent", &s);
	x = session_get(s.token, s.csrf, NULL);
	EXPECT(x, 200, "GET /api/v1/session");
	ck_assert_str_eq(jstr(x.j, "csrf_token"), s.csrf);
	ck_assert_str_eq(jstr(x.j, "user.id"), s.user_id);
	ck_assert_str_eq(jstr(x.j, "user.username"), "police.agent");
	ck_assert_str_eq(jstr(x.j, "user.organisation.id"), s.org_id);
	ck_assert_str_eq(jstr(x.j, "user.role"), "caseworker");
	ck_assert_uint_eq(json_object_size(x.j), 2);
	/* The user object is the one GET /api/v1/me answers. */
	me = call(&se.srv, &s, "GET", "/api/v1/me", NULL);
	EXPECT(me, 200, "GET /api/v1/me");
	ck_assert_msg(json_equal(json_object_get(x.j, "user"), me.j),
	    "user differs: %s / %s", x.body, me.body);
	cc = harness_resp_header(&x.r, "Cache-Control");
	ck_assert_msg(cc != NULL && strstr(cc, "no-store") != NULL,
	    "Cache-Control: %s", cc ? cc : "(none)");
	ck_assert_ptr_nonnull(strstr(harness_resp_header(&x.r,
	    "Content-Type"), "application/json"));
	/* It sets no cookie: the session stays the one it was. */
	ck_assert_ptr_null(harness_resp_header(&x.r, "Set-Cookie"));
	res_free(&me);
	res_free(&x);
}
END_TEST

START_TEST(test_its_token_writes_and_no_other_session_s_does)
{
	struct sess a, a2, b;
	struct res x, y, z;
	char t_a[96], t_a2[96], t_b[96];
	long before;

	login_ok(&se.srv, "police.agent", &a);
	login_ok(&se.srv, "police.agent", &a2);	/* same account, other tab */
	login_ok(&se.srv, "ong.agent", &b);
	x = session_get(a.token, a.csrf, NULL);
	y = session_get(a2.token, a2.csrf, NULL);
	z = session_get(b.token, b.csrf, NULL);
	EXPECT(x, 200, "session a");
	EXPECT(y, 200, "session a2");
	EXPECT(z, 200, "session b");
	snprintf(t_a, sizeof(t_a), "%s", jstr(x.j, "csrf_token"));
	snprintf(t_a2, sizeof(t_a2), "%s", jstr(y.j, "csrf_token"));
	snprintf(t_b, sizeof(t_b), "%s", jstr(z.j, "csrf_token"));
	res_free(&x);
	res_free(&y);
	res_free(&z);
	ck_assert_uint_eq(strlen(t_a), 43);
	ck_assert_str_ne(t_a, t_a2);
	ck_assert_str_ne(t_a, t_b);

	/* Another session's token, even of the same account: refused. */
	before = ncases();
	x = create_case(a.token, t_a2);
	ck_assert_error(&x.r, 403, "forbidden");
	res_free(&x);
	x = create_case(a.token, t_b);
	ck_assert_error(&x.r, 403, "forbidden");
	res_free(&x);
	ck_assert_int_eq(ncases(), before);

	/* Its own: the write is done. */
	x = create_case(a.token, t_a);
	EXPECT(x, 201, "write with the token GET /api/v1/session gave");
	ck_assert_int_eq(ncases(), before + 1);
	res_free(&x);
}
END_TEST

START_TEST(test_the_cookie_alone_gets_no_token)
{
	struct sess s, other;
	struct res x;

	login_ok(&se.srv, "police.agent", &s);
	login_ok(&se.srv, "police.chef", &other);
	/* A new tab, or the next person at a browser left open: 403. */
	x = session_get(s.token, NULL, NULL);
	ck_assert_error(&x.r, 403, "forbidden");
	ck_assert_ptr_null(strstr(x.body, s.csrf));
	res_free(&x);
	x = session_get(s.token, other.csrf, NULL);
	ck_assert_error(&x.r, 403, "forbidden");
	ck_assert_ptr_null(strstr(x.body, s.csrf));
	res_free(&x);
	/* The session itself is untouched. */
	x = session_get(s.token, s.csrf, NULL);
	EXPECT(x, 200, "with its own token");
	res_free(&x);
}
END_TEST

START_TEST(test_no_session_is_401)
{
	struct res x;

	x = session_get(NULL, NULL, NULL);
	ck_assert_error(&x.r, 401, "unauthenticated");
	res_free(&x);
	/* A token of the right shape that no login gave. */
	x = session_get("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL,
	    NULL);
	ck_assert_error(&x.r, 401, "unauthenticated");
	ck_assert_ptr_null(strstr(x.body, "csrf_token"));
	res_free(&x);
}
END_TEST

START_TEST(test_after_logout_it_is_401)
{
	struct sess s;
	struct res x;

	login_ok(&se.srv, "refuge.bamako", &s);
	x = session_get(s.token, s.csrf, NULL);
	EXPECT(x, 200, "before logout");
	res_free(&x);
	x = call(&se.srv, &s, "DELETE", "/api/v1/session", NULL);
	EXPECT(x, 204, "logout");
	res_free(&x);
	x = session_get(s.token, s.csrf, NULL);
	ck_assert_error(&x.r, 401, "unauthenticated");
	ck_assert_ptr_null(strstr(x.body, s.csrf));
	res_free(&x);
}
END_TEST

START_TEST(test_another_site_gets_no_token)
{
	static const char *const refused[] = {
		"Origin: http://evil.example",
		"Origin: null",
		"Sec-Fetch-Site: cross-site",
		"Sec-Fetch-Site: same-site",
	};
	char origin[160];
	struct sess s;
	struct res x;
	size_t i;

	login_ok(&se.srv, "police.agent", &s);
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		x = session_get(s.token, s.csrf, refused[i]);
		ck_assert_msg(x.st == 403, "%s: %ld", refused[i], x.st);
		ck_assert_error(&x.r, 403, "forbidden");
		ck_assert_msg(strstr(x.body, s.csrf) == NULL,
		    "%s: the token came back", refused[i]);
		res_free(&x);
	}
	/* What the application's own fetch() sends is welcome. */
	x = session_get(s.token, s.csrf, "Sec-Fetch-Site: same-origin");
	EXPECT(x, 200, "Sec-Fetch-Site: same-origin");
	ck_assert_str_eq(jstr(x.j, "csrf_token"), s.csrf);
	res_free(&x);
	snprintf(origin, sizeof(origin), "Origin: %s", se.srv.url);
	x = session_get(s.token, s.csrf, origin);
	EXPECT(x, 200, "the server's own origin");
	res_free(&x);
}
END_TEST

static Suite *
session_suite(void)
{
	Suite *s = suite_create("session");
	TCase *tc = tcase_create("session_get");

	tcase_add_unchecked_fixture(tc, se_setup, se_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_the_session_answers_as_sign_in_did);
	tcase_add_test(tc, test_its_token_writes_and_no_other_session_s_does);
	tcase_add_test(tc, test_the_cookie_alone_gets_no_token);
	tcase_add_test(tc, test_no_session_is_401);
	tcase_add_test(tc, test_after_logout_it_is_401);
	tcase_add_test(tc, test_another_site_gets_no_token);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return harness_run_suite("itest_session", session_suite);
}
