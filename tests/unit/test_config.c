/*
 * Settings: defaults, the environment, flags over the environment, bounds
 * (errors name the variable), listen addresses, TLS pairs, resolved values,
 * arguments passed through, and config_require. Every PASSERELLE_ variable
 * is cleared before and after each test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "config.h"

extern char **environ;

static void
clear_env(void)
{
	char names[64][64];
	size_t n = 0, i, len;
	char **e;

	for (e = environ; *e != NULL && n < 64; e++) {
		if (strncmp(*e, "PASSERELLE_", 11) != 0)
			continue;
		len = strcspn(*e, "=");
		if (len >= sizeof(names[0]))
			continue;
		memcpy(names[n], *e, len);
		names[n++][len] = '\0';
	}
	for (i = 0; i < n; i++)
		unsetenv(names[i]);
}

/*
 * Loads with args (NULL-terminated, may be NULL); err gets the message.
 * config_load keeps pointers into argv in rest: when rest is given, it
 * receives copies (caller frees).
 */
static int
load(struct config *c, const char *const *args, char **rest, int *nrest,
    char *err, size_t errlen)
{
	char *argv[32], *r[32];
	int argc = 0, nr = 0, rc, i;

	while (args != NULL && args[argc] != NULL && argc < 31) {
		argv[argc] = strdup(args[argc]);
		ck_assert_ptr_nonnull(argv[argc]);
		argc++;
	}
	argv[argc] = NULL;
	err[0] = '\0';
	rc = config_load(c, argc, argv, r, &nr, err, errlen);
	if (nrest != NULL)
		*nrest = nr;
	for (i = 0; rest != NULL && i < nr; i++)
		rest[i] = strdup(r[i]);
	for (i = 0; i < argc; i++)
		free(argv[i]);
	return rc;
}

START_TEST(test_config_defaults)
{
	struct config c;
	char err[256];

	ck_assert_int_eq(load(&c, NULL, NULL, NULL, err, sizeof(err)), 0);
	ck_assert_ptr_null(c.database_url);
	ck_assert_ptr_null(c.key_file);
	ck_assert_ptr_null(c.tls_cert);
	ck_assert_str_eq(c.listen, "127.0.0.1:8080");
	ck_assert_str_eq(c.listen_host, "127.0.0.1");
	ck_assert_uint_eq(c.listen_port, 8080);
	ck_assert_str_eq(c.web_root, "web");
	ck_assert_ptr_null(c.lib_root);	/* serve: node_modules by web_root */
	ck_assert_int_eq(c.max_body, 1048576);
	ck_assert_int_eq(c.json_max_depth, 16);
	ck_assert_int_eq(c.secure_cookies, 0);
	ck_assert_int_gt(c.threads, 0);
	ck_assert_int_eq(c.db_pool_size, c.threads + 2);
	/* statistics count the cases opened before this month */
	ck_assert_str_eq(c.stats_freeze, "month");
	config_free(&c);
}
END_TEST

START_TEST(test_config_reads_environment)
{
	struct config c;
	char err[256];

	setenv("PASSERELLE_DATABASE_URL", "postgresql:///x", 1);
	setenv("PASSERELLE_MAX_BODY", "2048", 1);
	setenv("PASSERELLE_LISTEN", "0.0.0.0:9000", 1);
	setenv("PASSERELLE_SECURE_COOKIES", "true", 1);
	setenv("PASSERELLE_THREADS", "3", 1);
	ck_assert_int_eq(load(&c, NULL, NULL, NULL, err, sizeof(err)), 0);
	ck_assert_str_eq(c.database_url, "postgresql:///x");
	ck_assert_int_eq(c.max_body, 2048);
	ck_assert_str_eq(c.listen_host, "0.0.0.0");
	ck_assert_uint_eq(c.listen_port, 9000);
	ck_assert_int_eq(c.secure_cookies, 1);
	ck_assert_int_eq(c.threads, 3);
	ck_assert_int_eq(c.db_pool_size, 5);
	config_free(&c);
}
END_TEST

START_TEST(test_config_empty_variable_counts_as_unset)
{
	struct config c;
	char err[256];

	setenv("PASSERELLE_LISTEN", "", 1);
	setenv("PASSERELLE_MAX_BODY", "", 1);
	ck_assert_int_eq(load(&c, NULL, NULL, NULL, err, sizeof(err)), 0);
	ck_assert_str_eq(c.listen, "127.0.0.1:8080");
	ck_assert_int_eq(c.max_body, 1048576);
	config_free(&c);
}
END_TEST

START_TEST(test_config_flags_override_environment)
{
	static const char *const eq[] = { "--max-body=4096",
		"--database-url=postgresql:///flag", NULL };
	static const char *const sep[] = { "--max-body", "8192", "--listen",
		"[::1]:8443", NULL };
	struct config c;
	char err[256];

	setenv("PASSERELLE_MAX_BODY", "2048", 1);
	setenv("PASSERELLE_DATABASE_URL", "postgresql:///env", 1);
	setenv("PASSERELLE_LISTEN", "127.0.0.1:1", 1);
	ck_assert_int_eq(load(&c, eq, NULL, NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(c.max_body, 4096);
	ck_assert_str_eq(c.database_url, "postgresql:///flag");
	config_free(&c);
	ck_assert_int_eq(load(&c, sep, NULL, NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(c.max_body, 8192);
	ck_assert_str_eq(c.database_url, "postgresql:///env");
	ck_assert_str_eq(c.listen_host, "::1");
	ck_assert_uint_eq(c.listen_port, 8443);
	config_free(&c);
}
END_TEST

START_TEST(test_config_lib_root_from_environment_and_flag)
{
	static const char *const flag[] = { "--lib-root=/srv/lib", NULL };
	struct config c;
	char err[256];

	setenv("PASSERELLE_LIB_ROOT", "/opt/passerelle/node_modules", 1);
	ck_assert_int_eq(load(&c, NULL, NULL, NULL, err, sizeof(err)), 0);
	ck_assert_str_eq(c.lib_root, "/opt/passerelle/node_modules");
	config_free(&c);
	ck_assert_int_eq(load(&c, flag, NULL, NULL, err, sizeof(err)), 0);
	ck_assert_str_eq(c.lib_root, "/srv/lib");
	config_free(&c);
}
END_TEST

START_TEST(test_config_later_flag_wins)
{
	static const char *const args[] = { "--max-body=4096",
		"--max-body=5000", NULL };
	struct config c;
	char err[256];

	ck_assert_int_eq(load(&c, args, NULL, NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(c.max_body, 5000);
	config_free(&c);
}
END_TEST

START_TEST(test_config_bool_flag_without_value)
{
	static const char *const bare[] = { "--secure-cookies", NULL };
	static const char *const off[] = { "--secure-cookies=false", NULL };
	static const char *const bad[] = { "--secure-cookies=maybe", NULL };
	struct config c;
	char err[256];

	ck_assert_int_eq(load(&c, bare, NULL, NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(c.secure_cookies, 1);
	config_free(&c);
	setenv("PASSERELLE_SECURE_COOKIES", "yes", 1);
	ck_assert_int_eq(load(&c, off, NULL, NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(c.secure_cookies, 0);
	config_free(&c);
	ck_assert_int_eq(load(&c, bad, NULL, NULL, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "PASSERELLE_SECURE_COOKIES") != NULL, "%s",
	    err);
	config_free(&c);
}
END_TEST

/* Out-of-bounds or malformed values: the error names the variable. */
static const struct {
	const char *var;
	const char *value;
} bad_values[] = {
	{ "PASSERELLE_MAX_BODY", "1023" },
	{ "PASSERELLE_MAX_BODY", "67108865" },
	{ "PASSERELLE_MAX_BODY", "-1" },
	{ "PASSERELLE_MAX_BODY", "abc" },
	{ "PASSERELLE_MAX_BODY", "12k" },
	{ "PASSERELLE_MAX_BODY", "4096 " },
	{ "PASSERELLE_MAX_BODY", "99999999999999999999999" },
	{ "PASSERELLE_THREADS", "1025" },
	{ "PASSERELLE_THREADS", "-1" },
	{ "PASSERELLE_DB_POOL_SIZE", "1025" },
	{ "PASSERELLE_DB_TIMEOUT", "0" },
	{ "PASSERELLE_DB_TIMEOUT", "601" },
	{ "PASSERELLE_CONNECTION_TIMEOUT", "0" },
	{ "PASSERELLE_CONNECTION_TIMEOUT", "3601" },
	{ "PASSERELLE_MAX_CONNECTIONS", "15" },
	{ "PASSERELLE_MAX_CONNECTIONS", "65536" },
	{ "PASSERELLE_PER_IP_CONNECTIONS", "0" },
	{ "PASSERELLE_JSON_MAX_DEPTH", "1" },
	{ "PASSERELLE_JSON_MAX_DEPTH", "257" },
	{ "PASSERELLE_SECURE_COOKIES", "2" },
	{ "PASSERELLE_LISTEN", "8080" },
	{ "PASSERELLE_STATS_FREEZE", "week" },
	{ "PASSERELLE_STATS_FREEZE", "Month" },
};

START_TEST(test_config_out_of_bounds_names_variable)
{
	struct config c;
	char err[256];

	setenv(bad_values[_i].var, bad_values[_i].value, 1);
	ck_assert_msg(load(&c, NULL, NULL, NULL, err, sizeof(err)) == -1,
	    "%s=%s accepted", bad_values[_i].var, bad_values[_i].value);
	ck_assert_msg(strstr(err, bad_values[_i].var) != NULL,
	    "%s=%s: error does not name it: %s", bad_values[_i].var,
	    bad_values[_i].value, err);
	ck_assert_ptr_null(strchr(err, '\n'));
	config_free(&c);
}
END_TEST

START_TEST(test_config_bounds_are_inclusive)
{
	struct config c;
	char err[256];

	setenv("PASSERELLE_MAX_BODY", "1024", 1);
	setenv("PASSERELLE_JSON_MAX_DEPTH", "256", 1);
	setenv("PASSERELLE_PER_IP_CONNECTIONS", "1", 1);
	ck_assert_int_eq(load(&c, NULL, NULL, NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(c.max_body, 1024);
	ck_assert_int_eq(c.json_max_depth, 256);
	ck_assert_int_eq(c.per_ip_connections, 1);
	config_free(&c);
	setenv("PASSERELLE_MAX_BODY", "67108864", 1);
	ck_assert_int_eq(load(&c, NULL, NULL, NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(c.max_body, 67108864);
	config_free(&c);
}
END_TEST

START_TEST(test_config_flag_error_names_variable_and_flag)
{
	static const char *const args[] = { "--max-body=1", NULL };
	static const char *const dangling[] = { "--max-body", NULL };
	struct config c;
	char err[256];

	ck_assert_int_eq(load(&c, args, NULL, NULL, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "PASSERELLE_MAX_BODY") != NULL, "%s", err);
	ck_assert_msg(strstr(err, "--max-body") != NULL, "%s", err);
	config_free(&c);
	ck_assert_int_eq(load(&c, dangling, NULL, NULL, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "--max-body") != NULL, "%s", err);
	config_free(&c);
}
END_TEST

static const struct {
	const char *listen;
	const char *host; /* NULL: refused */
	unsigned int port;
} listens[] = {
	{ "127.0.0.1:8080", "127.0.0.1", 8080 },
	{ "0.0.0.0:65535", "0.0.0.0", 65535 },
	{ "localhost:0", "localhost", 0 },
	{ "[::1]:8080", "::1", 8080 },
	{ "[::]:443", "::", 443 },
	{ "[fe80::1%eth0]:80", "fe80::1%eth0", 80 },
	{ "8080", NULL, 0 },
	{ ":8080", NULL, 0 },
	{ "127.0.0.1:", NULL, 0 },
	{ "127.0.0.1:65536", NULL, 0 },
	{ "127.0.0.1:-1", NULL, 0 },
	{ "127.0.0.1:80x", NULL, 0 },
	{ "127.0.0.1:http", NULL, 0 },
	{ "[::1]8080", NULL, 0 },
	{ "[::1:8080", NULL, 0 },
	{ "[]:80", NULL, 0 },
};

START_TEST(test_config_listen_table)
{
	const char *args[2] = { NULL, NULL };
	char flag[128], err[256];
	struct config c;
	int rc;

	snprintf(flag, sizeof(flag), "--listen=%s", listens[_i].listen);
	args[0] = flag;
	rc = load(&c, args, NULL, NULL, err, sizeof(err));
	if (listens[_i].host == NULL) {
		ck_assert_msg(rc == -1, "%s accepted", listens[_i].listen);
		ck_assert_msg(strstr(err, "PASSERELLE_LISTEN") != NULL, "%s",
		    err);
	} else {
		ck_assert_msg(rc == 0, "%s: %s", listens[_i].listen, err);
		ck_assert_str_eq(c.listen, listens[_i].listen);
		ck_assert_str_eq(c.listen_host, listens[_i].host);
		ck_assert_uint_eq(c.listen_port, listens[_i].port);
	}
	config_free(&c);
}
END_TEST

START_TEST(test_config_tls_needs_both_files)
{
	static const char *const cert[] = { "--tls-cert=/c.pem", NULL };
	static const char *const key[] = { "--tls-key=/k.pem", NULL };
	static const char *const both[] = { "--tls-cert=/c.pem",
		"--tls-key=/k.pem", NULL };
	struct config c;
	char err[256];

	ck_assert_int_eq(load(&c, cert, NULL, NULL, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "PASSERELLE_TLS_KEY") != NULL, "%s", err);
	config_free(&c);
	ck_assert_int_eq(load(&c, key, NULL, NULL, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "PASSERELLE_TLS_CERT") != NULL, "%s", err);
	config_free(&c);
	ck_assert_int_eq(load(&c, both, NULL, NULL, err, sizeof(err)), 0);
	ck_assert_str_eq(c.tls_cert, "/c.pem");
	ck_assert_str_eq(c.tls_key, "/k.pem");
	ck_assert_int_eq(c.secure_cookies, 1); /* TLS implies Secure */
	config_free(&c);
}
END_TEST

START_TEST(test_config_zero_threads_and_pool_resolve)
{
	static const char *const zero[] = { "--threads=0", "--db-pool-size=0",
		NULL };
	static const char *const pool[] = { "--threads=2", "--db-pool-size=7",
		NULL };
	struct config c;
	char err[256];

	ck_assert_int_eq(load(&c, zero, NULL, NULL, err, sizeof(err)), 0);
	ck_assert_int_gt(c.threads, 0);
	ck_assert_int_le(c.threads, 1024);
	ck_assert_int_eq(c.db_pool_size, c.threads + 2);
	config_free(&c);
	ck_assert_int_eq(load(&c, pool, NULL, NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(c.threads, 2);
	ck_assert_int_eq(c.db_pool_size, 7);
	config_free(&c);
}
END_TEST

START_TEST(test_config_passes_other_arguments_in_order)
{
	static const char *const args[] = { "--status", "--max-body=2048",
		"extra", "--listen", "[::1]:9", "--verbose", "--secure-cookies",
		"x", "--max-bodyx=5", "-", "--", NULL };
	static const char *const want[] = { "--status", "extra", "--verbose",
		"x", "--max-bodyx=5", "-", "--" };
	char *rest[32], err[256];
	struct config c;
	int nrest = -1, i;

	ck_assert_int_eq(load(&c, args, rest, &nrest, err, sizeof(err)), 0);
	ck_assert_int_eq(nrest, (int)(sizeof(want) / sizeof(want[0])));
	for (i = 0; i < nrest; i++) {
		ck_assert_str_eq(rest[i], want[i]);
		free(rest[i]);
	}
	ck_assert_int_eq(c.max_body, 2048);
	ck_assert_uint_eq(c.listen_port, 9);
	ck_assert_int_eq(c.secure_cookies, 1);
	config_free(&c);
}
END_TEST

START_TEST(test_config_require_names_variable_and_flag)
{
	static const char *const with_db[] = { "--database-url=postgresql:///x",
		NULL };
	struct config c;
	char err[256];

	ck_assert_int_eq(load(&c, NULL, NULL, NULL, err, sizeof(err)), 0);
	err[0] = '\0';
	ck_assert_int_eq(config_require(&c, "database_url", err, sizeof(err)),
	    -1);
	ck_assert_msg(strstr(err, "PASSERELLE_DATABASE_URL") != NULL, "%s",
	    err);
	ck_assert_msg(strstr(err, "--database-url") != NULL, "%s", err);
	ck_assert_int_eq(config_require(&c, "key_file", err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "PASSERELLE_KEY_FILE") != NULL, "%s", err);
	ck_assert_msg(strstr(err, "--key-file") != NULL, "%s", err);
	ck_assert_int_eq(
	    config_require(&c, "no_such_setting", err, sizeof(err)), -1);
	ck_assert_int_eq(config_require(&c, "web_root", err, sizeof(err)), 0);
	config_free(&c);

	ck_assert_int_eq(load(&c, with_db, NULL, NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(config_require(&c, "database_url", err, sizeof(err)),
	    0);
	config_free(&c);
}
END_TEST

START_TEST(test_config_free_clears_and_allows_twice)
{
	static const char *const args[] = { "--database-url=x", NULL };
	struct config c;
	char err[256];

	ck_assert_int_eq(load(&c, args, NULL, NULL, err, sizeof(err)), 0);
	config_free(&c);
	ck_assert_ptr_null(c.database_url);
	ck_assert_ptr_null(c.listen_host);
	config_free(&c);
}
END_TEST

static Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("load");

	tcase_add_checked_fixture(tc, clear_env, clear_env);
	tcase_add_test(tc, test_config_defaults);
	tcase_add_test(tc, test_config_reads_environment);
	tcase_add_test(tc, test_config_empty_variable_counts_as_unset);
	tcase_add_test(tc, test_config_flags_override_environment);
	tcase_add_test(tc, test_config_lib_root_from_environment_and_flag);
	tcase_add_test(tc, test_config_later_flag_wins);
	tcase_add_test(tc, test_config_bool_flag_without_value);
	tcase_add_loop_test(tc, test_config_out_of_bounds_names_variable, 0,
	    (int)(sizeof(bad_values) / sizeof(bad_values[0])));
	tcase_add_test(tc, test_config_bounds_are_inclusive);
	tcase_add_test(tc, test_config_flag_error_names_variable_and_flag);
	tcase_add_loop_test(tc, test_config_listen_table, 0,
	    (int)(sizeof(listens) / sizeof(listens[0])));
	tcase_add_test(tc, test_config_tls_needs_both_files);
	tcase_add_test(tc, test_config_zero_threads_and_pool_resolve);
	tcase_add_test(tc, test_config_passes_other_arguments_in_order);
	tcase_add_test(tc, test_config_require_names_variable_and_flag);
	tcase_add_test(tc, test_config_free_clears_and_allows_twice);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
