/*
 * The migration runner. Migrations are embedded in the binary at build time
 * (cmake/embed_migrations.cmake), so a binary always knows exactly which
 * schema it was built for. Each is applied once, in its own transaction,
 * recorded in schema_migrations with the SHA-256 of its text; an advisory
 * lock serialises servers that start together.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "../log.h"
#include "db.h"

/* "PASS" "MIGR": the advisory lock key every server agrees on. */
#define MIGRATE_LOCK "5067011059437826642"

struct applied {
	int version;
	char name[128];
	char sha256[65];
};

static PGconn *
open_conn(const char *url, int timeout_s, char *err, size_t errlen)
{
	const char *keys[] = { "dbname", "connect_timeout", "application_name",
		NULL };
	const char *vals[4];
	char ct[16];
	PGconn *c;

	snprintf(ct, sizeof(ct), "%d", timeout_s < 2 ? 2 : timeout_s);
	vals[0] = url;
	vals[1] = ct;
	vals[2] = "passerelle-migrate";
	vals[3] = NULL;
	c = PQconnectdbParams(keys, vals, 1);
	if (c == NULL || PQstatus(c) != CONNECTION_OK) {
		/* libpq's message names host and database, never a password. */
		snprintf(err, errlen, "cannot connect to the database: %s",
		    c ? PQerrorMessage(c) : "out of memory");
		err[strcspn(err, "\n")] = '\0';
		PQfinish(c);
		return NULL;
	}
	return c;
}

static int
cmd_ok(PGconn *c, const char *sql, char *err, size_t errlen)
{
	PGresult *r = PQexecParams(c, sql, 0, NULL, NULL, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		snprintf(err, errlen, "%s failed: %s", sql,
		    PQresultErrorMessage(r));
		err[strcspn(err, "\n")] = '\0';
		PQclear(r);
		return -1;
	}
	PQclear(r);
	return 0;
}

static const char create_table[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version integer PRIMARY KEY,"
    " name text NOT NULL,"
    " sha256 text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now())";

/* Reads applied migrations, ordered by version; *n set. NULL on error. */
static struct applied *
read_applied(PGconn *c, int *n, char *err, size_t errlen)
{
	struct applied *a;
	PGresult *r;
	int i, rows;

	r = PQexecParams(c,
	    "SELECT version, name, sha256 FROM schema_migrations "
	    "ORDER BY version", 0, NULL, NULL, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		snprintf(err, errlen, "cannot read schema_migrations: %s",
		    PQresultErrorMessage(r));
		err[strcspn(err, "\n")] = '\0';
		PQclear(r);
		return NULL;
	}
	rows = PQntuples(r);
	if ((a = calloc((size_t)rows + 1, sizeof(*a))) == NULL) {
		PQclear(r);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (i = 0; i < rows; i++) {
		a[i].version = (int)strtol(PQgetvalue(r, i, 0), NULL, 10);
		snprintf(a[i].name, sizeof(a[i].name), "%s",
		    PQgetvalue(r, i, 1));
		snprintf(a[i].sha256, sizeof(a[i].sha256), "%s",
		    PQgetvalue(r, i, 2));
	}
	PQclear(r);
	*n = rows;
	return a;
}

static const struct db_migration *
known(int version)
{
	size_t i;

	for (i = 0; i < db_migrations_count; i++)
		if (db_migrations[i].version == version)
			return &db_migrations[i];
	return NULL;
}

static int
is_applied(const struct applied *a, int n, int version)
{
	int i;

	for (i = 0; i < n; i++)
		if (a[i].version == version)
			return 1;
	return 0;
}

/*
 * Compares applied with embedded; fills state and, for a problem, err.
 * verbose prints each migration's status on stdout.
 */
static enum db_schema_state
compare(const struct applied *a, int n, int verbose, char *err, size_t errlen)
{
	enum db_schema_state st = DB_SCHEMA_CURRENT;
	const struct db_migration *m;
	size_t j;
	int i;

	for (i = 0; i < n; i++) {
		m = known(a[i].version);
		if (m == NULL) {
			if (verbose)
				printf("applied  %04d %s (unknown to this "
				       "binary)\n", a[i].version, a[i].name);
			if (st == DB_SCHEMA_CURRENT || st == DB_SCHEMA_BEHIND) {
				snprintf(err, errlen,
				    "the database schema is newer than this "
				    "binary (migration %04d %s): upgrade "
				    "passerelle", a[i].version, a[i].name);
				st = DB_SCHEMA_AHEAD;
			}
			continue;
		}
		if (strcmp(m->sha256, a[i].sha256) != 0) {
			if (verbose)
				printf("EDITED   %04d %s\n", m->version,
				    m->name);
			if (st != DB_SCHEMA_EDITED)
				snprintf(err, errlen,
				    "migration %s was edited after it was "
				    "applied (checksum differs): restore the "
				    "original file and add a new migration",
				    m->name);
			st = DB_SCHEMA_EDITED;
			continue;
		}
		if (verbose)
			printf("applied  %04d %s\n", m->version, m->name);
	}
	for (j = 0; j < db_migrations_count; j++) {
		if (is_applied(a, n, db_migrations[j].version))
			continue;
		if (verbose)
			printf("pending  %04d %s\n", db_migrations[j].version,
			    db_migrations[j].name);
		if (st == DB_SCHEMA_CURRENT) {
			snprintf(err, errlen,
			    "the database schema is behind (migration %s is "
			    "pending): run passerelle migrate",
			    db_migrations[j].name);
			st = DB_SCHEMA_BEHIND;
		}
	}
	return st;
}

static enum pa_err
apply_one(PGconn *c, const struct db_migration *m, char *err, size_t errlen)
{
	const char *params[3];
	char ver[16];
	PGresult *r;

	if (cmd_ok(c, "BEGIN", err, errlen) != 0)
		return PA_DB;
	/*
	 * The file is ours, embedded at build time, and may hold several
	 * statements: the simple query protocol is the only way to run it.
	 * No request text ever reaches this call.
	 */
	r = PQexec(c, m->sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK) {
		snprintf(err, errlen, "migration %s failed: %s", m->name,
		    PQresultErrorMessage(r));
		err[strcspn(err, "\n")] = '\0';
		PQclear(r);
		(void)cmd_ok(c, "ROLLBACK", err + strlen(err), 0);
		return PA_INTERNAL;
	}
	PQclear(r);
	snprintf(ver, sizeof(ver), "%d", m->version);
	params[0] = ver;
	params[1] = m->name;
	params[2] = m->sha256;
	r = PQexecParams(c,
	    "INSERT INTO schema_migrations (version, name, sha256) "
	    "VALUES ($1, $2, $3)", 3, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		snprintf(err, errlen, "cannot record migration %s: %s",
		    m->name, PQresultErrorMessage(r));
		err[strcspn(err, "\n")] = '\0';
		PQclear(r);
		(void)cmd_ok(c, "ROLLBACK", err + strlen(err), 0);
		return PA_DB;
	}
	PQclear(r);
	if (cmd_ok(c, "COMMIT", err, errlen) != 0)
		return PA_DB;
	log_info("migrate: applied %s", m->name);
	return PA_OK;
}

enum pa_err
db_migrate(const char *url, int timeout_s, char *err, size_t errlen)
{
	struct applied *a = NULL;
	enum db_schema_state st;
	enum pa_err rc = PA_OK;
	PGconn *c;
	size_t j;
	int n = 0, applied = 0;

	if ((c = open_conn(url, timeout_s, err, errlen)) == NULL)
		return PA_DB;
	if (cmd_ok(c, "SET client_min_messages = warning", err, errlen) != 0 ||
	    cmd_ok(c, "SELECT pg_advisory_lock(" MIGRATE_LOCK ")", err,
		errlen) != 0 ||
	    cmd_ok(c, create_table, err, errlen) != 0) {
		rc = PA_DB;
		goto out;
	}
	if ((a = read_applied(c, &n, err, errlen)) == NULL) {
		rc = PA_DB;
		goto out;
	}
	st = compare(a, n, 0, err, errlen);
	if (st == DB_SCHEMA_AHEAD || st == DB_SCHEMA_EDITED) {
		rc = PA_CONFLICT;
		goto out;
	}
	for (j = 0; j < db_migrations_count; j++) {
		if (is_applied(a, n, db_migrations[j].version))
			continue;
		if ((rc = apply_one(c, &db_migrations[j], err, errlen)) != PA_OK)
			goto out;
		applied++;
	}
	if (applied == 0)
		log_info("migrate: schema is current (%zu migrations)",
		    db_migrations_count);
out:
	free(a);
	PQfinish(c);	/* ends the session, and with it the advisory lock */
	return rc;
}

enum pa_err
db_schema_check(const char *url, int timeout_s, int verbose,
    enum db_schema_state *state, char *err, size_t errlen)
{
	struct applied *a = NULL;
	PGresult *r;
	PGconn *c;
	int n = 0, exists;

	*state = DB_SCHEMA_BEHIND;
	if ((c = open_conn(url, timeout_s, err, errlen)) == NULL)
		return PA_DB;
	r = PQexecParams(c, "SELECT to_regclass('schema_migrations') IS NOT NULL",
	    0, NULL, NULL, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		snprintf(err, errlen, "cannot read the schema: %s",
		    PQresultErrorMessage(r));
		err[strcspn(err, "\n")] = '\0';
		PQclear(r);
		PQfinish(c);
		return PA_DB;
	}
	exists = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	if (exists && (a = read_applied(c, &n, err, errlen)) == NULL) {
		PQfinish(c);
		return PA_DB;
	}
	*state = compare(a ? a : &(struct applied){ 0 }, n, verbose, err,
	    errlen);
	free(a);
	PQfinish(c);
	return PA_OK;
}
