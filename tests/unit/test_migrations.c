/*
 * The migrations embedded in the binary (no database): ordered by strictly
 * increasing version, named NNNN_what.sql after their version, each with the
 * SHA-256 of its file in migrations/ and that file's exact text, and every
 * file of migrations/ embedded.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <sodium.h>

#include "db/db.h"

#ifndef PASSERELLE_SOURCE_DIR
#define PASSERELLE_SOURCE_DIR "."
#endif

static const char *
source_dir(void)
{
	const char *v = getenv("PASSERELLE_SOURCE_DIR");

	return v != NULL && *v != '\0' ? v : PASSERELLE_SOURCE_DIR;
}

/* Is name NNNN_something.sql, with NNNN its version? */
static int
name_ok(const char *name, int *version)
{
	size_t len = strlen(name), i;

	if (len < 10 || strcmp(name + len - 4, ".sql") != 0 || name[4] != '_')
		return 0;
	for (i = 0; i < 4; i++)
		if (name[i] < '0' || name[i] > '9')
			return 0;
	for (i = 5; i < len - 4; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		        (name[i] >= '0' && name[i] <= '9') || name[i] == '_'))
			return 0;
	*version = (name[0] - '0') * 1000 + (name[1] - '0') * 100 +
	           (name[2] - '0') * 10 + (name[3] - '0');
	return 1;
}

/* Reads a file whole; caller frees. */
static unsigned char *
slurp(const char *path, size_t *len)
{
	unsigned char *buf;
	long n;
	FILE *f;

	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	ck_assert_int_ge(n, 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

START_TEST(test_migrations_exist_and_end_with_sentinel)
{
	ck_assert_uint_ge(db_migrations_count, 1);
	ck_assert_ptr_null(db_migrations[db_migrations_count].name);
	ck_assert_ptr_null(db_migrations[db_migrations_count].sql);
}
END_TEST

START_TEST(test_migrations_versions_strictly_increase)
{
	size_t i;

	for (i = 1; i < db_migrations_count; i++)
		ck_assert_msg(db_migrations[i].version >
		                  db_migrations[i - 1].version,
		    "%s after %s", db_migrations[i].name,
		    db_migrations[i - 1].name);
	ck_assert_int_ge(db_migrations[0].version, 1);
}
END_TEST

START_TEST(test_migration_name_matches_version)
{
	const struct db_migration *m = &db_migrations[_i];
	int v = -1;

	ck_assert_ptr_nonnull(m->name);
	ck_assert_msg(name_ok(m->name, &v), "%s: not NNNN_what.sql", m->name);
	ck_assert_int_eq(v, m->version);
}
END_TEST

START_TEST(test_migration_checksum_is_sha256_of_file)
{
	const struct db_migration *m = &db_migrations[_i];
	unsigned char digest[crypto_hash_sha256_BYTES], *text;
	char hex[crypto_hash_sha256_BYTES * 2 + 1], path[1024];
	size_t len, i;

	ck_assert_ptr_nonnull(m->sha256);
	ck_assert_uint_eq(strlen(m->sha256), 64);
	for (i = 0; i < 64; i++)
		ck_assert_msg((m->sha256[i] >= '0' && m->sha256[i] <= '9') ||
		                  (m->sha256[i] >= 'a' && m->sha256[i] <= 'f'),
		    "%s: sha256 is not lower-case hex", m->name);
	snprintf(path, sizeof(path), "%s/migrations/%s", source_dir(), m->name);
	text = slurp(path, &len);
	crypto_hash_sha256(digest, text, len);
	sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
	ck_assert_msg(strcmp(hex, m->sha256) == 0,
	    "%s: embedded %s, file %s (rebuild?)", m->name, m->sha256, hex);
	/* The embedded text is the file, byte for byte. */
	ck_assert_uint_eq(strlen(m->sql), len);
	ck_assert_mem_eq(m->sql, text, len);
	free(text);
}
END_TEST

START_TEST(test_every_migration_file_is_embedded)
{
	char path[1024];
	struct dirent *de;
	size_t files = 0, i;
	int v, found;
	DIR *d;

	snprintf(path, sizeof(path), "%s/migrations", source_dir());
	d = opendir(path);
	ck_assert_msg(d != NULL, "cannot open %s", path);
	while ((de = readdir(d)) != NULL) {
		if (strlen(de->d_name) < 5 || de->d_name[0] < '0' ||
		    de->d_name[0] > '9')
			continue;
		ck_assert_msg(name_ok(de->d_name, &v), "%s: not NNNN_what.sql",
		    de->d_name);
		files++;
		for (i = 0, found = 0; i < db_migrations_count; i++)
			if (strcmp(db_migrations[i].name, de->d_name) == 0)
				found = 1;
		ck_assert_msg(found, "%s is not embedded (rebuild?)",
		    de->d_name);
	}
	closedir(d);
	ck_assert_uint_eq(files, db_migrations_count);
}
END_TEST

static Suite *
migrations_suite(void)
{
	Suite *s = suite_create("migrations");
	TCase *tc = tcase_create("embedded");

	tcase_add_test(tc, test_migrations_exist_and_end_with_sentinel);
	tcase_add_test(tc, test_migrations_versions_strictly_increase);
	tcase_add_loop_test(tc, test_migration_name_matches_version, 0,
	    (int)db_migrations_count);
	tcase_add_loop_test(tc, test_migration_checksum_is_sha256_of_file, 0,
	    (int)db_migrations_count);
	tcase_add_test(tc, test_every_migration_file_is_embedded);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	if (sodium_init() < 0) {
		fprintf(stderr, "test_migrations: libsodium cannot start\n");
		return 1;
	}
	sr = srunner_create(migrations_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
