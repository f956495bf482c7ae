/*
 * Operations against a real server and a real PostgreSQL: retention
 * (`passerelle retention run [--dry-run]`) and the schema checks that make
 * upgrades safe (`migrate --status`, a server refusing a schema newer than
 * it knows).
 *
 * Retention: cases are closed through the API as the SOP allows, their
 * closing is back-dated in the database (the only way to age a case without
 * waiting ten years), then a dry run must change nothing at all (the whole
 * pg_dump is compared), a real run must shred exactly the cases past the
 * SOP's retention (as an erasure does), keep statistics and the audit chain
 * whole, and a second run must find nothing to do.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <jansson.h>

#include "harness.h"
#include "world.h"

static struct env oe;

/* Distinctive names, looked for in outputs and answers. */
static const char *const given[] = { "Kadiatou-Rtn", "Oumou-Rtn",
	"Fanta-Rtn", "Awa-Rtn" };
#define FAMILY "Traore-Qzx"

static void
create_named(const struct sess *s, const char *name, char id[40])
{
	char d[11];
	struct res x;

	today(d);
	x = callj(&oe.srv, s, "POST", "/api/v1/cases",
	    json_pack("{s:{s:s, s:s, s:s, s:i, s:[s]}, s:{s:s, s:s, s:[s]}}",
	        "victim", "given_name", name, "family_name", FAMILY, "sex",
	        "female", "age_estimate", 30, "languages", "snk",
	        "identification", "date", d,
	        "region", "bamako", "exploitation_types", "forced_labour"));
	EXPECT(x, 201, "create case");
	snprintf(id, 40, "%s", jstr(x.j, "id"));
	res_free(&x);
}

static struct res
get_case(const struct sess *s, const char *id)
{
	char path[256];

	snprintf(path, sizeof(path), "/api/v1/cases/%s", id);
	return call(&oe.srv, s, "GET", path, NULL);
}

static void
close_case(const struct sess *chef, const char *id)
{
	char path[256];
	struct res x = get_case(chef, id);
	long long v;

	EXPECT(x, 200, "read before closing");
	v = jint(x.j, "version");
	res_free(&x);
	snprintf(path, sizeof(path), "/api/v1/cases/%s/transitions", id);
	x = callj(&oe.srv, chef, "POST", path,
	    json_pack("{s:s, s:I}", "transition", "close_at_identification",
	        "version", (json_int_t)v));
	EXPECT(x, 200, "close the case");
	ck_assert_str_eq(jstr(x.j, "stage"), "closed");
	res_free(&x);
}

/* Moves a case's entry into its current stage days into the past. */
static void
age_case(const char *id, const char *days)
{
	char one[8];

	sqlv(oe.db, "UPDATE cases SET stage_since = now() - "
	    "make_interval(days => $2::int) WHERE id = $1::uuid RETURNING 1",
	    id, days, one, sizeof(one));
	ck_assert_str_eq(one, "1");
}

static long
identity_rows(const char *id)
{
	return sqln(oe.db,
	    "SELECT (SELECT count(*) FROM case_fields WHERE case_id = $1) + "
	    "(SELECT count(*) FROM case_keys WHERE case_id = $1) + "
	    "(SELECT count(*) FROM case_blind WHERE case_id = $1)", id, NULL);
}

/*
 * A pg_dump without the \restrict and \unrestrict lines, whose token is
 * random on every dump (pg_dump since 15.14).
 */
static char *
dump_stable(void)
{
	char *d = pg_dump_text(&oe), *r = d, *w = d, *eol;

	while (*r != '\0') {
		eol = strchr(r, '\n');
		eol = eol ? eol + 1 : r + strlen(r);
		if (strncmp(r, "\\restrict ", 10) != 0 &&
		    strncmp(r, "\\unrestrict ", 12) != 0) {
			memmove(w, r, (size_t)(eol - r));
			w += eol - r;
		}
		r = eol;
	}
	*w = '\0';
	return d;
}

/* The first line where a and b differ, for a failure message. */
static const char *
first_diff(const char *a, const char *b)
{
	const char *line = a;
	size_t i;

	for (i = 0; a[i] != '\0' && a[i] == b[i]; i++)
		if (a[i] == '\n')
			line = a + i + 1;
	return line;
}

/* This year's statistics by sex (the cases were registered today; an answer
 * covers one calendar year), without their time of making. */
static json_t *
stats_of(const struct sess *analyst)
{
	char path[256], d[11];
	struct res x;
	json_t *j;

	today(d);
	snprintf(path, sizeof(path), "/api/v1/stats?from=%s&to=%s&by=sex",
	    d, d);
	x = call(&oe.srv, analyst, "GET", path, NULL);
	EXPECT(x, 200, "statistics");
	ck_assert_ptr_nonnull(x.j);
	j = json_incref(x.j);
	res_free(&x);
	json_object_del(j, "generated_at");
	return j;
}

START_TEST(test_retention_shreds_only_cases_past_the_sop)
{
	const char *dry[] = { "retention", "run", "--dry-run", NULL };
	const char *run[] = { "retention", "run", NULL };
	const char *verify[] = { "audit", "verify", NULL };
	char id[4][40], out[16384], want[128];
	struct sess p, chef, analyst;
	char *dump1, *dump2;
	json_t *stats1, *stats2;
	json_t *kept[2];
	struct res x;
	long audits;
	int i, rc;

	login_ok(&oe.srv, "police.agent", &p);
	login_ok(&oe.srv, "police.chef", &chef);
	login_ok(&oe.srv, "comite.analyste", &analyst);
	for (i = 0; i < 4; i++)
		create_named(&p, given[i], id[i]);
	/* 0 and 1: closed longer ago than Mali's 3650 days; 2: closed
	 * recently; 3: open, however old. */
	for (i = 0; i < 3; i++)
		close_case(&chef, id[i]);
	age_case(id[0], "4000");
	age_case(id[1], "3651");
	age_case(id[2], "3000");
	age_case(id[3], "9000");
	for (i = 0; i < 2; i++) {
		x = get_case(&p, id[i + 2]);
		EXPECT(x, 200, "read a case to keep");
		kept[i] = json_incref(x.j);
		res_free(&x);
	}
	stats1 = stats_of(&analyst);

	/* The dry run lists 0 and 1, nothing identifying, changes nothing. */
	dump1 = dump_stable();
	rc = env_run(&oe, NULL, dry, out, sizeof(out));
	ck_assert_msg(rc == 0, "dry run exited %d: %s", rc, out);
	for (i = 0; i < 4; i++) {
		snprintf(want, sizeof(want), "would erase case %s closed ",
		    id[i]);
		ck_assert_msg((strstr(out, want) != NULL) == (i < 2),
		    "dry run, case %d: %s", i, out);
		assert_absent(out, given[i], "the dry run's output");
	}
	assert_absent(out, FAMILY, "the dry run's output");
	ck_assert_msg(strstr(out, "2 case(s) closed before ") != NULL &&
	        strstr(out, "dry run: nothing changed") != NULL,
	    "dry run summary: %s", out);
	dump2 = dump_stable();
	ck_assert_msg(strcmp(dump1, dump2) == 0,
	    "the dry run changed the database: %.300s",
	    first_diff(dump1, dump2));
	free(dump1);
	free(dump2);
	ck_assert_int_gt(identity_rows(id[0]), 0);

	/* The real run shreds 0 and 1, each audited in the police chain. */
	audits = sqln(oe.db, "SELECT count(*) FROM audit_log", NULL, NULL);
	rc = env_run(&oe, NULL, run, out, sizeof(out));
	ck_assert_msg(rc == 0, "retention run exited %d: %s", rc, out);
	for (i = 0; i < 4; i++) {
		snprintf(want, sizeof(want), "erased case %s closed ", id[i]);
		ck_assert_msg((strstr(out, want) != NULL) == (i < 2),
		    "run, case %d: %s", i, out);
		assert_absent(out, given[i], "the run's output");
	}
	ck_assert_msg(strstr(out, "2 case(s) closed before ") != NULL, "%s",
	    out);
	for (i = 0; i < 4; i++)
		ck_assert_msg((identity_rows(id[i]) == 0) == (i < 2),
		    "case %d: identity rows %ld", i, identity_rows(id[i]));
	ck_assert_int_eq(sqln(oe.db,
	                     "SELECT count(*) FROM audit_log WHERE action = "
	                     "'case.retention_erase' AND user_id IS NULL AND "
	                     "organisation_id = $1::uuid AND resource_id = "
	                     "$2",
	                     chef.org_id, id[0]),
	    1);
	ck_assert_int_eq(sqln(oe.db,
	                     "SELECT count(*) FROM audit_log WHERE action = "
	                     "'case.retention_erase'",
	                     NULL, NULL),
	    2);
	ck_assert_int_eq(sqln(oe.db, "SELECT count(*) FROM audit_log", NULL,
	                     NULL),
	    audits + 2);
	ck_assert_int_eq(sqln(oe.db,
	                     "SELECT count(*) FROM cases WHERE id = $1::uuid "
	                     "AND erased_at IS NOT NULL AND sex = 'female' AND "
	                     "region = 'bamako'",
	                     id[1], NULL),
	    1);

	/* Through the API: shredded cases show erased, without identity;
	 * the others read back exactly as before. */
	for (i = 0; i < 2; i++) {
		x = get_case(&p, id[i]);
		EXPECT(x, 200, "read a shredded case");
		ck_assert(json_is_true(jpath(x.j, "erased")));
		ck_assert_ptr_null(jpath(x.j, "victim.given_name"));
		assert_absent(x.body, given[i], "a shredded case");
		assert_absent(x.body, FAMILY, "a shredded case");
		ck_assert_str_eq(jstr(x.j, "victim.sex"), "female");
		/* Retention shreds as an erasure does: nothing finer than a
		 * statistics cell stays in clear. */
		ck_assert_ptr_null(jpath(x.j, "victim.languages"));
		ck_assert_int_eq(jint(x.j, "victim.age_estimate"), 25);
		ck_assert_str_eq(jstr(x.j, "identification.date") + 8, "01");
		res_free(&x);
		x = get_case(&p, id[i + 2]);
		EXPECT(x, 200, "read a kept case");
		ck_assert_msg(json_equal(x.j, kept[i]),
		    "kept case %d changed: %s", i + 2, x.body);
		ck_assert_str_eq(jstr(x.j, "victim.given_name"), given[i + 2]);
		res_free(&x);
		json_decref(kept[i]);
	}

	/* Statistics count the shredded victims as before. */
	stats2 = stats_of(&analyst);
	ck_assert_msg(json_equal(stats1, stats2), "statistics changed");
	ck_assert_int_eq(jint(stats2, "totals.all.count"), 4);
	ck_assert_str_eq(jstr(stats2, "cells.0.sex"), "female");
	ck_assert_int_eq(jint(stats2, "cells.0.count"), 4);
	json_decref(stats1);
	json_decref(stats2);

	rc = env_run(&oe, NULL, verify, out, sizeof(out));
	ck_assert_msg(rc == 0 && strstr(out, "intact") != NULL,
	    "audit verify exited %d: %s", rc, out);

	/* Idempotent: nothing left to do, nothing written. */
	audits = sqln(oe.db, "SELECT count(*) FROM audit_log", NULL, NULL);
	rc = env_run(&oe, NULL, run, out, sizeof(out));
	ck_assert_msg(rc == 0, "second run exited %d: %s", rc, out);
	ck_assert_msg(strstr(out, "erased case") == NULL &&
	        strstr(out, "0 case(s) closed before ") != NULL,
	    "second run: %s", out);
	ck_assert_int_eq(sqln(oe.db, "SELECT count(*) FROM audit_log", NULL,
	                     NULL),
	    audits);
}
END_TEST

START_TEST(test_retention_leaves_a_reopened_case)
{
	const char *run[] = { "retention", "run", NULL };
	char id[40], path[128], out[8192];
	struct sess p, chef;
	struct res x;
	int rc;

	login_ok(&oe.srv, "police.agent", &p);
	login_ok(&oe.srv, "police.chef", &chef);
	create_named(&p, given[0], id);
	close_case(&chef, id);
	x = get_case(&chef, id);
	snprintf(path, sizeof(path), "/api/v1/cases/%s/transitions", id);
	{
		long long v = jint(x.j, "version");

		res_free(&x);
		x = callj(&oe.srv, &chef, "POST", path,
		    json_pack("{s:s, s:I}", "transition", "reopen_follow_up",
		        "version", (json_int_t)v));
	}
	EXPECT(x, 200, "reopen");
	res_free(&x);
	/* Open for ages, closed long ago before that: not due. */
	age_case(id, "5000");
	rc = env_run(&oe, NULL, run, out, sizeof(out));
	ck_assert_msg(rc == 0 && strstr(out, "0 case(s)") != NULL,
	    "run exited %d: %s", rc, out);
	ck_assert_int_gt(identity_rows(id), 0);
}
END_TEST

START_TEST(test_retention_rejects_bad_usage)
{
	const char *bad[][4] = { { "retention", NULL },
		{ "retention", "run", "--dry", NULL },
		{ "retention", "go", NULL } };
	char out[4096];
	size_t i;
	int rc;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rc = env_run(&oe, NULL, bad[i], out, sizeof(out));
		ck_assert_msg(rc != 0 && strstr(out, "usage: passerelle "
		                                    "retention run") != NULL,
		    "%s %s: exit %d: %s", bad[i][0], bad[i][1] ? bad[i][1] : "",
		    rc, out);
	}
}
END_TEST

/* ----------------------------------------------------- synthetic cases */

/*
 * `passerelle seed --synthetic N` (the benchmark's data) writes N cases
 * that the server reads like real ones: a reader of the lead organisation
 * gets their names decrypted, and no name is in the database in clear.
 */
START_TEST(test_synthetic_cases_read_like_real_ones)
{
	const char *seed[] = { "seed", "--synthetic", "90", NULL };
	const char *verify[] = { "audit", "verify", NULL };
	char out[4096], id[40], org[40], name[128];
	struct sess p;
	struct res x;
	long before;
	char *dump;
	int rc, i;

	before = sqln(oe.db, "SELECT count(*) FROM cases", NULL, NULL);
	rc = env_run(&oe, NULL, seed, out, sizeof(out));
	ck_assert_msg(rc == 0, "seed --synthetic exited %d: %s", rc, out);
	ck_assert_int_eq(sqln(oe.db, "SELECT count(*) FROM cases", NULL, NULL),
	    before + 90);
	ck_assert_int_eq(sqln(oe.db, "SELECT count(*) FROM cases c WHERE NOT "
	                             "EXISTS (SELECT 1 FROM case_keys k WHERE "
	                             "k.case_id = c.id)",
	                     NULL, NULL),
	    0);

	login_ok(&oe.srv, "police.agent", &p);
	ck_assert_int_eq(harness_value(oe.db, "SELECT organisation_id FROM "
	                                      "users WHERE username = "
	                                      "'police.agent'",
	                     NULL, 0, org, sizeof(org)),
	    0);
	/*
	 * Every case the police desk may open has its names decrypted; the
	 * first name of at least 6 bytes is looked for in the dump (a shorter
	 * name's hex could turn up in random bytes by chance).
	 */
	name[0] = '\0';
	for (i = 0; i < 90; i++) {
		char off[16];
		const char *qp[2] = { org, off };
		const char *g, *f;

		snprintf(off, sizeof(off), "%d", i);
		if (harness_value(oe.db, "SELECT c.id FROM cases c JOIN "
		                         "case_access a ON a.case_id = c.id "
		                         "WHERE a.organisation_id = $1 AND "
		                         "a.ended_at IS NULL ORDER BY c.id "
		                         "OFFSET $2::int LIMIT 1",
		        qp, 2, id, sizeof(id)) != 0)
			break;
		x = get_case(&p, id);
		EXPECT(x, 200, "read a synthetic case");
		g = jstr(x.j, "victim.given_name");
		f = jstr(x.j, "victim.family_name");
		ck_assert_msg(g != NULL && strlen(g) >= 2 && f != NULL &&
		        strlen(f) >= 2,
		    "no name decrypted");
		if (name[0] == '\0')
			snprintf(name, sizeof(name), "%s",
			    strlen(g) >= 6 ? g : strlen(f) >= 6 ? f : "");
		res_free(&x);
	}
	ck_assert_msg(i > 0, "no synthetic case for the police desk's "
	                     "organisation");
	ck_assert_msg(name[0] != '\0', "no synthetic name of 6 bytes");

	dump = pg_dump_text(&oe);
	ck_assert_ptr_nonnull(dump);
	assert_absent(dump, name, "the database");
	free(dump);
	rc = env_run(&oe, NULL, verify, out, sizeof(out));
	ck_assert_msg(rc == 0, "audit verify after the seed: %d: %s", rc, out);
}
END_TEST

/* ---------------------------------------------------------- statements */

/*
 * `passerelle statement NAME` prints the SQL the server prepares under that
 * name (scripts/bench runs the case read's own statements under pgbench):
 * the text PostgreSQL accepts, with the parameters the server binds.
 */
START_TEST(test_statement_prints_what_the_server_prepares)
{
	static const struct {
		const char *name, *has;
		int nparams;
	} want[] = { { "case_read_signed", "WITH hit AS (", 4 },
		{ "audit_append_commit", "UPDATE audit_heads", 13 } };
	char out[16384], *sql;
	size_t i, n;
	int rc;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const char *args[] = { "statement", want[i].name, NULL };
		char dollar[16];

		rc = env_run(&oe, NULL, args, out, sizeof(out));
		ck_assert_msg(rc == 0 && strstr(out, want[i].has) != NULL,
		    "%s: exit %d: %.300s", want[i].name, rc, out);
		snprintf(dollar, sizeof(dollar), "$%d", want[i].nparams);
		ck_assert_msg(strstr(out, dollar) != NULL, "%s: no %s",
		    want[i].name, dollar);
		snprintf(dollar, sizeof(dollar), "$%d", want[i].nparams + 1);
		ck_assert_msg(strstr(out, dollar) == NULL, "%s: a %s",
		    want[i].name, dollar);
		n = strlen(out) + 64;
		sql = malloc(n);
		ck_assert_ptr_nonnull(sql);
		snprintf(sql, n, "PREPARE t AS %s; DEALLOCATE t", out);
		ck_assert_msg(harness_exec(oe.db, sql) == 0,
		    "%s does not prepare", want[i].name);
		free(sql);
	}
}
END_TEST

START_TEST(test_statement_rejects_bad_usage)
{
	const char *bad[][4] = { { "statement", NULL },
		{ "statement", "case_read_signed", "audit_insert", NULL },
		{ "statement", "no_such_statement", NULL } };
	const char *why[] = { "usage: passerelle statement NAME",
		"usage: passerelle statement NAME",
		"no statement of that name" };
	char out[4096];
	size_t i;
	int rc;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rc = env_run(&oe, NULL, bad[i], out, sizeof(out));
		ck_assert_msg(rc == 1 && strstr(out, why[i]) != NULL,
		    "case %zu: exit %d: %s", i, rc, out);
	}
}
END_TEST

/* ------------------------------------------------------------ upgrades */

START_TEST(test_migrate_status_lists_applied_and_pending)
{
	const char *status[] = { "migrate", "--status", NULL };
	const char *migrate[] = { "migrate", NULL };
	char dbv[1200], out[8192];
	const char *env[2] = { dbv, NULL };
	char *db = harness_db_create();
	int rc;

	ck_assert_ptr_nonnull(db);
	snprintf(dbv, sizeof(dbv), "PASSERELLE_DATABASE_URL=%s", db);
	rc = harness_run(env, status, out, sizeof(out));
	ck_assert_msg(rc == 1 && strstr(out, "pending  0001 ") != NULL &&
	        strstr(out, "applied ") == NULL &&
	        strstr(out, "run passerelle migrate") != NULL,
	    "empty database: exit %d: %s", rc, out);
	ck_assert_int_eq(harness_run(env, migrate, out, sizeof(out)), 0);
	/* One migration undone by hand: applied ones and the pending one. */
	ck_assert_int_eq(harness_exec(db, "DELETE FROM schema_migrations "
	                                  "WHERE version = (SELECT max(version) "
	                                  "FROM schema_migrations)"),
	    0);
	rc = harness_run(env, status, out, sizeof(out));
	ck_assert_msg(rc == 1 && strstr(out, "applied  0001 ") != NULL &&
	        strstr(out, "pending  ") != NULL,
	    "one pending: exit %d: %s", rc, out);
	harness_db_drop(db);
}
END_TEST

START_TEST(test_serve_refuses_a_newer_schema)
{
	const char *status[] = { "migrate", "--status", NULL };
	const char *migrate[] = { "migrate", NULL };
	const char *serve[] = { "serve", "--listen=127.0.0.1:1", NULL };
	char out[8192];
	int rc;

	ck_assert_int_eq(harness_exec(oe.db,
	                     "INSERT INTO schema_migrations (version, name, "
	                     "sha256) VALUES (9999, '9999_future.sql', "
	                     "repeat('0', 64))"),
	    0);
	rc = env_run(&oe, NULL, serve, out, sizeof(out));
	ck_assert_msg(rc != 0 && rc < 128 &&
	        strstr(out, "newer than this binary") != NULL &&
	        strstr(out, "9999") != NULL,
	    "serve on a newer schema: exit %d: %s", rc, out);
	rc = env_run(&oe, NULL, status, out, sizeof(out));
	ck_assert_msg(rc == 1 &&
	        strstr(out, "9999_future.sql (unknown to this binary)") !=
	            NULL,
	    "migrate --status: exit %d: %s", rc, out);
	rc = env_run(&oe, NULL, migrate, out, sizeof(out));
	ck_assert_msg(rc != 0 && strstr(out, "newer than this binary") != NULL,
	    "migrate on a newer schema: exit %d: %s", rc, out);
	ck_assert_int_eq(harness_exec(oe.db, "DELETE FROM schema_migrations "
	                                     "WHERE version = 9999"),
	    0);
}
END_TEST

/*
 * Migration 0008 on a database that already holds cases (an upgrade): it
 * gives every case its read document, and the cases read as before. The
 * database is taken back to 0007 by hand first: 0008's objects dropped,
 * its row of schema_migrations deleted.
 */
START_TEST(test_0008_gives_existing_cases_their_documents)
{
	const char *seed[] = { "seed", "--synthetic", "40", NULL };
	const char *migrate[] = { "migrate", NULL };
	char out[4096], id[40], org[40];
	const char *qp[1] = { org };
	struct sess p;
	struct res x;
	int rc;

	rc = env_run(&oe, NULL, seed, out, sizeof(out));
	ck_assert_msg(rc == 0, "seed --synthetic exited %d: %s", rc, out);
	ck_assert_int_eq(harness_exec(oe.db,
	    "DROP TABLE case_docs; "
	    "DROP FUNCTION case_docs_on_rows, case_docs_on_cases_ins, "
	    "case_docs_on_cases_upd, case_docs_on_orgs CASCADE; "
	    "DROP FUNCTION case_docs_put, case_doc_fields, case_doc_scopes, "
	    "case_doc_consents, case_doc_referrals, case_doc_services, "
	    "case_doc_events; "
	    "DELETE FROM schema_migrations WHERE version = 8"), 0);
	rc = env_run(&oe, NULL, migrate, out, sizeof(out));
	ck_assert_msg(rc == 0 && strstr(out, "0008_case_docs.sql") != NULL,
	    "migrate exited %d: %s", rc, out);
	ck_assert_int_gt(sqln(oe.db, "SELECT count(*) FROM cases", NULL, NULL),
	    39);
	ck_assert_int_eq(sqln(oe.db, "SELECT count(*) FROM cases c WHERE NOT "
	    "EXISTS (SELECT 1 FROM case_docs d WHERE d.case_id = c.id)", NULL,
	    NULL), 0);
	ck_assert_int_eq(docs_stale(oe.db), 0);

	login_ok(&oe.srv, "police.agent", &p);
	ck_assert_int_eq(harness_value(oe.db, "SELECT organisation_id FROM "
	    "users WHERE username = 'police.agent'", NULL, 0, org, sizeof(org)),
	    0);
	ck_assert_int_eq(harness_value(oe.db, "SELECT c.id FROM cases c JOIN "
	    "case_access a ON a.case_id = c.id WHERE a.organisation_id = $1 "
	    "AND a.ended_at IS NULL ORDER BY c.id LIMIT 1", qp, 1, id,
	    sizeof(id)), 0);
	x = get_case(&p, id);
	EXPECT(x, 200, "read a case after the upgrade");
	ck_assert_ptr_nonnull(jstr(x.j, "victim.given_name"));
	res_free(&x);
}
END_TEST

static void
oe_setup(void)
{
	static const char *const more[] = { "PASSERELLE_STATS_K=3", NULL };

	env_start_ex(&oe, 1, NULL, more);
}

static void
oe_teardown(void)
{
	env_stop(&oe);
}

static Suite *
ops_suite(void)
{
	Suite *s = suite_create("ops");
	TCase *tc = tcase_create("retention");

	tcase_add_checked_fixture(tc, oe_setup, oe_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_retention_shreds_only_cases_past_the_sop);
	tcase_add_test(tc, test_retention_leaves_a_reopened_case);
	tcase_add_test(tc, test_retention_rejects_bad_usage);
	suite_add_tcase(s, tc);

	tc = tcase_create("upgrades");
	tcase_add_checked_fixture(tc, oe_setup, oe_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_migrate_status_lists_applied_and_pending);
	tcase_add_test(tc, test_serve_refuses_a_newer_schema);
	tcase_add_test(tc, test_synthetic_cases_read_like_real_ones);
	tcase_add_test(tc, test_0008_gives_existing_cases_their_documents);
	tcase_add_test(tc, test_statement_prints_what_the_server_prepares);
	tcase_add_test(tc, test_statement_rejects_bad_usage);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return harness_run_suite("itest_ops", ops_suite);
}
