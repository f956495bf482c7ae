/*
 * db: the only module that speaks libpq. A fixed pool of connections, each
 * with every registered statement prepared once; leases with a deadline, so
 * that nothing waits forever; transparent reconnection after PostgreSQL comes
 * back; transactions; the migration runner. Results are read through struct
 * db_res so that no PGresult leaves this module.
 *
 * Errors: SQLSTATE 23505 (unique violation) is PA_CONFLICT, 40001 and 40P01
 * (serialisation failure, deadlock) PA_CONFLICT, 23xxx/22xxx PA_INVALID,
 * connection failures, 08xxx and 57Pxx PA_DB. The SQLSTATE and the statement
 * name go to the log; messages, which may echo values, never do.
 */
#ifndef PA_DB_H
#define PA_DB_H

#include <stddef.h>
#include <stdint.h>

#include "../err.h"

struct db;	/* one leased connection */
struct db_res;	/* one result */

/*
 * A statement, prepared on every connection under its name. Modules keep
 * their statements in static tables and register them before db_pool_open.
 */
struct db_stmt {
	const char *name;
	const char *sql;
};

/* A parameter: text (len 0: NUL-terminated), binary (bytea), or NULL. */
struct db_arg {
	const char *v;
	int len;
	int binary;
};
#define DB_TEXT(s) ((struct db_arg){ (s), 0, 0 })
#define DB_BYTES(p, n) ((struct db_arg){ (const char *)(p), (int)(n), 1 })
#define DB_NULL ((struct db_arg){ NULL, 0, 0 })

/* Registers statements; call before db_pool_open. n at most 1024 in all. */
void db_stmts_add(const struct db_stmt *tab, size_t n);
/* The SQL of the registered statement name, or NULL. */
const char *db_stmt_sql(const char *name);

/*
 * Opens size connections to url (connections that fail now are retried on
 * lease). timeout_s bounds connecting, waiting for a free connection and each
 * statement. Returns PA_DB when not even one connection can be made and
 * require_one is set.
 */
enum pa_err db_pool_open(const char *url, int size, int timeout_s,
    int require_one);
void db_pool_close(void);

/* Leases a connection (PA_DB on timeout or when PostgreSQL is away). */
enum pa_err db_acquire(struct db **out);
/* The leased connection's index in the pool (stable for its life). */
int db_slot(const struct db *db);
/*
 * A zeroed area of size bytes that stays with the connection slot for the
 * pool's life (freed by db_pool_close), for what its holder of the moment
 * may remember between leases; NULL when out of memory. Only the lease
 * holder touches it, so it needs no lock. One user: the audit module's
 * chain heads (always the same size).
 */
void *db_memo(struct db *db, size_t size);

/* Returns a lease; rolls back a transaction left open. NULL is ignored. */
void db_release(struct db *db);

/*
 * Runs a registered statement (name) with args. *out, when out is not NULL,
 * receives the rows (caller frees with db_res_free); it is NULL on error.
 */
enum pa_err db_exec(struct db *db, const char *name, const struct db_arg *args,
    int nargs, struct db_res **out);

/*
 * COPY ... FROM STDIN for bulk loads (seeding). sql is a constant of the
 * caller's, never request text; rows go in COPY's text format.
 */
enum pa_err db_copy_begin(struct db *db, const char *sql);
enum pa_err db_copy_put(struct db *db, const char *buf, size_t len);
enum pa_err db_copy_end(struct db *db);

/*
 * Several registered statements in one round trip (libpq's pipeline mode).
 * Each call's *out receives its rows. The first failure is returned; the
 * calls after it are not run (inside a transaction, the transaction then
 * fails as a whole).
 */
struct db_call {
	const char *name;
	const struct db_arg *args;
	int nargs;
	struct db_res **out;
};
enum pa_err db_exec_batch(struct db *db, struct db_call *calls, int n);

/*
 * BEGIN and a first statement in one round trip; the transaction is open
 * afterwards whatever the statement's fate (end it with db_tx_end).
 */
enum pa_err db_tx_begin_exec(struct db *db, const char *name,
    const struct db_arg *args, int nargs, struct db_res **out);
/* The same with up to 8 statements after BEGIN, in one round trip. */
enum pa_err db_tx_begin_batch(struct db *db, const struct db_call *calls,
    int n);
/*
 * A last statement and COMMIT in one round trip. On any failure the
 * transaction is rolled back and nothing of it stays.
 */
enum pa_err db_exec_commit(struct db *db, const char *name,
    const struct db_arg *args, int nargs);

/* BEGIN; and COMMIT when rc is PA_OK, else ROLLBACK. Returns rc or PA_DB. */
enum pa_err db_tx_begin(struct db *db);
enum pa_err db_tx_end(struct db *db, enum pa_err rc);

/* One round trip to check that the database answers (for /readyz). */
enum pa_err db_ping(void);

int db_res_rows(const struct db_res *r);
/* Text value (bytea as raw bytes when the column is bytea and len given). */
const char *db_res_get(const struct db_res *r, int row, int col);
int db_res_len(const struct db_res *r, int row, int col);
int db_res_isnull(const struct db_res *r, int row, int col);
/* Parses an integer column; returns 0 and sets *v, or -1. */
int db_res_int64(const struct db_res *r, int row, int col, int64_t *v);
/* Decodes a bytea column (text \x hex form) into a new buffer (free()). */
enum pa_err db_res_bytea(const struct db_res *r, int row, int col,
    unsigned char **out, size_t *outlen);
void db_res_free(struct db_res *r);
/*
 * Rows that a statement sent as one JSON text, an array of rows, each an
 * array of texts or nulls (json_build_array of ::text columns, booleans as
 * 't'/'f'): read with the same db_res_* as a statement's own rows.
 */
enum pa_err db_res_from_json(const char *text, struct db_res **out);
/*
 * Replaces one cell of rows read from JSON (db_res_from_json) with v, or
 * NULL for SQL NULL; PA_INTERNAL for libpq's rows or a cell not there.
 */
enum pa_err db_res_json_set(struct db_res *r, int row, int col,
    const char *v);

struct db_pool_stats {
	int size;
	int in_use;
	int waiting;
	uint64_t errors;	/* statements that failed for database reasons */
	uint64_t reconnects;
};
void db_pool_stats(struct db_pool_stats *s);

/*
 * The replica (replica.c): an optional, smaller, read-only pool with the
 * same deadlines and reconnection. db_replica_open opens it (a replica that
 * is down now is not an error: reads go to the primary until it answers);
 * max_lag_s is the delay beyond which it is not used.
 */
enum db_replica_why {
	DB_REPLICA_UNREACHABLE,
	DB_REPLICA_LAGGING,
	DB_REPLICA_NOT_STANDBY,	/* answers, but is not in recovery */
	DB_REPLICA_NREASONS
};
enum pa_err db_replica_open(const char *url, int size, int timeout_s,
    int max_lag_s);
void db_replica_close(void);
/*
 * Leases a connection for reads that may be up to max_lag_s stale: the
 * replica when one is configured and fit, else the primary. Release it
 * with db_release. Never write through it: transactions on a replica lease
 * are refused (PA_INTERNAL) and its sessions are read-only.
 */
enum pa_err db_acquire_read(struct db **out);
/* Is this lease the replica's? */
int db_is_replica(const struct db *db);
/* A statement on a replica lease failed with PA_DB: stop using it a while. */
void db_replica_failed(void);
const char *db_replica_why_name(enum db_replica_why why);

struct db_replica_stats {
	int configured;
	int fit;		/* reads go to the replica now */
	double lag_s;		/* last measured, -1 unknown */
	uint64_t reads;		/* leases given on the replica */
	uint64_t fallbacks[DB_REPLICA_NREASONS];	/* reads sent to primary */
	struct db_pool_stats pool;
};
void db_replica_stats(struct db_replica_stats *s);

/* Migrations embedded in the binary (migrations/NNNN_name.sql). */
struct db_migration {
	int version;
	const char *name;
	const char *sql;
	const char *sha256;	/* hex, computed at build time */
};

enum db_schema_state {
	DB_SCHEMA_CURRENT,
	DB_SCHEMA_BEHIND,	/* migrations pending: run migrate */
	DB_SCHEMA_AHEAD,	/* applied versions this binary does not know */
	DB_SCHEMA_EDITED,	/* an applied file changed since */
};

/*
 * Applies pending migrations, each in its own transaction, under an advisory
 * lock so that several servers may start at once. Writes one line per
 * applied migration to the log; fails with a line in err naming the file
 * when an applied migration was edited or the schema is newer than us.
 */
enum pa_err db_migrate(const char *url, int timeout_s, char *err,
    size_t errlen);
/* Compares the database with the embedded list; lists each when verbose. */
enum pa_err db_schema_check(const char *url, int timeout_s, int verbose,
    enum db_schema_state *state, char *err, size_t errlen);

/* The embedded list, generated at build time (ordered by version). */
extern const struct db_migration db_migrations[];
extern const size_t db_migrations_count;

#endif
