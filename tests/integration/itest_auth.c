/*
 * Accounts, sessions, access control and the audit trail, against a real
 * server and a real PostgreSQL with the demo data (`passerelle seed --demo`):
 * logins that answer and cost alike, cookies, CSRF and cross-site writes,
 * throttling shared by two servers, idle and absolute expiry, logout,
 * deactivation and password changes ending sessions everywhere, the role
 * table for every demo account, what a pg_dump holds, the hash-chained
 * audit trail (tampering, refusing changes, concurrent appends).
 *
 * Most tests run on a database and server of their own (a checked fixture
 * in the forked test), so that accounts they change do not leak into the
 * next; the role table shares one server across its rows.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "harness.h"
#include "world.h"

/* ======================================================================
 * Helpers of this suite (the shared ones are in world.h).
 */

/* A request with exactly these headers (NULL-terminated), no session. */
static struct res
raw_call(const struct harness_server *srv, const char *const *headers,
    const char *method, const char *path, const char *body)
{
	struct res x;

	memset(&x, 0, sizeof(x));
	x.st = harness_http(srv, method, path, headers, body, &x.r);
	x.body = x.r.body ? x.r.body : "";
	x.j = harness_json(&x.r);
	return x;
}

static const char *
session_set_cookie(const struct harness_resp *r)
{
	const char *v;
	size_t i;

	for (i = 0; (v = harness_resp_header_n(r, "Set-Cookie", i)) != NULL;
	     i++)
		if (strncmp(v, "passerelle_session=", 19) == 0)
			return v;
	return NULL;
}

/* Does the cookie header carry attribute attr (any case, exact)? */
static int
cookie_has(const char *cookie, const char *attr)
{
	const char *p = cookie;
	size_t n = strlen(attr);

	while ((p = strchr(p, ';')) != NULL) {
		p++;
		while (*p == ' ')
			p++;
		if (strncasecmp(p, attr, n) == 0 &&
		    (p[n] == ';' || p[n] == '\0' || p[n] == '='))
			return 1;
	}
	return 0;
}

static struct res
post_login(const struct harness_server *srv, const char *user, const char *pw)
{
	return callj(srv, NULL, "POST", "/api/v1/session",
	    json_pack("{s:s, s:s}", "username", user, "password", pw));
}

/* A minimal valid case for the SOP of Mali (no identity). */
static json_t *
minimal_case(void)
{
	char d[11];

	today(d);
	return json_pack("{s:{s:s}, s:{s:s, s:s, s:[s]}}", "victim", "sex",
	    "female", "identification", "date", d, "region", "bamako",
	    "exploitation_types", "forced_labour");
}

/* ======================================================================
 * TCase "login_cost": the default Argon2 cost, on a server of its own.
 */

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

START_TEST(test_login_failures_answer_alike_and_cost_alike)
{
	double tu[5], tw[5], t0, mu, mw, ratio;
	char first[1024] = "";
	struct res x;
	struct env e;
	int i;

	env_start_ex(&e, 0, NULL, NULL); /* default cost, seeded with it */
	x = post_login(&e.srv, "police.chef", "Echauffement-2026-x");
	EXPECT(x, 401, "warm-up");
	res_free(&x);
	for (i = 0; i < 5; i++) {
		char name[64];

		snprintf(name, sizeof(name), "personne.inconnue%d", i);
		t0 = harness_now_s();
		x = post_login(&e.srv, name, "Mauvais-mot-de-passe-1");
		tu[i] = harness_now_s() - t0;
		EXPECT(x, 401, "unknown user");
		ck_assert_error(&x.r, 401, "unauthenticated");
		if (first[0] == '\0')
			snprintf(first, sizeof(first), "%s", x.body);
		ck_assert_str_eq(x.body, first);
		res_free(&x);

		t0 = harness_now_s();
		x = post_login(&e.srv, "police.agent",
		    "Mauvais-mot-de-passe-1");
		tw[i] = harness_now_s() - t0;
		EXPECT(x, 401, "wrong password");
		ck_assert_error(&x.r, 401, "unauthenticated");
		/* Same status, code and message: the very same body. */
		ck_assert_str_eq(x.body, first);
		ck_assert_ptr_null(session_set_cookie(&x.r));
		res_free(&x);
	}
	qsort(tu, 5, sizeof(tu[0]), cmp_double);
	qsort(tw, 5, sizeof(tw[0]), cmp_double);
	mu = tu[2];
	mw = tw[2];
	ratio = mu / mw;
	printf("itest_auth: login timing at the default Argon2 cost: unknown "
	       "user median %.1f ms (%.1f..%.1f), wrong password median "
	       "%.1f ms (%.1f..%.1f), ratio %.2f\n",
	    mu * 1000, tu[0] * 1000, tu[4] * 1000, mw * 1000, tw[0] * 1000,
	    tw[4] * 1000, ratio);
	fflush(stdout);
	/* A real hash runs on both paths (64 MiB, 3 passes). */
	ck_assert_msg(mw > 0.02 && mu > 0.02,
	    "logins too fast for Argon2 at the default cost: %.1f / %.1f ms",
	    mu * 1000, mw * 1000);
	ck_assert_msg(ratio >= 0.5 && ratio <= 2.0,
	    "unknown user %.1f ms vs wrong password %.1f ms (ratio %.2f)",
	    mu * 1000, mw * 1000, ratio);
	env_stop(&e);
}
END_TEST

/*
 * Accounts whose hash was made at another cost (seeded before the cost was
 * raised, and not logged in since: hashes are redone only at a successful
 * login) must not answer faster than unknown names.
 */
START_TEST(test_an_account_hashed_at_an_older_cost_does_not_stand_out)
{
	double tu[5], tw[5], t0, ratio;
	struct harness_server srv;
	struct res x;
	struct env e;
	int i;

	env_start_ex(&e, 1, NULL, NULL); /* seeded at the cheap cost */
	ck_assert_int_eq(harness_server_stop(&e.srv), 0);
	e.fast = 0; /* then served at the default cost */
	ck_assert_int_eq(env_server(&e, &srv, NULL, NULL), 0);
	x = post_login(&srv, "police.chef", "Echauffement-2026-x");
	res_free(&x);
	for (i = 0; i < 5; i++) {
		char name[64];

		snprintf(name, sizeof(name), "personne.absente%d", i);
		t0 = harness_now_s();
		x = post_login(&srv, name, "Mauvais-mot-de-passe-1");
		tu[i] = harness_now_s() - t0;
		EXPECT(x, 401, "unknown user");
		res_free(&x);
		t0 = harness_now_s();
		x = post_login(&srv, "ong.chef", "Mauvais-mot-de-passe-1");
		tw[i] = harness_now_s() - t0;
		EXPECT(x, 401, "wrong password");
		res_free(&x);
	}
	qsort(tu, 5, sizeof(tu[0]), cmp_double);
	qsort(tw, 5, sizeof(tw[0]), cmp_double);
	ratio = tu[2] / tw[2];
	printf("itest_auth: after a cost increase: unknown user median %.1f "
	       "ms, wrong password (old hash) median %.1f ms, ratio %.2f\n",
	    tu[2] * 1000, tw[2] * 1000, ratio);
	fflush(stdout);
	ck_assert_msg(ratio >= 0.5 && ratio <= 2.0,
	    "an account with an older hash answers in %.1f ms, an unknown "
	    "name in %.1f ms (ratio %.2f): the account's existence shows",
	    tw[2] * 1000, tu[2] * 1000, ratio);
	ck_assert_int_eq(harness_server_stop(&srv), 0);
	env_stop(&e);
}
END_TEST

/* ======================================================================
 * TCase "accounts": each test on a fresh database and server.
 */

static struct env acc;

static void
acc_setup(void)
{
	env_start(&acc);
}

static void
acc_teardown(void)
{
	env_stop(&acc);
}

START_TEST(test_each_login_gets_a_fresh_token_in_a_strict_cookie)
{
	char t1[96], t2[96], c1[96];
	const char *sc;
	struct res x;
	struct sess s;

	x = post_login(&acc.srv, "police.agent", DEMO_PW);
	EXPECT(x, 200, "login");
	sc = session_set_cookie(&x.r);
	ck_assert_msg(sc != NULL, "no session cookie");
	ck_assert_msg(cookie_has(sc, "HttpOnly"), "not HttpOnly: %s", sc);
	ck_assert_msg(cookie_has(sc, "SameSite=Strict"), "not Strict: %s", sc);
	ck_assert_msg(cookie_has(sc, "Path=/"), "no Path=/: %s", sc);
	/* A browser-session cookie: closing the browser forgets it. */
	ck_assert_msg(strstr(sc, "Max-Age") == NULL &&
	    strstr(sc, "Expires") == NULL, "a lasting cookie: %s", sc);
	ck_assert_msg(!cookie_has(sc, "Secure"),
	    "Secure over plain HTTP by default: %s", sc);
	ck_assert_int_eq(cookie_token(&x.r, t1, sizeof(t1)), 0);
	ck_assert_uint_eq(strlen(t1), 43);
	snprintf(c1, sizeof(c1), "%s", jstr(x.j, "csrf_token"));
	ck_assert_uint_ge(strlen(c1), 32);
	ck_assert_str_eq(jstr(x.j, "user.username"), "police.agent");
	ck_assert_str_eq(jstr(x.j, "user.role"), "caseworker");
	ck_assert_str_eq(jstr(x.j, "user.organisation.kind"), "police");
	res_free(&x);

	x = post_login(&acc.srv, "police.agent", DEMO_PW);
	EXPECT(x, 200, "second login");
	ck_assert_int_eq(cookie_token(&x.r, t2, sizeof(t2)), 0);
	ck_assert_msg(strcmp(t1, t2) != 0, "two logins, one token");
	ck_assert_msg(strcmp(c1, jstr(x.j, "csrf_token")) != 0,
	    "two logins, one CSRF token");
	memset(&s, 0, sizeof(s));
	snprintf(s.csrf, sizeof(s.csrf), "%s", jstr(x.j, "csrf_token"));
	res_free(&x);

	/* The new token is a session. */
	snprintf(s.token, sizeof(s.token), "%s", t2);
	x = call(&acc.srv, &s, "GET", "/api/v1/me", NULL);
	EXPECT(x, 200, "GET /me with the new token");
	ck_assert_str_eq(jstr(x.j, "username"), "police.agent");
	res_free(&x);
}
END_TEST

START_TEST(test_secure_cookies_setting_marks_the_cookie_secure)
{
	const char *more[] = { "PASSERELLE_SECURE_COOKIES=true", NULL };
	struct harness_server srv;
	const char *sc;
	struct res x;

	ck_assert_int_eq(env_server(&acc, &srv, NULL, more), 0);
	x = post_login(&srv, "police.agent", DEMO_PW);
	EXPECT(x, 200, "login");
	sc = session_set_cookie(&x.r);
	ck_assert_msg(sc != NULL, "no session cookie");
	ck_assert_msg(cookie_has(sc, "Secure"), "not Secure: %s", sc);
	ck_assert_msg(cookie_has(sc, "HttpOnly") &&
	                  cookie_has(sc, "SameSite=Strict"),
	    "%s", sc);
	res_free(&x);
	ck_assert_int_eq(harness_server_stop(&srv), 0);
}
END_TEST

START_TEST(test_a_cookie_planted_before_login_is_not_kept)
{
	static const char planted[] =
	    "Fx0AttackerChosenTokenValue_0123456789abcde";
	char cookie[128], fresh[96];
	const char *h[3];
	struct sess s;
	struct res x;

	ck_assert_uint_eq(strlen(planted), 43);
	snprintf(cookie, sizeof(cookie), "Cookie: passerelle_session=%s",
	    planted);
	h[0] = cookie;
	h[1] = "Content-Type: application/json";
	h[2] = NULL;
	x = raw_call(&acc.srv, h, "POST", "/api/v1/session",
	    "{\"username\":\"police.agent\",\"password\":\"" DEMO_PW "\"}");
	EXPECT(x, 200, "login with a planted cookie");
	ck_assert_int_eq(cookie_token(&x.r, fresh, sizeof(fresh)), 0);
	ck_assert_msg(strcmp(fresh, planted) != 0,
	    "the planted token was kept");
	memset(&s, 0, sizeof(s));
	ck_assert_ptr_nonnull(json_string_value(json_object_get(x.j,
	    "csrf_token")));
	snprintf(s.csrf, sizeof(s.csrf), "%s",
	    json_string_value(json_object_get(x.j, "csrf_token")));
	res_free(&x);

	snprintf(s.token, sizeof(s.token), "%s", planted);
	x = call(&acc.srv, &s, "GET", "/api/v1/me", NULL);
	ck_assert_error(&x.r, 401, "unauthenticated");
	res_free(&x);
	snprintf(s.token, sizeof(s.token), "%s", fresh);
	x = call(&acc.srv, &s, "GET", "/api/v1/me", NULL);
	EXPECT(x, 200, "the server's own token");
	res_free(&x);
}
END_TEST

START_TEST(test_requests_need_the_csrf_token_and_writes_the_same_site)
{
	char cookie[160], good[160], wrong[160], origin[160];
	struct sess s, other;
	const char *h[6];
	struct res x;

	login_ok(&acc.srv, "police.agent", &s);
	login_ok(&acc.srv, "police.chef", &other);
	snprintf(cookie, sizeof(cookie), "Cookie: passerelle_session=%s",
	    s.token);
	snprintf(good, sizeof(good), "X-CSRF-Token: %s", s.csrf);
	/* Another session's token is as wrong as a made-up one. */
	snprintf(wrong, sizeof(wrong), "X-CSRF-Token: %s", other.csrf);
	h[0] = cookie;
	h[1] = "Content-Type: application/json";

	h[2] = NULL;
	x = raw_call(&acc.srv, h, "POST", "/api/v1/cases/search", "{}");
	ck_assert_error(&x.r, 403, "forbidden");
	res_free(&x);

	h[2] = wrong;
	h[3] = NULL;
	x = raw_call(&acc.srv, h, "POST", "/api/v1/cases/search", "{}");
	ck_assert_error(&x.r, 403, "forbidden");
	res_free(&x);

	h[2] = "X-CSRF-Token: not-a-token";
	x = raw_call(&acc.srv, h, "POST", "/api/v1/cases/search", "{}");
	ck_assert_error(&x.r, 403, "forbidden");
	res_free(&x);

	h[2] = good;
	x = raw_call(&acc.srv, h, "POST", "/api/v1/cases/search", "{}");
	EXPECT(x, 200, "right CSRF token");
	res_free(&x);

	h[3] = "Origin: http://evil.example";
	h[4] = NULL;
	x = raw_call(&acc.srv, h, "POST", "/api/v1/cases/search", "{}");
	ck_assert_error(&x.r, 403, "forbidden");
	res_free(&x);

	h[3] = "Sec-Fetch-Site: cross-site";
	x = raw_call(&acc.srv, h, "POST", "/api/v1/cases/search", "{}");
	ck_assert_error(&x.r, 403, "forbidden");
	res_free(&x);

	/* The server's own origin is welcome. */
	snprintf(origin, sizeof(origin), "Origin: %s", acc.srv.url);
	h[3] = origin;
	x = raw_call(&acc.srv, h, "POST", "/api/v1/cases/search", "{}");
	EXPECT(x, 200, "same origin");
	res_free(&x);

	/* Reads need the token too: the cookie alone (a browser left open on
	 * a shared computer, an address typed by the next person) reaches
	 * nothing. */
	h[2] = NULL;
	h[3] = NULL;
	x = raw_call(&acc.srv, h, "GET", "/api/v1/cases", NULL);
	ck_assert_error(&x.r, 403, "forbidden");
	res_free(&x);
	x = raw_call(&acc.srv, h, "GET", "/api/v1/me", NULL);
	ck_assert_error(&x.r, 403, "forbidden");
	res_free(&x);
	h[2] = wrong;
	x = raw_call(&acc.srv, h, "GET", "/api/v1/cases", NULL);
	ck_assert_error(&x.r, 403, "forbidden");
	res_free(&x);
	h[2] = good;
	x = raw_call(&acc.srv, h, "GET", "/api/v1/cases", NULL);
	EXPECT(x, 200, "a read with its token");
	res_free(&x);

	/* The refused writes wrote nothing: logout still needs the token. */
	h[2] = NULL;
	x = raw_call(&acc.srv, h, "DELETE", "/api/v1/session", NULL);
	ck_assert_error(&x.r, 403, "forbidden");
	res_free(&x);
	x = call(&acc.srv, &s, "GET", "/api/v1/me", NULL);
	EXPECT(x, 200, "session alive after refused logout");
	res_free(&x);
}
END_TEST

START_TEST(test_idle_session_ends)
{
	struct sess s, other;
	struct res x;

	login_ok(&acc.srv, "police.agent", &s);
	login_ok(&acc.srv, "ong.agent", &other);
	x = call(&acc.srv, &s, "GET", "/api/v1/me", NULL);
	EXPECT(x, 200, "fresh session");
	res_free(&x);
	ck_assert_int_eq(harness_exec(acc.db,
	                     "UPDATE sessions SET last_seen = now() - "
	                     "interval '2 hours' WHERE user_id = (SELECT id "
	                     "FROM users WHERE username = 'police.agent')"),
	    0);
	x = call(&acc.srv, &s, "GET", "/api/v1/me", NULL);
	ck_assert_error(&x.r, 401, "unauthenticated");
	res_free(&x);
	/* Not every session: the other account's goes on. */
	x = call(&acc.srv, &other, "GET", "/api/v1/me", NULL);
	EXPECT(x, 200, "another user's session");
	res_free(&x);
}
END_TEST

START_TEST(test_absolute_lifetime_ends_session)
{
	struct sess s;
	struct res x;

	login_ok(&acc.srv, "police.agent", &s);
	ck_assert_int_eq(harness_exec(acc.db,
	                     "UPDATE sessions SET expires_at = now() - "
	                     "interval '1 second' WHERE user_id = (SELECT id "
	                     "FROM users WHERE username = 'police.agent')"),
	    0);
	x = call(&acc.srv, &s, "GET", "/api/v1/me", NULL);
	ck_assert_error(&x.r, 401, "unauthenticated");
	res_free(&x);
	/* A write is refused as well (the session is checked first). */
	x = call(&acc.srv, &s, "POST", "/api/v1/cases/search", "{}");
	ck_assert_error(&x.r, 401, "unauthenticated");
	res_free(&x);
}
END_TEST

/*
 * GET of a case checks its session in the case's own statement
 * (ROUTE_SESSION_IN_HANDLER): every answer must stay what the guard gives
 * every other request, and a refused read reads and records nothing.
 */
static long
reads_of(const char *case_id)
{
	return sqln(acc.db,
	    "SELECT count(*) FROM audit_log WHERE action = 'case.read' AND "
	    "resource_id = $1",
	    case_id, NULL);
}

/* A GET of path as s answers status with the error code (in French). */
static void
read_answers(const struct sess *s, const char *path, long status,
    const char *code)
{
	struct res x = call(&acc.srv, s, "GET", path, NULL);

	ck_assert_error(&x.r, status, code);
	res_free(&x);
}

START_TEST(test_the_case_read_checks_its_session_like_every_request)
{
	static const char nowhere[] = "0b6f3f7e-3c1e-4f57-9d7a-5a1b2c3d4e5f";
	/* The session dead: idle too long, past its lifetime, deactivated. */
	static const char *const dead[] = {
		"UPDATE sessions SET last_seen = now() - interval '2 hours' "
		"WHERE user_id = (SELECT id FROM users WHERE username = "
		"'police.agent')",
		"UPDATE sessions SET last_seen = now(), expires_at = now() - "
		"interval '1 second' WHERE user_id = (SELECT id FROM users "
		"WHERE username = 'police.agent')",
		"UPDATE sessions SET expires_at = now() + interval '1 hour' "
		"WHERE user_id = (SELECT id FROM users WHERE username = "
		"'police.agent'); UPDATE users SET active = false WHERE "
		"username = 'police.agent'"
	};
	char id[40], path[128], seen[64], other_path[128], rec[512], want[512];
	struct sess s, bad, none, admin, stranger, chef;
	struct res x;
	size_t k;
	long n;
	json_t *body = minimal_case();

	login_ok(&acc.srv, "police.agent", &s);
	/* A name, so that every read of it is recorded. */
	json_object_set_new(json_object_get(body, "victim"), "given_name",
	    json_string("Awa"));
	x = callj(&acc.srv, &s, "POST", "/api/v1/cases", body);
	EXPECT(x, 201, "a case");
	snprintf(id, sizeof(id), "%s", jstr(x.j, "id"));
	res_free(&x);
	snprintf(path, sizeof(path), "/api/v1/cases/%s", id);
	snprintf(other_path, sizeof(other_path), "/api/v1/cases/%s", nowhere);

	/* Alive: read, recorded once as this caller, the idle clock moves. */
	ck_assert_int_eq(harness_exec(acc.db,
	                     "UPDATE sessions SET last_seen = now() - "
	                     "interval '5 minutes'"),
	    0);
	n = reads_of(id);
	x = call(&acc.srv, &s, "GET", path, NULL);
	EXPECT(x, 200, "read");
	ck_assert_str_eq(jstr(x.j, "id"), id);
	ck_assert_str_eq(jstr(x.j, "victim.given_name"), "Awa");
	res_free(&x);
	ck_assert_int_eq(reads_of(id), n + 1);
	sqlv(acc.db,
	    "SELECT user_id || ' ' || organisation_id || ' ' || address || "
	    "' ' || array_to_string(fields, ',') FROM audit_log WHERE "
	    "action = 'case.read' AND resource_id = $1 ORDER BY id DESC "
	    "LIMIT 1",
	    id, NULL, rec, sizeof(rec));
	snprintf(want, sizeof(want), "%s %s 127.0.0.1 victim.given_name",
	    s.user_id, s.org_id);
	ck_assert_str_eq(rec, want);
	sqlv(acc.db,
	    "SELECT (last_seen > now() - interval '1 minute')::text "
	    "FROM sessions WHERE user_id = $1",
	    s.user_id, NULL, seen, sizeof(seen));
	ck_assert_str_eq(seen, "true");
	read_answers(&s, other_path, 404, "not_found");
	read_answers(&s, "/api/v1/cases/not-a-case", 404, "not_found");

	/* Another field organisation: 404, as for no case at all. */
	n = reads_of(id);
	login_ok(&acc.srv, "ong.agent", &stranger);
	x = call(&acc.srv, &stranger, "GET", path, NULL);
	ck_assert_error(&x.r, 404, "not_found");
	{
		struct res y = call(&acc.srv, &stranger, "GET", other_path,
		    NULL);

		ck_assert_str_eq(x.body, y.body);
		res_free(&y);
	}
	res_free(&x);

	/* A wrong or missing CSRF token: 403, as everywhere. */
	bad = s;
	snprintf(bad.csrf, sizeof(bad.csrf), "%s", "x");
	read_answers(&bad, path, 403, "forbidden");
	none = s;
	none.csrf[0] = '\0';
	x = call_h(&acc.srv, &none, "GET", path, NULL, "Accept-Language: en");
	ck_assert_error(&x.r, 403, "forbidden");
	ck_assert_msg(strstr(x.body, "CSRF token") != NULL, "%s", x.body);
	res_free(&x);

	/* A pending password change: 403, in English when asked. */
	ck_assert_int_eq(harness_exec(acc.db,
	                     "UPDATE users SET must_change_password = true "
	                     "WHERE username = 'police.agent'"),
	    0);
	x = call(&acc.srv, &s, "GET", path, NULL);
	ck_assert_error(&x.r, 403, "forbidden");
	ck_assert_msg(strstr(x.body, "mot de passe") != NULL, "%s", x.body);
	res_free(&x);
	x = call_h(&acc.srv, &s, "GET", path, NULL, "Accept-Language: en");
	ck_assert_error(&x.r, 403, "forbidden");
	ck_assert_msg(strstr(x.body, "change your password") != NULL, "%s",
	    x.body);
	res_free(&x);
	ck_assert_int_eq(harness_exec(acc.db,
	                     "UPDATE users SET must_change_password = false "
	                     "WHERE username = 'police.agent'"),
	    0);

	/* A role that never reaches a case: 403, whatever the id, also in
	 * the case's own organisation (an auditor of the police). */
	login_ok(&acc.srv, "admin", &admin);
	read_answers(&admin, path, 403, "forbidden");
	read_answers(&admin, other_path, 403, "forbidden");
	login_ok(&acc.srv, "police.chef", &chef);
	ck_assert_int_eq(harness_exec(acc.db,
	                     "UPDATE users SET role = 'auditor' WHERE "
	                     "username = 'police.chef'"),
	    0);
	read_answers(&chef, path, 403, "forbidden");
	ck_assert_int_eq(harness_exec(acc.db,
	                     "UPDATE users SET role = 'supervisor' WHERE "
	                     "username = 'police.chef'"),
	    0);
	x = call(&acc.srv, &chef, "GET", path, NULL);
	EXPECT(x, 200, "the supervisor again");
	res_free(&x);
	ck_assert_int_eq(reads_of(id), n + 1);	/* the supervisor's only */

	/* Idle too long, past its lifetime, deactivated, ended: 401. */
	for (k = 0; k < sizeof(dead) / sizeof(dead[0]); k++) {
		ck_assert_int_eq(harness_exec(acc.db, dead[k]), 0);
		read_answers(&s, path, 401, "unauthenticated");
	}
	ck_assert_int_eq(harness_exec(acc.db,
	                     "UPDATE users SET active = true WHERE username = "
	                     "'police.agent'"),
	    0);
	x = call(&acc.srv, &s, "GET", path, NULL);
	EXPECT(x, 200, "read again");
	res_free(&x);
	x = call(&acc.srv, &s, "DELETE", "/api/v1/session", NULL);
	EXPECT(x, 204, "logout");
	res_free(&x);
	n = reads_of(id);
	read_answers(&s, path, 401, "unauthenticated");
	read_answers(&s, "/api/v1/cases/not-a-case", 401, "unauthenticated");
	read_answers(&bad, path, 401, "unauthenticated");
	/* With a body too: the session first, as on every route. */
	x = call(&acc.srv, &s, "GET", path, "{}");
	ck_assert_error(&x.r, 401, "unauthenticated");
	res_free(&x);
	ck_assert_int_eq(reads_of(id), n);
}
END_TEST

START_TEST(test_logout_ends_the_session_on_every_server)
{
	struct harness_server b;
	const char *sc;
	struct sess s;
	struct res x;

	ck_assert_int_eq(env_server(&acc, &b, NULL, NULL), 0);
	login_ok(&acc.srv, "police.agent", &s);
	x = call(&b, &s, "GET", "/api/v1/me", NULL);
	EXPECT(x, 200, "the session on the second server");
	res_free(&x);
	x = call(&acc.srv, &s, "DELETE", "/api/v1/session", NULL);
	EXPECT(x, 204, "logout");
	sc = session_set_cookie(&x.r);
	ck_assert_msg(sc != NULL && strstr(sc, "Max-Age=0") != NULL,
	    "logout does not clear the cookie: %s", sc ? sc : "(none)");
	res_free(&x);
	x = call(&acc.srv, &s, "GET", "/api/v1/me", NULL);
	ck_assert_error(&x.r, 401, "unauthenticated");
	res_free(&x);
	x = call(&b, &s, "GET", "/api/v1/me", NULL);
	ck_assert_error(&x.r, 401, "unauthenticated");
	res_free(&x);
	ck_assert_int_eq(sqln(acc.db,
	                     "SELECT count(*) FROM sessions s JOIN users u ON "
	                     "u.id = s.user_id WHERE u.username = $1",
	                     "police.agent", NULL),
	    0);
	ck_assert_int_eq(harness_server_stop(&b), 0);
}
END_TEST

START_TEST(test_deactivation_ends_sessions_and_refuses_login)
{
	struct sess admin, ong;
	char path[128], wrong[1024];
	struct res x;

	login_ok(&acc.srv, "admin", &admin);
	login_ok(&acc.srv, "ong.agent", &ong);
	x = post_login(&acc.srv, "ong.chef", "Pas-le-bon-2026");
	EXPECT(x, 401, "wrong password (reference answer)");
	snprintf(wrong, sizeof(wrong), "%s", x.body);
	res_free(&x);

	snprintf(path, sizeof(path), "/api/v1/users/%s", ong.user_id);
	x = callj(&acc.srv, &admin, "PATCH", path,
	    json_pack("{s:b}", "active", 0));
	EXPECT(x, 200, "deactivate");
	ck_assert(json_is_false(jpath(x.j, "active")));
	res_free(&x);

	x = call(&acc.srv, &ong, "GET", "/api/v1/me", NULL);
	ck_assert_error(&x.r, 401, "unauthenticated");
	res_free(&x);
	x = post_login(&acc.srv, "ong.agent", DEMO_PW);
	ck_assert_error(&x.r, 401, "unauthenticated");
	/* The right password of a deactivated account tells nothing more. */
	ck_assert_str_eq(x.body, wrong);
	res_free(&x);
}
END_TEST

#define NEW_PW "Kalanso-Nouveau-2026!"

START_TEST(test_password_change_ends_other_sessions)
{
	struct sess s1, s2, s3;
	struct res x;

	login_ok(&acc.srv, "police.agent", &s1);
	login_ok(&acc.srv, "police.agent", &s2);

	x = callj(&acc.srv, &s1, "POST", "/api/v1/me/password",
	    json_pack("{s:s, s:s}", "current", DEMO_PW, "new", "Abcdefgh-11"));
	ck_assert_error(&x.r, 422, "invalid");
	ck_assert_str_eq(jstr(x.j, "error.field"), "new");
	res_free(&x);
	x = callj(&acc.srv, &s1, "POST", "/api/v1/me/password",
	    json_pack("{s:s, s:s}", "current", DEMO_PW, "new",
	        "Mon-police.agent-2026"));
	ck_assert_error(&x.r, 422, "invalid");
	ck_assert_str_eq(jstr(x.j, "error.field"), "new");
	res_free(&x);
	x = callj(&acc.srv, &s1, "POST", "/api/v1/me/password",
	    json_pack("{s:s, s:s}", "current", "Pas-le-mot-actuel-1", "new",
	        NEW_PW));
	ck_assert_msg(x.st == 403 || x.st == 422, "wrong current: %ld", x.st);
	ck_assert_str_eq(jstr(x.j, "error.field"), "current");
	res_free(&x);
	/* Nothing changed so far: both sessions live, old password works. */
	x = call(&acc.srv, &s2, "GET", "/api/v1/me", NULL);
	EXPECT(x, 200, "other session before the change");
	res_free(&x);

	x = callj(&acc.srv, &s1, "POST", "/api/v1/me/password",
	    json_pack("{s:s, s:s}", "current", DEMO_PW, "new", NEW_PW));
	EXPECT(x, 204, "password change");
	res_free(&x);
	x = call(&acc.srv, &s2, "GET", "/api/v1/me", NULL);
	ck_assert_error(&x.r, 401, "unauthenticated");
	res_free(&x);
	x = call(&acc.srv, &s1, "GET", "/api/v1/me", NULL);
	EXPECT(x, 200, "this session goes on");
	res_free(&x);
	ck_assert_int_eq(login(&acc.srv, "police.agent", DEMO_PW, &s3), 401);
	ck_assert_int_eq(login(&acc.srv, "police.agent", NEW_PW, &s3), 200);
}
END_TEST

#define RESET_PW "Reinitialise-Ong-2026-77"

/*
 * The administration resets the password of an NGO caseworker: the
 * account waits for its supervisor's approval (README: two people for
 * access), then its owner must choose a password before anything else.
 */
START_TEST(test_admin_reset_forces_a_password_change)
{
	struct sess admin, chef, g, g2;
	char path[128];
	struct res x;

	login_ok(&acc.srv, "admin", &admin);
	login_ok(&acc.srv, "ong.chef", &chef);
	login_ok(&acc.srv, "ong.agent", &g);
	snprintf(path, sizeof(path), "/api/v1/users/%s", g.user_id);
	x = callj(&acc.srv, &admin, "PATCH", path,
	    json_pack("{s:s}", "password", RESET_PW));
	EXPECT(x, 200, "reset");
	ck_assert(json_is_true(jpath(x.j, "must_change_password")));
	res_free(&x);
	/* The old session ended with the reset. */
	x = call(&acc.srv, &g, "GET", "/api/v1/me", NULL);
	ck_assert_error(&x.r, 401, "unauthenticated");
	res_free(&x);
	ck_assert_int_eq(login(&acc.srv, "ong.agent", DEMO_PW, &g2), 401);
	/* Not before the supervisor approves; the admin may not. */
	ck_assert_int_eq(login(&acc.srv, "ong.agent", RESET_PW, &g2), 401);
	x = callj(&acc.srv, &admin, "PATCH", path,
	    json_pack("{s:b}", "active", 1));
	ck_assert_error(&x.r, 403, "forbidden");
	res_free(&x);
	x = callj(&acc.srv, &chef, "PATCH", path,
	    json_pack("{s:b}", "active", 1));
	EXPECT(x, 200, "the supervisor approves");
	res_free(&x);

	ck_assert_int_eq(login(&acc.srv, "ong.agent", RESET_PW, &g2), 200);
	x = call(&acc.srv, &g2, "GET", "/api/v1/me", NULL);
	EXPECT(x, 200, "GET /me");
	ck_assert(json_is_true(jpath(x.j, "must_change_password")));
	res_free(&x);
	x = call(&acc.srv, &g2, "GET", "/api/v1/organisations", NULL);
	ck_assert_error(&x.r, 403, "forbidden");
	res_free(&x);
	x = call(&acc.srv, &g2, "GET", "/api/v1/cases", NULL);
	ck_assert_error(&x.r, 403, "forbidden");
	res_free(&x);

	x = callj(&acc.srv, &g2, "POST", "/api/v1/me/password",
	    json_pack("{s:s, s:s}", "current", RESET_PW, "new",
	        "Ong-Choisi-Par-Moi-2026"));
	EXPECT(x, 204, "own password");
	res_free(&x);
	x = call(&acc.srv, &g2, "GET", "/api/v1/organisations", NULL);
	EXPECT(x, 200, "organisations after the change");
	res_free(&x);
	x = call(&acc.srv, &g2, "GET", "/api/v1/me", NULL);
	ck_assert(json_is_false(jpath(x.j, "must_change_password")));
	res_free(&x);
}
END_TEST

START_TEST(test_nobody_raises_their_own_rights)
{
	struct sess admin, p, chef;
	char path[128], role[32], org[40];
	struct res x;

	login_ok(&acc.srv, "admin", &admin);
	login_ok(&acc.srv, "police.agent", &p);

	snprintf(path, sizeof(path), "/api/v1/users/%s", p.user_id);
	x = callj(&acc.srv, &p, "PATCH", path,
	    json_pack("{s:s}", "role", "supervisor"));
	ck_assert_error(&x.r, 403, "forbidden");
	res_free(&x);
	x = callj(&acc.srv, &p, "PATCH", path, json_pack("{s:b}", "active", 1));
	ck_assert_error(&x.r, 403, "forbidden");
	res_free(&x);
	/* A supervisor approves or suspends, and gives no rights. */
	login_ok(&acc.srv, "police.chef", &chef);
	x = callj(&acc.srv, &chef, "PATCH", path,
	    json_pack("{s:s}", "role", "supervisor"));
	ck_assert_error(&x.r, 403, "forbidden");
	res_free(&x);

	snprintf(path, sizeof(path), "/api/v1/users/%s", admin.user_id);
	x = callj(&acc.srv, &admin, "PATCH", path,
	    json_pack("{s:b}", "active", 0));
	ck_assert_error(&x.r, 409, "conflict");
	res_free(&x);
	x = callj(&acc.srv, &admin, "PATCH", path,
	    json_pack("{s:s}", "role", "caseworker"));
	ck_assert_error(&x.r, 409, "conflict");
	res_free(&x);

	/* An unknown member is malformed, not ignored. */
	org_id_of(&acc, "admin", org);
	snprintf(path, sizeof(path), "/api/v1/users/%s", p.user_id);
	x = callj(&acc.srv, &admin, "PATCH", path,
	    json_pack("{s:s}", "organisation_id", org));
	ck_assert_error(&x.r, 400, "bad_request");
	res_free(&x);

	sqlv(acc.db,
	    "SELECT role || ':' || active FROM users WHERE "
	    "username = $1",
	    "police.agent", NULL, role, sizeof(role));
	ck_assert_str_eq(role, "caseworker:true");
	sqlv(acc.db,
	    "SELECT role || ':' || active FROM users WHERE "
	    "username = $1",
	    "admin", NULL, role, sizeof(role));
	ck_assert_str_eq(role, "admin:true");
	x = call(&acc.srv, &admin, "GET", "/api/v1/me", NULL);
	EXPECT(x, 200, "admin still logged in");
	ck_assert_str_eq(jstr(x.j, "role"), "admin");
	res_free(&x);
}
END_TEST

START_TEST(test_account_throttle_is_shared_by_two_servers)
{
	const char *more[] = { "PASSERELLE_THROTTLE_ACCOUNT=3",
		"PASSERELLE_THROTTLE_WINDOW=60", NULL };
	struct harness_server b;
	const char *ra;
	struct env e;
	struct sess s;
	struct res x;
	long secs;

	env_start_ex(&e, 1, NULL, more);
	ck_assert_int_eq(env_server(&e, &b, NULL, more), 0);
	ck_assert_int_eq(login(&e.srv, "ong.agent", "Faux-mot-1-2026", &s),
	    401);
	ck_assert_int_eq(login(&b, "ong.agent", "Faux-mot-2-2026", &s), 401);
	ck_assert_int_eq(login(&e.srv, "ong.agent", "Faux-mot-3-2026", &s),
	    401);

	x = post_login(&b, "ong.agent", "Faux-mot-4-2026");
	ck_assert_error(&x.r, 429, "throttled");
	ra = harness_resp_header(&x.r, "Retry-After");
	ck_assert_msg(ra != NULL, "429 without Retry-After");
	secs = strtol(ra, NULL, 10);
	ck_assert_msg(secs >= 1 && secs <= 60, "Retry-After: %s", ra);
	res_free(&x);
	/* The right password does not unlock it inside the window. */
	x = post_login(&e.srv, "ong.agent", DEMO_PW);
	ck_assert_error(&x.r, 429, "throttled");
	ck_assert_ptr_nonnull(harness_resp_header(&x.r, "Retry-After"));
	ck_assert_ptr_null(session_set_cookie(&x.r));
	res_free(&x);
	x = post_login(&b, "ong.agent", DEMO_PW);
	ck_assert_error(&x.r, 429, "throttled");
	res_free(&x);
	/* Per account: another account of the same address logs in. */
	ck_assert_int_eq(login(&b, "ong.chef", DEMO_PW, &s), 200);

	ck_assert_int_eq(harness_server_stop(&b), 0);
	env_stop(&e);
}
END_TEST

START_TEST(test_address_throttle_counts_every_name)
{
	const char *more[] = { "PASSERELLE_THROTTLE_ADDRESS=5", NULL };
	struct env e;
	struct sess s;
	struct res x;
	char name[64];
	int i;

	env_start_ex(&e, 1, NULL, more);
	for (i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "nom.invente%d", i);
		ck_assert_int_eq(login(&e.srv, name, "Essai-de-mot-2026", &s),
		    401);
	}
	x = post_login(&e.srv, "nom.invente5", "Essai-de-mot-2026");
	ck_assert_error(&x.r, 429, "throttled");
	ck_assert_ptr_nonnull(harness_resp_header(&x.r, "Retry-After"));
	res_free(&x);
	/* The address is throttled, whatever name it tries. */
	x = post_login(&e.srv, "police.agent", DEMO_PW);
	ck_assert_error(&x.r, 429, "throttled");
	res_free(&x);
	env_stop(&e);
}
END_TEST

/* ======================================================================
 * TCase "roles": every demo account against every endpoint, one server.
 */

static struct env rol;
static char rol_case[40];     /* a case of the police of Bamako */
static char rol_referral[40]; /* its pending referral to the Gao shelter */
static char rol_consent[40];
static char rol_target[40]; /* comite.analyste: what admins PATCH */
static char rol_police_org[40];

static void
rol_setup(void)
{
	struct sess p;
	char path[128], gao[40];
	struct res x;
	char d[11];

	env_start(&rol);
	today(d);
	user_id_of(&rol, "comite.analyste", rol_target);
	org_id_of(&rol, "police.agent", rol_police_org);
	org_id_of(&rol, "refuge.gao", gao);
	login_ok(&rol.srv, "police.agent", &p);
	x = callj(&rol.srv, &p, "POST", "/api/v1/cases", minimal_case());
	EXPECT(x, 201, "police case");
	snprintf(rol_case, sizeof(rol_case), "%s", jstr(x.j, "id"));
	res_free(&x);
	snprintf(path, sizeof(path), "/api/v1/cases/%s/consents", rol_case);
	x = callj(&rol.srv, &p, "POST", path,
	    json_pack("{s:s, s:s, s:s}", "scope", "assistance", "given_by",
	        "victim", "date", d));
	EXPECT(x, 201, "consent");
	snprintf(rol_consent, sizeof(rol_consent), "%s", jstr(x.j, "id"));
	res_free(&x);
	snprintf(path, sizeof(path), "/api/v1/cases/%s/referrals", rol_case);
	x = callj(&rol.srv, &p, "POST", path,
	    json_pack("{s:s, s:s, s:s, s:s}", "to_organisation_id", gao,
	        "service", "shelter", "urgency", "normal", "consent_id",
	        rol_consent));
	EXPECT(x, 201, "referral");
	snprintf(rol_referral, sizeof(rol_referral), "%s", jstr(x.j, "id"));
	res_free(&x);
}

static void
rol_teardown(void)
{
	env_stop(&rol);
}

static const struct account {
	const char *user; /* NULL: no session */
	const char *kind;
	const char *role;
	int on_case; /* its organisation leads rol_case */
} accounts[] = {
	{ NULL, NULL, NULL, 0 },
	{ "police.agent", "police", "caseworker", 1 },
	{ "police.chef", "police", "supervisor", 1 },
	{ "frontiere.agent", "police", "caseworker", 0 },
	{ "travail.agent", "labour_inspection", "caseworker", 0 },
	{ "ong.agent", "ngo", "caseworker", 0 },
	{ "ong.chef", "ngo", "supervisor", 0 },
	{ "refuge.bamako", "shelter", "caseworker", 0 },
	{ "refuge.gao", "shelter", "caseworker", 0 },
	{ "guichet.agent", "one_stop_center", "caseworker", 0 },
	{ "enfance.agent", "child_protection", "caseworker", 0 },
	{ "justice.agent", "judiciary", "caseworker", 0 },
	{ "comite.analyste", "committee", "analyst", 0 },
	{ "comite.audit", "committee", "auditor", 0 },
	{ "admin", "administration", "admin", 0 },
};

enum ep {
	EP_ME,
	EP_ORG_LIST,
	EP_ORG_CREATE,
	EP_USER_LIST,
	EP_USER_CREATE,
	EP_USER_PATCH,
	EP_AUDIT,
	EP_AUDIT_VERIFY,
	EP_SOP,
	EP_CASE_LIST,
	EP_CASE_CREATE,
	EP_CASE_GET,
	EP_REF_LIST,
	EP_INBOX,
	EP_COUNT
};

static const char *const ep_names[EP_COUNT] = { "GET /me", "GET /organisations",
	"POST /organisations", "GET /users", "POST /users", "PATCH /users/{id}",
	"GET /audit", "GET /audit/verify", "GET /sop", "GET /cases",
	"POST /cases", "GET /cases/{id}", "GET /referrals", "GET /inbox" };

static int
is_field(const struct account *a)
{
	return strcmp(a->kind, "committee") != 0 &&
	       strcmp(a->kind, "administration") != 0;
}

/* The table: what each account gets (-1: tested on its own). */
static long
expected(const struct account *a, enum ep ep)
{
	int admin, field;

	if (a->user == NULL)
		return 401;
	admin = strcmp(a->role, "admin") == 0;
	field = is_field(a);
	switch (ep) {
	case EP_ME:
	case EP_SOP:
		return 200;
	case EP_ORG_LIST:
		return admin || strcmp(a->role, "caseworker") == 0 ||
		               strcmp(a->role, "supervisor") == 0
		           ? 200
		           : 403;
	case EP_ORG_CREATE:
	case EP_USER_CREATE:
		return admin ? 201 : 403;
	case EP_USER_LIST:
		/* Supervisors list their own organisation's accounts. */
		return admin || (field && strcmp(a->role, "supervisor") == 0)
		           ? 200
		           : 403;
	case EP_USER_PATCH:
		/* A committee account; supervisors only reach their own. */
		if (admin)
			return 200;
		return field && strcmp(a->role, "supervisor") == 0 ? 404 : 403;
	case EP_AUDIT:
	case EP_AUDIT_VERIFY:
		return strcmp(a->role, "auditor") == 0 ? 200 : 403;
	case EP_CASE_LIST:
	case EP_REF_LIST:
	case EP_INBOX:
		return field ? 200 : 403;
	case EP_CASE_CREATE:
		/* The judiciary never leads: test_judiciary_cannot_lead... */
		if (strcmp(a->kind, "judiciary") == 0)
			return -1;
		return field ? 201 : 403;
	case EP_CASE_GET:
		return !field ? 403 : a->on_case ? 200 : 404;
	case EP_COUNT:
		break;
	}
	return -1;
}

static struct res
run_ep(const struct sess *s, enum ep ep, int row)
{
	char path[160], name[96];

	switch (ep) {
	case EP_ME:
		return call(&rol.srv, s, "GET", "/api/v1/me", NULL);
	case EP_ORG_LIST:
		return call(&rol.srv, s, "GET", "/api/v1/organisations", NULL);
	case EP_ORG_CREATE:
		snprintf(name, sizeof(name), "Organisation de test %d", row);
		return callj(&rol.srv, s, "POST", "/api/v1/organisations",
		    json_pack("{s:s, s:s, s:s}", "name", name, "kind", "ngo",
		        "region", "kayes"));
	case EP_USER_LIST:
		return call(&rol.srv, s, "GET", "/api/v1/users", NULL);
	case EP_USER_CREATE:
		snprintf(name, sizeof(name), "compte.test%d", row);
		return callj(&rol.srv, s, "POST", "/api/v1/users",
		    json_pack("{s:s, s:s, s:s, s:s}", "username", name,
		        "password", "Compte-de-test-2026", "role", "caseworker",
		        "organisation_id", rol_police_org));
	case EP_USER_PATCH:
		snprintf(path, sizeof(path), "/api/v1/users/%s", rol_target);
		return callj(&rol.srv, s, "PATCH", path,
		    json_pack("{s:b}", "active", 1));
	case EP_AUDIT:
		return call(&rol.srv, s, "GET", "/api/v1/audit", NULL);
	case EP_AUDIT_VERIFY:
		return call(&rol.srv, s, "GET", "/api/v1/audit/verify", NULL);
	case EP_SOP:
		return call(&rol.srv, s, "GET", "/api/v1/sop", NULL);
	case EP_CASE_LIST:
		return call(&rol.srv, s, "GET", "/api/v1/cases", NULL);
	case EP_CASE_CREATE:
		return callj(&rol.srv, s, "POST", "/api/v1/cases",
		    minimal_case());
	case EP_CASE_GET:
		snprintf(path, sizeof(path), "/api/v1/cases/%s", rol_case);
		return call(&rol.srv, s, "GET", path, NULL);
	case EP_REF_LIST:
		return call(&rol.srv, s, "GET", "/api/v1/referrals", NULL);
	case EP_INBOX:
		return call(&rol.srv, s, "GET", "/api/v1/inbox", NULL);
	case EP_COUNT:
		break;
	}
	return call(&rol.srv, s, "GET", "/api/v1/nothing", NULL);
}

START_TEST(test_role_table)
{
	const struct account *a = &accounts[_i];
	char report[4096] = "";
	struct sess s;
	struct res x;
	size_t used = 0;
	long want;
	int ep;

	memset(&s, 0, sizeof(s));
	if (a->user != NULL)
		login_ok(&rol.srv, a->user, &s);
	for (ep = 0; ep < EP_COUNT; ep++) {
		if ((want = expected(a, (enum ep)ep)) < 0)
			continue;
		x = run_ep(a->user ? &s : NULL, (enum ep)ep, _i);
		if (x.st != want && used < sizeof(report) - 200)
			used += (size_t)snprintf(report + used,
			    sizeof(report) - used,
			    "\n  %s: expected %ld, got %ld %.120s",
			    ep_names[ep], want, x.st, x.body);
		res_free(&x);
	}
	ck_assert_msg(used == 0, "%s:%s", a->user ? a->user : "(no session)",
	    report);
}
END_TEST

START_TEST(test_judiciary_cannot_lead_a_new_case)
{
	struct sess j;
	struct res x;
	long before, after;

	before = sqln(rol.db, "SELECT count(*) FROM cases", NULL, NULL);
	login_ok(&rol.srv, "justice.agent", &j);
	x = callj(&rol.srv, &j, "POST", "/api/v1/cases", minimal_case());
	after = sqln(rol.db, "SELECT count(*) FROM cases", NULL, NULL);
	/*
	 * sop/README.md: "The judiciary follows the justice track and never
	 * leads"; a case it opened would have it as lead organisation, with
	 * no transition its kind may take.
	 */
	ck_assert_msg(x.st == 403, "judiciary POST /cases: %ld %.300s", x.st,
	    x.body);
	ck_assert_int_eq(after, before);
	res_free(&x);
}
END_TEST

/* Every endpoint of a case or a referral, with a valid body. */
struct cep {
	const char *method;
	const char *fmt; /* %1$s: case id, %2$s: referral id */
	int kind;        /* 0: case, 1: referral, 2: collection */
};

static const struct cep case_eps[] = {
	{ "GET", "/api/v1/cases", 2 },
	{ "POST", "/api/v1/cases", 2 },
	{ "POST", "/api/v1/cases/search", 2 },
	{ "POST", "/api/v1/cases/reassign", 2 },
	{ "GET", "/api/v1/referrals", 2 },
	{ "GET", "/api/v1/inbox", 2 },
	{ "GET", "/api/v1/cases/%s", 0 },
	{ "PATCH", "/api/v1/cases/%s", 0 },
	{ "POST", "/api/v1/cases/%s/erase", 0 },
	{ "PUT", "/api/v1/cases/%s/assignee", 0 },
	{ "POST", "/api/v1/cases/%s/consents", 0 },
	{ "DELETE", "/api/v1/cases/%s/consents/", 0 },
	{ "POST", "/api/v1/cases/%s/referrals", 0 },
	{ "POST", "/api/v1/cases/%s/transitions", 0 },
	{ "POST", "/api/v1/cases/%s/notes", 0 },
	{ "POST", "/api/v1/cases/%s/services", 0 },
	{ "PUT", "/api/v1/cases/%s/justice", 0 },
	{ "GET", "/api/v1/referrals/%s", 1 },
	{ "POST", "/api/v1/referrals/%s/accept", 1 },
	{ "POST", "/api/v1/referrals/%s/decline", 1 },
	{ "POST", "/api/v1/referrals/%s/withdraw", 1 },
	{ "POST", "/api/v1/referrals/%s/complete", 1 },
};
#define N_CASE_EPS (sizeof(case_eps) / sizeof(case_eps[0]))

/* Copies fmt into out with its "%s" (if any) replaced by id. */
static void
subst(char *out, size_t len, const char *fmt, const char *id)
{
	const char *p = strstr(fmt, "%s");

	if (p == NULL)
		snprintf(out, len, "%s", fmt);
	else
		snprintf(out, len, "%.*s%s%s", (int)(p - fmt), fmt, id, p + 2);
}

/* Sends endpoint i on case_id / referral_id as s (the body by path). */
static struct res
run_case_ep(const struct sess *s, size_t i, const char *case_id,
    const char *referral_id)
{
	const struct cep *c = &case_eps[i];
	char path[200], d[11];
	json_t *body = NULL;

	today(d);
	subst(path, sizeof(path), c->fmt, c->kind == 0 ? case_id : referral_id);
	if (strstr(path, "/consents/") != NULL &&
	    strcmp(c->method, "DELETE") == 0) {
		/* Its consent id: the real one on rol_case. */
		strncat(path, rol_consent, sizeof(path) - strlen(path) - 1);
	} else if (strcmp(c->method, "GET") == 0 ||
	           strcmp(c->method, "DELETE") == 0) {
		body = NULL;
	} else if (strcmp(path, "/api/v1/cases") == 0) {
		body = minimal_case();
	} else if (strstr(path, "/reassign")) {
		body = json_pack("{s:[s], s:s}", "case_ids", case_id, "user_id",
		    s->user_id);
	} else if (strstr(path, "/assignee")) {
		body = json_pack("{s:s}", "user_id", s->user_id);
	} else if (strstr(path, "/consents")) {
		body = json_pack("{s:s, s:s, s:s}", "scope", "data_processing",
		    "given_by", "victim", "date", d);
	} else if (strstr(path, "/referrals") && c->kind == 0) {
		body = json_pack("{s:s, s:s, s:s, s:s}", "to_organisation_id",
		    rol_police_org, "service", "investigation", "urgency",
		    "normal", "consent_id", rol_consent);
	} else if (strstr(path, "/transitions")) {
		body = json_pack("{s:s, s:i}", "transition",
		    "refer_for_assistance", "version", 1);
	} else if (strstr(path, "/notes")) {
		body = json_pack("{s:s, s:s}", "body", "une note", "visibility",
		    "case");
	} else if (strstr(path, "/services")) {
		body = json_pack("{s:s, s:s}", "service", "medical", "date", d);
	} else if (strstr(path, "/justice")) {
		body = json_pack("{s:s}", "status", "complaint");
	} else if (strstr(path, "/decline")) {
		body = json_pack("{s:s}", "reason", "no_capacity");
	} else if (strcmp(c->method, "PATCH") == 0) {
		body = json_pack("{s:i}", "version", 1);
	} else {
		body = json_object();
	}
	return callj(&rol.srv, s, c->method, path, body);
}

static const char *const outsiders[] = { "comite.analyste", "comite.audit",
	"admin" };

START_TEST(test_committee_and_admin_never_reach_a_case)
{
	char report[4096] = "";
	size_t used = 0, i;
	struct sess s;
	struct res x;

	login_ok(&rol.srv, outsiders[_i], &s);
	for (i = 0; i < N_CASE_EPS; i++) {
		x = run_case_ep(&s, i, rol_case, rol_referral);
		if (x.st != 403 && used < sizeof(report) - 200)
			used += (size_t)snprintf(report + used,
			    sizeof(report) - used,
			    "\n  %s %s: expected 403, got %ld %.120s",
			    case_eps[i].method, case_eps[i].fmt, x.st, x.body);
		res_free(&x);
	}
	ck_assert_msg(used == 0, "%s:%s", outsiders[_i], report);
}
END_TEST

/* Field accounts of organisations with nothing to do with rol_case. */
static const char *const strangers[] = { "frontiere.agent", "refuge.bamako",
	"enfance.agent", "ong.chef" };

START_TEST(test_an_uninvolved_organisation_gets_404_never_403)
{
	static const char nowhere[] = "0b6f3f7e-3c1e-4f57-9d7a-5a1b2c3d4e5f";
	char report[4096] = "", ref_before[4096], ref_after[4096];
	char c_before[64], c_after[64];
	size_t used = 0, i;
	struct sess s;
	struct res x, y;

	sqlv(rol.db,
	    "SELECT status || version FROM referrals r JOIN cases c "
	    "ON c.id = r.case_id WHERE r.id = $1",
	    rol_referral, NULL, c_before, sizeof(c_before));
	sqlv(rol.db,
	    "SELECT count(*) || ':' || (SELECT count(*) FROM "
	    "case_events) FROM consents",
	    NULL, NULL, ref_before, sizeof(ref_before));
	login_ok(&rol.srv, strangers[_i], &s);
	for (i = 0; i < N_CASE_EPS; i++) {
		if (case_eps[i].kind == 2)
			continue;
		/* The justice track is for police and judiciary kinds only,
		 * whatever the case: a 403 there tells nothing. */
		if (strstr(case_eps[i].fmt, "/justice") != NULL &&
		    strcmp(strangers[_i], "frontiere.agent") != 0)
			continue;
		x = run_case_ep(&s, i, rol_case, rol_referral);
		y = run_case_ep(&s, i, nowhere, nowhere);
		if ((x.st != 404 || y.st != 404 || strcmp(x.body, y.body)) &&
		    used < sizeof(report) - 300)
			used += (size_t)snprintf(report + used,
			    sizeof(report) - used,
			    "\n  %s %s: existing %ld %.100s / nonexistent %ld",
			    case_eps[i].method, case_eps[i].fmt, x.st, x.body,
			    y.st);
		res_free(&x);
		res_free(&y);
	}
	/* Nor is it in their lists. */
	x = call(&rol.srv, &s, "GET", "/api/v1/cases", NULL);
	EXPECT(x, 200, "list");
	ck_assert_msg(strstr(x.body, rol_case) == NULL, "listed: %s", x.body);
	res_free(&x);
	ck_assert_msg(used == 0, "%s:%s", strangers[_i], report);
	/* And nothing changed. */
	sqlv(rol.db,
	    "SELECT status || version FROM referrals r JOIN cases c "
	    "ON c.id = r.case_id WHERE r.id = $1",
	    rol_referral, NULL, c_after, sizeof(c_after));
	ck_assert_str_eq(c_after, c_before);
	sqlv(rol.db,
	    "SELECT count(*) || ':' || (SELECT count(*) FROM "
	    "case_events) FROM consents",
	    NULL, NULL, ref_after, sizeof(ref_after));
	ck_assert_str_eq(ref_after, ref_before);
}
END_TEST

/* ======================================================================
 * What the database keeps: a dump, the audit trail.
 */

#define DUMP_GIVEN "Zéphyrine"
#define DUMP_FAMILY "Koulibaly-Test"
#define DUMP_NEW_PW "Ong-Nouveau-Secret-2026"
#define DUMP_RESET_PW "Reinitialise-Secret-2026"

START_TEST(test_a_dump_holds_no_token_password_or_name)
{
	struct sess p, o, admin;
	char path[128], d[11], gid[40];
	struct res x;
	char *dump;

	today(d);
	login_ok(&acc.srv, "police.agent", &p);
	x = callj(&acc.srv, &p, "POST", "/api/v1/cases",
	    json_pack("{s:{s:s, s:s, s:s}, s:{s:s, s:s, s:[s]}}", "victim",
	        "given_name", DUMP_GIVEN, "family_name", DUMP_FAMILY, "sex",
	        "female", "identification", "date", d, "region", "gao",
	        "exploitation_types", "domestic_servitude"));
	EXPECT(x, 201, "case");
	res_free(&x);
	login_ok(&acc.srv, "ong.agent", &o);
	x = callj(&acc.srv, &o, "POST", "/api/v1/me/password",
	    json_pack("{s:s, s:s}", "current", DEMO_PW, "new", DUMP_NEW_PW));
	EXPECT(x, 204, "password change");
	res_free(&x);
	login_ok(&acc.srv, "admin", &admin);
	user_id_of(&acc, "guichet.agent", gid);
	snprintf(path, sizeof(path), "/api/v1/users/%s", gid);
	x = callj(&acc.srv, &admin, "PATCH", path,
	    json_pack("{s:s}", "password", DUMP_RESET_PW));
	EXPECT(x, 200, "reset");
	res_free(&x);
	/* The session is alive while the dump is taken. */
	x = call(&acc.srv, &p, "GET", "/api/v1/me", NULL);
	EXPECT(x, 200, "police session");
	res_free(&x);

	dump = pg_dump_text(&acc);
	ck_assert_msg(strstr(dump, "COPY public.sessions") != NULL,
	    "the dump has no sessions table");
	assert_absent(dump, p.token, "the dump");
	assert_absent(dump, p.csrf, "the dump");
	assert_absent(dump, o.token, "the dump");
	assert_absent(dump, admin.csrf, "the dump");
	assert_absent(dump, DEMO_PW, "the dump");
	assert_absent(dump, DUMP_NEW_PW, "the dump");
	assert_absent(dump, DUMP_RESET_PW, "the dump");
	assert_absent(dump, DUMP_GIVEN, "the dump");
	assert_absent(dump, DUMP_FAMILY, "the dump");
	free(dump);
}
END_TEST

/* Rows of table whose text holds s, as it is or as hex. */
static long
rows_holding(const char *db, const char *table, const char *s)
{
	char sql[256];

	snprintf(sql, sizeof(sql),
	    "SELECT count(*) FROM %s t WHERE position($1 in t::text) > 0 OR "
	    "position(encode(convert_to($1, 'UTF8'), 'hex') in t::text) > 0",
	    table);
	return sqln(db, sql, s, NULL);
}

static int
cli_audit_verify(const struct env *e, char *out, size_t outlen)
{
	const char *args[] = { "audit", "verify", NULL };

	return env_run(e, NULL, args, out, outlen);
}

START_TEST(test_audit_records_logins_and_admin_acts_without_secrets)
{
	static const char typed[] = "inconnu.saisi.q7x";
	static const char wrong[] = "Mauvais-Audit-2026";
	struct sess p, admin, aud, s;
	char path[128], count[32], out[4096], pid[40], aid[40];
	struct res x;
	long n;

	login_ok(&acc.srv, "police.agent", &p);
	ck_assert_int_eq(login(&acc.srv, "police.agent", wrong, &s), 401);
	ck_assert_int_eq(login(&acc.srv, typed, wrong, &s), 401);
	login_ok(&acc.srv, "admin", &admin);
	snprintf(path, sizeof(path), "/api/v1/users/%s", p.user_id);
	x = callj(&acc.srv, &admin, "PATCH", path,
	    json_pack("{s:s}", "role", "supervisor"));
	EXPECT(x, 200, "admin act");
	res_free(&x);
	x = callj(&acc.srv, &admin, "POST", "/api/v1/organisations",
	    json_pack("{s:s, s:s, s:s}", "name", "Refuge de Kayes (test)",
	        "kind", "shelter", "region", "kayes"));
	EXPECT(x, 201, "new organisation");
	res_free(&x);
	user_id_of(&acc, "police.agent", pid);
	user_id_of(&acc, "admin", aid);

	ck_assert_int_ge(sqln(acc.db,
	                     "SELECT count(*) FROM audit_log WHERE action = "
	                     "'session.login' AND user_id = $1::uuid",
	                     pid, NULL),
	    1);
	ck_assert_int_ge(sqln(acc.db,
	                     "SELECT count(*) FROM audit_log WHERE action = "
	                     "'session.login_failed' AND user_id = $1::uuid",
	                     pid, NULL),
	    1);
	ck_assert_int_ge(sqln(acc.db,
	                     "SELECT count(*) FROM audit_log WHERE action = "
	                     "'session.login_failed' AND user_id IS NULL",
	                     NULL, NULL),
	    1);
	ck_assert_int_eq(sqln(acc.db,
	                     "SELECT count(*) FROM audit_log WHERE action = "
	                     "'user.update' AND user_id = $1::uuid AND "
	                     "resource_id = $2",
	                     aid, pid),
	    1);
	ck_assert_int_eq(sqln(acc.db,
	                     "SELECT count(*) FROM audit_log WHERE action = "
	                     "'organisation.create' AND user_id = $1::uuid",
	                     aid, NULL),
	    1);
	/* No password, token or typed name in the trail or the failures. */
	ck_assert_int_eq(rows_holding(acc.db, "audit_log", DEMO_PW), 0);
	ck_assert_int_eq(rows_holding(acc.db, "audit_log", wrong), 0);
	ck_assert_int_eq(rows_holding(acc.db, "audit_log", p.token), 0);
	ck_assert_int_eq(rows_holding(acc.db, "audit_log", p.csrf), 0);
	ck_assert_int_eq(rows_holding(acc.db, "audit_log", typed), 0);
	ck_assert_int_ge(
	    sqln(acc.db, "SELECT count(*) FROM login_failures", NULL, NULL), 2);
	ck_assert_int_eq(rows_holding(acc.db, "login_failures", typed), 0);
	ck_assert_int_eq(rows_holding(acc.db, "login_failures", wrong), 0);

	/* The auditor of the committee reads and verifies it. */
	login_ok(&acc.srv, "comite.audit", &aud);
	x = call(&acc.srv, &aud, "GET", "/api/v1/audit?limit=500", NULL);
	EXPECT(x, 200, "audit list");
	ck_assert_msg(strstr(x.body, "\"session.login_failed\"") != NULL &&
	                  strstr(x.body, "\"user.update\"") != NULL,
	    "%.500s", x.body);
	ck_assert_msg(strstr(x.body, DEMO_PW) == NULL &&
	                  strstr(x.body, typed) == NULL,
	    "the audit list shows a secret");
	res_free(&x);
	x = call(&acc.srv, &aud, "GET", "/api/v1/audit/verify", NULL);
	EXPECT(x, 200, "verify");
	sqlv(acc.db, "SELECT count(*) FROM audit_log", NULL, NULL, count,
	    sizeof(count));
	ck_assert(json_is_true(jpath(x.j, "ok")));
	n = (long)jint(x.j, "records");
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(n, strtol(count, NULL, 10));
	res_free(&x);
	ck_assert_int_eq(cli_audit_verify(&acc, out, sizeof(out)), 0);
	ck_assert_msg(strstr(out, "intact") != NULL, "%s", out);
}
END_TEST

START_TEST(test_audit_tampering_is_found_and_changes_are_refused)
{
	struct sess p, aud;
	char minid[32], out[4096], want[64], before[32], after[32];
	struct res x;

	login_ok(&acc.srv, "police.agent", &p);
	x = callj(&acc.srv, &p, "POST", "/api/v1/cases", minimal_case());
	EXPECT(x, 201, "case");
	res_free(&x);
	login_ok(&acc.srv, "comite.audit", &aud);
	sqlv(acc.db, "SELECT count(*) FROM audit_log", NULL, NULL, before,
	    sizeof(before));

	/* The trail refuses every change, even to its owner. */
	ck_assert_int_ne(harness_exec(acc.db, "DELETE FROM audit_log"), 0);
	ck_assert_int_ne(harness_exec(acc.db, "TRUNCATE audit_log"), 0);
	ck_assert_int_ne(harness_exec(acc.db,
	                     "UPDATE audit_log SET action = 'x' WHERE id = "
	                     "(SELECT min(id) FROM audit_log)"),
	    0);
	ck_assert_int_ne(harness_exec(acc.db, "DELETE FROM audit_heads"), 0);
	sqlv(acc.db, "SELECT count(*) FROM audit_log", NULL, NULL, after,
	    sizeof(after));
	ck_assert_str_eq(after, before);
	x = call(&acc.srv, &aud, "GET", "/api/v1/audit/verify", NULL);
	ck_assert(json_is_true(jpath(x.j, "ok")));
	res_free(&x);

	/* With the trigger off, a change is made, and found. */
	sqlv(acc.db, "SELECT min(id) FROM audit_log", NULL, NULL, minid,
	    sizeof(minid));
	ck_assert_int_eq(harness_exec(acc.db,
	                     "ALTER TABLE audit_log DISABLE TRIGGER "
	                     "audit_log_no_update; UPDATE audit_log SET "
	                     "action = 'x' WHERE id = (SELECT min(id) FROM "
	                     "audit_log); ALTER TABLE audit_log ENABLE "
	                     "TRIGGER audit_log_no_update"),
	    0);
	x = call(&acc.srv, &aud, "GET", "/api/v1/audit/verify", NULL);
	EXPECT(x, 200, "verify");
	ck_assert_msg(json_is_false(jpath(x.j, "ok")), "%s", x.body);
	ck_assert_msg(json_is_integer(jpath(x.j, "first_bad")) &&
	                  jint(x.j, "first_bad") >= 1,
	    "%s", x.body);
	res_free(&x);
	ck_assert_int_eq(cli_audit_verify(&acc, out, sizeof(out)), 1);
	snprintf(want, sizeof(want), "(id %s)", minid);
	ck_assert_msg(strstr(out, want) != NULL,
	    "the CLI does not name record %s: %s", minid, out);
}
END_TEST

/* ---------------------------------------------- concurrent audit chain */

#define CONC_THREADS 8
#define CONC_WRITES 20

static const char *const conc_users[CONC_THREADS] = { "police.agent",
	"frontiere.agent", "travail.agent", "ong.agent", "refuge.bamako",
	"refuge.gao", "guichet.agent", "enfance.agent" };

struct conc_arg {
	const struct harness_server *srv;
	struct sess s;
	pthread_barrier_t *start;
	int created;
	long bad_status;
};

static void *
conc_run(void *p)
{
	struct conc_arg *a = p;
	struct res x;
	int i;

	pthread_barrier_wait(a->start);
	for (i = 0; i < CONC_WRITES; i++) {
		x = callj(a->srv, &a->s, "POST", "/api/v1/cases",
		    minimal_case());
		if (x.st == 201)
			a->created++;
		else
			a->bad_status = x.st;
		res_free(&x);
	}
	return NULL;
}

START_TEST(test_audit_chain_stays_whole_under_concurrent_writes)
{
	struct conc_arg args[CONC_THREADS];
	pthread_t th[CONC_THREADS];
	pthread_barrier_t start;
	struct sess aud;
	char out[4096];
	long before, after, total;
	struct res x;
	int i;

	memset(args, 0, sizeof(args));
	for (i = 0; i < CONC_THREADS; i++) {
		args[i].srv = &acc.srv;
		login_ok(&acc.srv, conc_users[i], &args[i].s);
	}
	login_ok(&acc.srv, "comite.audit", &aud);
	before = sqln(acc.db, "SELECT count(*) FROM audit_log", NULL, NULL);
	ck_assert_int_eq(pthread_barrier_init(&start, NULL, CONC_THREADS), 0);
	for (i = 0; i < CONC_THREADS; i++) {
		args[i].start = &start;
		ck_assert_int_eq(
		    pthread_create(&th[i], NULL, conc_run, &args[i]), 0);
	}
	for (i = 0; i < CONC_THREADS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&start);
	for (i = 0; i < CONC_THREADS; i++)
		ck_assert_msg(args[i].created == CONC_WRITES,
		    "%s: %d of %d cases created (last status %ld)",
		    conc_users[i], args[i].created, CONC_WRITES,
		    args[i].bad_status);
	after = sqln(acc.db, "SELECT count(*) FROM audit_log", NULL, NULL);
	/* One record per case creation (no names: no duplicate check). */
	ck_assert_int_eq(after - before, CONC_THREADS * CONC_WRITES);
	total = sqln(acc.db,
	    "SELECT count(*) FROM audit_log WHERE action = 'case.create'", NULL,
	    NULL);
	ck_assert_int_eq(total, CONC_THREADS * CONC_WRITES);
	/* Each organisation's twenty are there; every chain is unbroken. */
	ck_assert_int_eq(
	    sqln(acc.db,
	        "SELECT count(*) FROM (SELECT organisation_id FROM "
	        "audit_log WHERE action = 'case.create' GROUP BY "
	        "organisation_id HAVING count(*) = 20) c",
	        NULL, NULL),
	    CONC_THREADS);
	ck_assert_int_eq(
	    sqln(acc.db,
	        "SELECT count(*) FROM (SELECT chain FROM audit_log "
	        "GROUP BY chain HAVING max(seq) <> count(*) OR "
	        "min(seq) <> 1) c",
	        NULL, NULL),
	    0);
	x = call(&acc.srv, &aud, "GET", "/api/v1/audit/verify", NULL);
	EXPECT(x, 200, "verify");
	ck_assert_msg(json_is_true(jpath(x.j, "ok")), "%s", x.body);
	ck_assert_int_eq(jint(x.j, "records"), after);
	res_free(&x);
	ck_assert_int_eq(cli_audit_verify(&acc, out, sizeof(out)), 0);
}
END_TEST

/*
 * Two servers with one database connection each write the same chains
 * (organisation + slot 0). Each remembers the head it wrote last, which
 * the other keeps moving: appends then meet a moved head, and every read
 * must still be audited exactly once, in one unbroken chain.
 */
#define TWO_ROUNDS 6
#define TWO_THREADS 4

struct two_arg {
	const struct harness_server *srv[2];
	const struct sess *s;
	const char *case_path;
	pthread_barrier_t *start;
	int ok;
	long bad_status;
};

static void *
two_run(void *p)
{
	struct two_arg *a = p;
	struct res x;
	int i;

	pthread_barrier_wait(a->start);
	for (i = 0; i < 2 * TWO_ROUNDS; i++) {
		/* Reads (audited with the commit) and writes, on both. */
		if (i % 3 == 2)
			x = callj(a->srv[i % 2], a->s, "POST",
			    "/api/v1/cases", minimal_case());
		else
			x = call(a->srv[i % 2], a->s, "GET", a->case_path,
			    NULL);
		if (x.st == 200 || x.st == 201)
			a->ok++;
		else
			a->bad_status = x.st;
		res_free(&x);
	}
	return NULL;
}

START_TEST(test_audit_chain_stays_whole_when_two_servers_share_it)
{
	const char *one[] = { "PASSERELLE_DB_POOL_SIZE=1", NULL };
	struct harness_server a, b;
	struct two_arg args[TWO_THREADS];
	pthread_t th[TWO_THREADS];
	pthread_barrier_t start;
	char d[11], path[96], cid[40], out[4096];
	struct sess p, aud;
	long reads_before, reads, i;
	struct res x;

	ck_assert_int_eq(env_server(&acc, &a, NULL, one), 0);
	ck_assert_int_eq(env_server(&acc, &b, NULL, one), 0);
	login_ok(&a, "police.agent", &p);
	login_ok(&a, "comite.audit", &aud);
	today(d);
	x = callj(&a, &p, "POST", "/api/v1/cases",
	    json_pack("{s:{s:s, s:s, s:s}, s:{s:s, s:s, s:[s]}}", "victim",
		"given_name", "Awa", "family_name", "Chaine", "sex", "female",
		"identification", "date", d, "region", "bamako",
		"exploitation_types", "forced_labour"));
	EXPECT(x, 201, "case with a name");
	ck_assert_ptr_nonnull(jstr(x.j, "id"));
	snprintf(cid, sizeof(cid), "%s", jstr(x.j, "id"));
	snprintf(path, sizeof(path), "/api/v1/cases/%s", cid);
	res_free(&x);
	reads_before = sqln(acc.db,
	    "SELECT count(*) FROM audit_log WHERE action = 'case.read' AND "
	    "resource_id = $1", cid, NULL);

	/* One after the other: each server finds the head moved. */
	for (i = 0; i < 6; i++) {
		x = call(i % 2 ? &b : &a, &p, "GET", path, NULL);
		EXPECT(x, 200, "read on alternate servers");
		ck_assert_str_eq(jstr(x.j, "victim.given_name"), "Awa");
		res_free(&x);
	}
	/* At once, from both. */
	memset(args, 0, sizeof(args));
	ck_assert_int_eq(pthread_barrier_init(&start, NULL, TWO_THREADS), 0);
	for (i = 0; i < TWO_THREADS; i++) {
		args[i].srv[0] = i % 2 ? &a : &b;
		args[i].srv[1] = i % 2 ? &b : &a;
		args[i].s = &p;
		args[i].case_path = path;
		args[i].start = &start;
		ck_assert_int_eq(
		    pthread_create(&th[i], NULL, two_run, &args[i]), 0);
	}
	for (i = 0; i < TWO_THREADS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&start);
	for (i = 0; i < TWO_THREADS; i++)
		ck_assert_msg(args[i].ok == 2 * TWO_ROUNDS,
		    "thread %ld: %d of %d requests answered (last status %ld)",
		    i, args[i].ok, 2 * TWO_ROUNDS, args[i].bad_status);

	/* Every read audited once: none lost, none twice by a retry. */
	reads = sqln(acc.db,
	    "SELECT count(*) FROM audit_log WHERE action = 'case.read' AND "
	    "resource_id = $1", cid, NULL);
	ck_assert_int_eq(reads - reads_before,
	    6 + TWO_THREADS * (2 * TWO_ROUNDS - 2 * TWO_ROUNDS / 3));
	/* Every case created has its record. */
	ck_assert_int_eq(
	    sqln(acc.db,
	        "SELECT count(*) FROM cases c WHERE NOT EXISTS (SELECT 1 "
	        "FROM audit_log l WHERE l.action = 'case.create' AND "
	        "l.resource_id = c.id::text)",
	        NULL, NULL),
	    0);
	ck_assert_int_eq(
	    sqln(acc.db,
	        "SELECT count(*) FROM (SELECT chain FROM audit_log "
	        "GROUP BY chain HAVING max(seq) <> count(*) OR "
	        "min(seq) <> 1) c",
	        NULL, NULL),
	    0);
	x = call(&a, &aud, "GET", "/api/v1/audit/verify", NULL);
	EXPECT(x, 200, "verify");
	ck_assert_msg(json_is_true(jpath(x.j, "ok")), "%s", x.body);
	res_free(&x);
	ck_assert_int_eq(cli_audit_verify(&acc, out, sizeof(out)), 0);
	ck_assert_int_eq(harness_server_stop(&a), 0);
	ck_assert_int_eq(harness_server_stop(&b), 0);
}
END_TEST

/* ====================================================================== */

static Suite *
auth_suite(void)
{
	Suite *s = suite_create("auth");
	TCase *tc;

	tc = tcase_create("login_cost");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_login_failures_answer_alike_and_cost_alike);
	tcase_add_test(tc,
	    test_an_account_hashed_at_an_older_cost_does_not_stand_out);
	suite_add_tcase(s, tc);

	tc = tcase_create("accounts");
	tcase_add_checked_fixture(tc, acc_setup, acc_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc,
	    test_each_login_gets_a_fresh_token_in_a_strict_cookie);
	tcase_add_test(tc, test_secure_cookies_setting_marks_the_cookie_secure);
	tcase_add_test(tc, test_a_cookie_planted_before_login_is_not_kept);
	tcase_add_test(tc, test_requests_need_the_csrf_token_and_writes_the_same_site);
	tcase_add_test(tc, test_idle_session_ends);
	tcase_add_test(tc, test_absolute_lifetime_ends_session);
	tcase_add_test(tc, test_logout_ends_the_session_on_every_server);
	tcase_add_test(tc,
	    test_the_case_read_checks_its_session_like_every_request);
	tcase_add_test(tc, test_deactivation_ends_sessions_and_refuses_login);
	tcase_add_test(tc, test_password_change_ends_other_sessions);
	tcase_add_test(tc, test_admin_reset_forces_a_password_change);
	tcase_add_test(tc, test_nobody_raises_their_own_rights);
	tcase_add_test(tc, test_a_dump_holds_no_token_password_or_name);
	tcase_add_test(tc,
	    test_audit_records_logins_and_admin_acts_without_secrets);
	tcase_add_test(tc,
	    test_audit_tampering_is_found_and_changes_are_refused);
	tcase_add_test(tc,
	    test_audit_chain_stays_whole_under_concurrent_writes);
	tcase_add_test(tc,
	    test_audit_chain_stays_whole_when_two_servers_share_it);
	suite_add_tcase(s, tc);

	tc = tcase_create("throttling");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_account_throttle_is_shared_by_two_servers);
	tcase_add_test(tc, test_address_throttle_counts_every_name);
	suite_add_tcase(s, tc);

	tc = tcase_create("roles");
	tcase_add_unchecked_fixture(tc, rol_setup, rol_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_role_table, 0,
	    (int)(sizeof(accounts) / sizeof(accounts[0])));
	tcase_add_loop_test(tc, test_committee_and_admin_never_reach_a_case, 0,
	    (int)(sizeof(outsiders) / sizeof(outsiders[0])));
	tcase_add_loop_test(tc,
	    test_an_uninvolved_organisation_gets_404_never_403, 0,
	    (int)(sizeof(strangers) / sizeof(strangers[0])));
	tcase_add_test(tc, test_judiciary_cannot_lead_a_new_case);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return harness_run_suite("itest_auth", auth_suite);
}
