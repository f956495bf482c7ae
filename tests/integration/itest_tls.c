/*
 * HTTPS: with PASSERELLE_TLS_CERT and PASSERELLE_TLS_KEY the server speaks
 * TLS through libmicrohttpd, sends HSTS, and marks the session cookie
 * Secure. A throwaway self-signed certificate is made with openssl.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <curl/curl.h>

#include "harness.h"

struct answer {
	char head[8192];
	size_t hlen;
	char body[4096];
	size_t blen;
};

static size_t
on_header(char *p, size_t size, size_t n, void *cls)
{
	struct answer *a = cls;
	size_t len = size * n;

	if (a->hlen + len < sizeof(a->head)) {
		memcpy(a->head + a->hlen, p, len);
		a->hlen += len;
		a->head[a->hlen] = '\0';
	}
	return len;
}

static size_t
on_body(char *p, size_t size, size_t n, void *cls)
{
	struct answer *a = cls;
	size_t len = size * n;

	if (a->blen + len < sizeof(a->body)) {
		memcpy(a->body + a->blen, p, len);
		a->blen += len;
		a->body[a->blen] = '\0';
	}
	return len;
}

/* One HTTPS request; returns the status (0 when it could not connect). */
static long
https(const char *url, const char *body, struct answer *a)
{
	struct curl_slist *h = NULL;
	long status = 0;
	CURL *c = curl_easy_init();

	memset(a, 0, sizeof(*a));
	if (c == NULL)
		return 0;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 5L);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, a);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
	if (body != NULL) {
		h = curl_slist_append(h, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	}
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return status;
}

START_TEST(test_tls_serves_https_with_secure_cookie_and_hsts)
{
	char dir[128], cert[192], key[192], mkey[192], out[4096];
	char e_db[512], e_key[256], e_cert[256], e_tkey[256], e_listen[64];
	char e_sop[256], url[96];
	char *db;
	struct answer a;
	unsigned int port;
	pid_t pid;
	int i, status = -1;
	long st = 0;

	ck_assert_int_eq(harness_tmpdir(dir, sizeof(dir)), 0);
	snprintf(cert, sizeof(cert), "%s/tls.crt", dir);
	snprintf(key, sizeof(key), "%s/tls.key", dir);
	snprintf(mkey, sizeof(mkey), "%s/master.key", dir);
	snprintf(out, sizeof(out), "openssl req -x509 -newkey ec -pkeyopt "
	    "ec_paramgen_curve:prime256v1 -nodes -keyout '%s' -out '%s' "
	    "-days 1 -subj /CN=localhost >/dev/null 2>&1", key, cert);
	ck_assert_msg(harness_shell(out) == 0, "openssl could not make a "
	    "certificate (scripts/setup installs openssl)");
	ck_assert_ptr_nonnull(db = harness_db_create());
	snprintf(e_db, sizeof(e_db), "PASSERELLE_DATABASE_URL=%s", db);
	snprintf(e_key, sizeof(e_key), "PASSERELLE_KEY_FILE=%s", mkey);
	snprintf(e_cert, sizeof(e_cert), "PASSERELLE_TLS_CERT=%s", cert);
	snprintf(e_tkey, sizeof(e_tkey), "PASSERELLE_TLS_KEY=%s", key);
	snprintf(e_sop, sizeof(e_sop), "PASSERELLE_SOP=%s/sop/mali.json",
	    harness_source_dir());
	port = harness_free_port();
	ck_assert_uint_gt(port, 0);
	snprintf(e_listen, sizeof(e_listen), "PASSERELLE_LISTEN=127.0.0.1:%u",
	    port);
	{
		const char *env[] = { e_db, e_key, e_sop,
			"PASSERELLE_ARGON2_OPS=2",
			"PASSERELLE_ARGON2_MEM_KIB=19456", NULL };
		const char *kg[] = { "keygen", "--out", mkey, NULL };
		const char *mg[] = { "migrate", NULL };
		const char *sd[] = { "seed", "--demo", NULL };

		ck_assert_int_eq(harness_run(env, kg, out, sizeof(out)), 0);
		ck_assert_int_eq(harness_run(env, mg, out, sizeof(out)), 0);
		ck_assert_int_eq(harness_run(env, sd, out, sizeof(out)), 0);
	}
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char bin[512], serve[] = "serve";
		char ops[] = "PASSERELLE_ARGON2_OPS=2";
		char mem[] = "PASSERELLE_ARGON2_MEM_KIB=19456";

		snprintf(bin, sizeof(bin), "%s", harness_bin());
		char *const argv[] = { bin, serve, NULL };
		char *const envp[] = { e_db, e_key, e_cert, e_tkey, e_listen,
			e_sop, ops, mem, NULL };

		execve(argv[0], argv, envp);
		_exit(127);
	}
	snprintf(url, sizeof(url), "https://127.0.0.1:%u/healthz", port);
	for (i = 0; i < 100 && st != 200; i++) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };

		if ((st = https(url, NULL, &a)) != 200)
			nanosleep(&ts, NULL);
	}
	ck_assert_int_eq(st, 200);
	ck_assert_ptr_nonnull(strcasestr(a.head, "Strict-Transport-Security"));
	snprintf(url, sizeof(url), "https://127.0.0.1:%u/api/v1/session", port);
	st = https(url, "{\"username\":\"police.agent\","
			"\"password\":\"Passerelle-Demo-2026\"}", &a);
	ck_assert_int_eq(st, 200);
	ck_assert_msg(strcasestr(a.head, "passerelle_session=") != NULL &&
	    strstr(a.head, "; Secure") != NULL, "cookie not Secure: %s",
	    a.head);
	/* Plain HTTP on the TLS port gets no HTTP answer. */
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/healthz", port);
	{
		struct answer plain;
		CURL *c = curl_easy_init();
		long code = 0;

		memset(&plain, 0, sizeof(plain));
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_TIMEOUT, 3L);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &plain);
		(void)curl_easy_perform(c);
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		curl_easy_cleanup(c);
		ck_assert_int_ne(code, 200);
	}
	kill(pid, SIGTERM);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	harness_db_drop(db);
	harness_rmtree(dir);
}
END_TEST

static Suite *
tls_suite(void)
{
	Suite *s = suite_create("tls");
	TCase *tc = tcase_create("https");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_tls_serves_https_with_secure_cookie_and_hsts);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return harness_run_suite("itest_tls", tls_suite);
}
