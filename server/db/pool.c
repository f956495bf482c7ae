/*
 * The connection pool. A fixed array of connections guarded by one mutex; a
 * lease waits on a condition variable up to the configured timeout. A broken
 * connection is rebuilt on its next lease; after a failed connect, leases fail
 * fast for a second so that a dead database is not hammered by every request.
 * Every registered statement is prepared when a connection is made.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "../log.h"
#include "db.h"
#include "internal.h"

#define MAX_STMTS 1024

struct db {
	PGconn *conn;
	int busy;
	int in_tx;
	int idx;
	struct pool *owner;	/* the pool it goes back to */
	void *memo;	/* see db_memo */
};

struct db_res {
	PGresult *res;
	json_t *rows;	/* or rows read from JSON (db_res_from_json) */
};

static const struct db_stmt *stmts[MAX_STMTS];
static size_t nstmts;

/*
 * Two instances: the primary's pool, and the replica's (internal.h), which
 * is smaller, read-only and optional. The same code leases from both.
 */
struct pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct db *conns;
	int size;
	int in_use;
	int waiting;
	int timeout_s;
	char *url;
	struct timespec down_until;	/* fail fast until then */
	int open;
	int readonly;	/* every session read-only: a replica */
	atomic_uint_fast64_t errors;
	atomic_uint_fast64_t reconnects;
};

#define POOL_INIT { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, \
	NULL, 0, 0, 0, 10, NULL, { 0, 0 }, 0, 0, 0, 0 }
static struct pool pool = POOL_INIT;
struct pool db_replica_pool = POOL_INIT;

static const struct db_stmt internal_stmts[] = {
	{ "db_ping", "SELECT 1" },
	{ "db_begin", "BEGIN" },
	{ "db_commit", "COMMIT" },
};

void
db_stmts_add(const struct db_stmt *tab, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (nstmts >= MAX_STMTS) {
			log_error("db: more than %d statements", MAX_STMTS);
			abort();
		}
		stmts[nstmts++] = &tab[i];
	}
}

const char *
db_stmt_sql(const char *name)
{
	size_t i;

	for (i = 0; i < nstmts; i++)
		if (strcmp(stmts[i]->name, name) == 0)
			return stmts[i]->sql;
	for (i = 0; i < sizeof(internal_stmts) / sizeof(internal_stmts[0]); i++)
		if (strcmp(internal_stmts[i].name, name) == 0)
			return internal_stmts[i].sql;
	return NULL;
}

/* Opens one connection with our session settings; NULL on failure. */
static PGconn *
connect_one(const char *url, int timeout_s, int readonly)
{
	const char *keys[] = { "dbname", "connect_timeout", "application_name",
		"keepalives_idle", "tcp_user_timeout", NULL };
	const char *vals[6];
	char ct[16], tut[24], set[256];
	PGconn *c;
	PGresult *r;
	size_t i;

	snprintf(ct, sizeof(ct), "%d", timeout_s < 2 ? 2 : timeout_s);
	snprintf(tut, sizeof(tut), "%d", timeout_s * 1000);
	vals[0] = url;
	vals[1] = ct;
	vals[2] = "passerelle";
	vals[3] = "30";
	vals[4] = tut;
	vals[5] = NULL;
	c = PQconnectdbParams(keys, vals, 1);
	if (c == NULL || PQstatus(c) != CONNECTION_OK) {
		PQfinish(c);
		return NULL;
	}
	/*
	 * Bounded statements and transactions: nothing waits forever on a
	 * lock or a dead peer. The values are our own integers, not input.
	 */
	snprintf(set, sizeof(set),
	    "SELECT set_config('statement_timeout', '%d', false), "
	    "set_config('idle_in_transaction_session_timeout', '%d', false), "
	    "set_config('TimeZone', 'UTC', false)%s",
	    timeout_s * 1000, timeout_s * 3000, readonly ?
		", set_config('default_transaction_read_only', 'on', false)" :
		"");
	r = PQexecParams(c, set, 0, NULL, NULL, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		PQclear(r);
		PQfinish(c);
		return NULL;
	}
	PQclear(r);
	for (i = 0; i < nstmts; i++) {
		r = PQprepare(c, stmts[i]->name, stmts[i]->sql, 0, NULL);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			/* A bad statement is a bug: say which, and stop. */
			log_error("db: cannot prepare %s (SQLSTATE %s)",
			    stmts[i]->name,
			    PQresultErrorField(r, PG_DIAG_SQLSTATE) ?
				PQresultErrorField(r, PG_DIAG_SQLSTATE) : "?");
			PQclear(r);
			PQfinish(c);
			return NULL;
		}
		PQclear(r);
	}
	return c;
}

static void
deadline_after(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static int
before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec ||
	    (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* Opens p's connections (see db_pool_open); the first failure stops. */
static enum pa_err
pool_open(struct pool *p, const char *url, int size, int timeout_s,
    int readonly, int require_one)
{
	int i, ok = 0;

	static int registered;
	if (!registered) {
		db_stmts_add(internal_stmts,
		    sizeof(internal_stmts) / sizeof(internal_stmts[0]));
		registered = 1;
	}
	if (size < 1)
		size = 1;
	p->conns = calloc((size_t)size, sizeof(*p->conns));
	if (p->conns == NULL || (p->url = strdup(url)) == NULL) {
		free(p->conns);
		p->conns = NULL;
		return PA_INTERNAL;
	}
	p->size = size;
	p->timeout_s = timeout_s;
	p->readonly = readonly;
	for (i = 0; i < size; i++) {
		p->conns[i].idx = i;
		p->conns[i].owner = p;
		if (i == 0 || ok) {
			p->conns[i].conn = connect_one(url, timeout_s,
			    readonly);
			if (p->conns[i].conn != NULL)
				ok++;
		}
	}
	p->open = 1;
	if (ok == 0 && require_one) {
		pool_close(p);
		return PA_DB;
	}
	return PA_OK;
}

enum pa_err
db_pool_open(const char *url, int size, int timeout_s, int require_one)
{
	return pool_open(&pool, url, size, timeout_s, 0, require_one);
}

enum pa_err
db_replica_pool_open(const char *url, int size, int timeout_s)
{
	return pool_open(&db_replica_pool, url, size, timeout_s, 1, 0);
}

void
pool_close(struct pool *p)
{
	int i;

	pthread_mutex_lock(&p->mu);
	for (i = 0; i < p->size; i++) {
		PQfinish(p->conns[i].conn);
		p->conns[i].conn = NULL;
		free(p->conns[i].memo);
		p->conns[i].memo = NULL;
	}
	free(p->conns);
	p->conns = NULL;
	free(p->url);
	p->url = NULL;
	p->size = 0;
	p->open = 0;
	pthread_mutex_unlock(&p->mu);
}

void
db_pool_close(void)
{
	pool_close(&pool);
}

/*
 * Is this idle connection still alive? An idle session has nothing to say:
 * input waiting on it is the server closing it (a FATAL, then EOF, which
 * libpq would take for a mere notice and report only on the next query).
 */
static int
conn_alive(PGconn *c)
{
	struct pollfd pf;

	if (c == NULL || PQstatus(c) != CONNECTION_OK)
		return 0;
	pf.fd = PQsocket(c);
	pf.events = POLLIN;
	pf.revents = 0;
	if (pf.fd < 0 || poll(&pf, 1, 0) > 0)
		return 0;
	return PQtransactionStatus(c) == PQTRANS_IDLE;
}

enum pa_err
pool_acquire(struct pool *p, struct db **out)
{
	struct timespec deadline, now;
	struct db *d = NULL;
	PGconn *fresh;
	int i, rc;

	*out = NULL;
	deadline_after(&deadline, (long)p->timeout_s * 1000);
	pthread_mutex_lock(&p->mu);
	if (!p->open) {
		pthread_mutex_unlock(&p->mu);
		return PA_DB;
	}
	for (;;) {
		for (i = 0; i < p->size; i++)
			if (!p->conns[i].busy) {
				d = &p->conns[i];
				break;
			}
		if (d != NULL)
			break;
		p->waiting++;
		rc = pthread_cond_timedwait(&p->cv, &p->mu, &deadline);
		p->waiting--;
		if (rc == ETIMEDOUT) {
			pthread_mutex_unlock(&p->mu);
			log_warn("db: no free connection within %ds",
			    p->timeout_s);
			return PA_DB;
		}
	}
	d->busy = 1;
	p->in_use++;
	pthread_mutex_unlock(&p->mu);

	if (conn_alive(d->conn)) {
		*out = d;
		return PA_OK;
	}
	/* Rebuild outside the lock; fail fast while the database is away. */
	clock_gettime(CLOCK_REALTIME, &now);
	pthread_mutex_lock(&p->mu);
	rc = before(&now, &p->down_until);
	pthread_mutex_unlock(&p->mu);
	if (rc) {
		db_release(d);
		return PA_DB;
	}
	PQfinish(d->conn);
	d->conn = NULL;
	fresh = connect_one(p->url, p->timeout_s, p->readonly);
	if (fresh == NULL) {
		pthread_mutex_lock(&p->mu);
		deadline_after(&p->down_until, 1000);
		pthread_mutex_unlock(&p->mu);
		atomic_fetch_add(&p->errors, 1);
		db_release(d);
		return PA_DB;
	}
	atomic_fetch_add(&p->reconnects, 1);
	d->conn = fresh;
	*out = d;
	return PA_OK;
}

enum pa_err
db_acquire(struct db **out)
{
	return pool_acquire(&pool, out);
}

int
db_slot(const struct db *d)
{
	return d->idx;
}

void *
db_memo(struct db *d, size_t size)
{
	if (d->memo == NULL)
		d->memo = calloc(1, size);
	return d->memo;
}

static enum pa_err exec_tx(struct db *d, const char *sql);

/*
 * Transactions are for writes, and writes never go to the replica (its
 * sessions are read-only as well): a caller that tries has a bug.
 */
static enum pa_err
refuse_write(const struct db *d)
{
	(void)d;
	log_error("db: a transaction was asked of the replica; refused");
	return PA_INTERNAL;
}

static PGresult *
exec_plain(PGconn *c, const char *sql)
{
	return PQexecParams(c, sql, 0, NULL, NULL, NULL, NULL, 0);
}

void
db_release(struct db *d)
{
	PGresult *r;

	if (d == NULL)
		return;
	if (d->conn != NULL && PQstatus(d->conn) == CONNECTION_OK &&
	    PQtransactionStatus(d->conn) != PQTRANS_IDLE) {
		r = exec_plain(d->conn, "ROLLBACK");
		PQclear(r);
	}
	d->in_tx = 0;
	pthread_mutex_lock(&d->owner->mu);
	d->busy = 0;
	d->owner->in_use--;
	pthread_cond_signal(&d->owner->cv);
	pthread_mutex_unlock(&d->owner->mu);
}

/* Maps a failed result (or a NULL one) to our codes, logging safely. */
static enum pa_err
map_error(struct db *d, const char *name, PGresult *r)
{
	const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *cons = r ? PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME) :
			       NULL;

	if (st == NULL || PQstatus(d->conn) != CONNECTION_OK) {
		atomic_fetch_add(&d->owner->errors, 1);
		log_warn("db: %s: connection lost", name);
		return PA_DB;
	}
	if (strcmp(st, "23505") == 0 || strcmp(st, "40001") == 0 ||
	    strcmp(st, "40P01") == 0) {
		log_info("db: %s: SQLSTATE %s%s%s", name, st,
		    cons ? " constraint " : "", cons ? cons : "");
		return PA_CONFLICT;
	}
	if (strncmp(st, "22", 2) == 0 || strncmp(st, "23", 2) == 0) {
		log_info("db: %s: SQLSTATE %s%s%s", name, st,
		    cons ? " constraint " : "", cons ? cons : "");
		return PA_INVALID;
	}
	atomic_fetch_add(&d->owner->errors, 1);
	log_error("db: %s: SQLSTATE %s", name, st);
	if (strncmp(st, "08", 2) == 0 || strncmp(st, "57", 2) == 0 ||
	    strncmp(st, "53", 2) == 0)
		return PA_DB;
	return PA_INTERNAL;
}

enum pa_err
db_exec(struct db *d, const char *name, const struct db_arg *args, int nargs,
    struct db_res **out)
{
	const char *vals[64];
	int lens[64], fmts[64];
	ExecStatusType st;
	PGresult *r;
	enum pa_err rc;
	int i;

	if (out != NULL)
		*out = NULL;
	if (nargs < 0 || nargs > 64)
		return PA_INTERNAL;
	for (i = 0; i < nargs; i++) {
		vals[i] = args[i].v;
		lens[i] = args[i].len;
		fmts[i] = args[i].binary ? 1 : 0;
	}
	r = PQexecPrepared(d->conn, name, nargs, nargs > 0 ? vals : NULL,
	    nargs > 0 ? lens : NULL, nargs > 0 ? fmts : NULL, 0);
	st = PQresultStatus(r);
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		rc = map_error(d, name, r);
		PQclear(r);
		return rc;
	}
	if (out == NULL) {
		PQclear(r);
		return PA_OK;
	}
	if ((*out = calloc(1, sizeof(**out))) == NULL) {
		PQclear(r);
		return PA_INTERNAL;
	}
	(*out)->res = r;
	return PA_OK;
}

enum pa_err
db_exec_batch(struct db *d, struct db_call *calls, int n)
{
	const char *vals[64];
	int lens[64], fmts[64];
	enum pa_err rc = PA_OK;
	ExecStatusType st;
	PGresult *r;
	int i, k, sent = 0;

	for (i = 0; i < n; i++)
		if (calls[i].out != NULL)
			*calls[i].out = NULL;
	if (PQenterPipelineMode(d->conn) != 1)
		return map_error(d, "pipeline", NULL);
	for (i = 0; i < n; i++) {
		if (calls[i].nargs < 0 || calls[i].nargs > 64) {
			rc = PA_INTERNAL;
			break;
		}
		for (k = 0; k < calls[i].nargs; k++) {
			vals[k] = calls[i].args[k].v;
			lens[k] = calls[i].args[k].len;
			fmts[k] = calls[i].args[k].binary ? 1 : 0;
		}
		if (PQsendQueryPrepared(d->conn, calls[i].name, calls[i].nargs,
		    calls[i].nargs > 0 ? vals : NULL,
		    calls[i].nargs > 0 ? lens : NULL,
		    calls[i].nargs > 0 ? fmts : NULL, 0) != 1) {
			rc = map_error(d, calls[i].name, NULL);
			break;
		}
		sent++;
	}
	if (PQpipelineSync(d->conn) != 1 && rc == PA_OK)
		rc = map_error(d, "pipeline", NULL);
	/* Each query's results end with NULL; the sync comes last. */
	for (i = 0; i < sent; i++) {
		while ((r = PQgetResult(d->conn)) != NULL) {
			st = PQresultStatus(r);
			if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
				if (rc == PA_OK && calls[i].out != NULL &&
				    *calls[i].out == NULL &&
				    (*calls[i].out = calloc(1, sizeof(struct
					db_res))) != NULL) {
					(*calls[i].out)->res = r;
					continue;
				}
			} else if (rc == PA_OK && st != PGRES_PIPELINE_ABORTED)
				rc = map_error(d, calls[i].name, r);
			else if (rc == PA_OK)
				rc = PA_INTERNAL;
			PQclear(r);
		}
	}
	while ((r = PQgetResult(d->conn)) != NULL) {
		st = PQresultStatus(r);
		PQclear(r);
		if (st == PGRES_PIPELINE_SYNC)
			break;
	}
	if (PQexitPipelineMode(d->conn) != 1 && rc == PA_OK)
		rc = PA_DB;
	if (rc != PA_OK)
		for (i = 0; i < n; i++)
			if (calls[i].out != NULL) {
				db_res_free(*calls[i].out);
				*calls[i].out = NULL;
			}
	return rc;
}

enum pa_err
db_tx_begin_batch(struct db *d, const struct db_call *calls, int n)
{
	struct db_call all[9];
	enum pa_err rc;
	int i;

	for (i = 0; i < n && i < 8; i++)
		if (calls[i].out != NULL)
			*calls[i].out = NULL;
	if (d->owner->readonly)
		return refuse_write(d);

	if (n < 1 || n > 8)
		return PA_INTERNAL;
	all[0] = (struct db_call){ "db_begin", NULL, 0, NULL };
	for (i = 0; i < n; i++)
		all[i + 1] = calls[i];
	rc = db_exec_batch(d, all, n + 1);
	/* Open (or aborted) either way: db_tx_end rolls back on failure. */
	d->in_tx = PQtransactionStatus(d->conn) != PQTRANS_IDLE;
	if (rc == PA_OK && !d->in_tx)
		rc = PA_DB;
	return rc;
}

enum pa_err
db_tx_begin_exec(struct db *d, const char *name, const struct db_arg *args,
    int nargs, struct db_res **out)
{
	struct db_call call = { name, args, nargs, out };

	return db_tx_begin_batch(d, &call, 1);
}

enum pa_err
db_exec_commit(struct db *d, const char *name, const struct db_arg *args,
    int nargs)
{
	struct db_call calls[2] = { { name, args, nargs, NULL },
		{ "db_commit", NULL, 0, NULL } };
	enum pa_err rc;

	if (d->owner->readonly)
		return refuse_write(d);
	rc = db_exec_batch(d, calls, 2);

	if (rc == PA_OK && PQtransactionStatus(d->conn) != PQTRANS_IDLE)
		rc = PA_DB;
	if (rc != PA_OK) {
		/* The statement failed, so COMMIT never ran: undo it all. */
		if (PQstatus(d->conn) == CONNECTION_OK &&
		    PQtransactionStatus(d->conn) != PQTRANS_IDLE)
			(void)exec_tx(d, "ROLLBACK");
	}
	d->in_tx = 0;
	return rc;
}

enum pa_err
db_copy_begin(struct db *d, const char *sql)
{
	PGresult *r = exec_plain(d->conn, sql);
	enum pa_err rc = PA_OK;

	if (PQresultStatus(r) != PGRES_COPY_IN)
		rc = map_error(d, "copy", r);
	PQclear(r);
	return rc;
}

enum pa_err
db_copy_put(struct db *d, const char *buf, size_t len)
{
	if (len > 0x7fffffff || PQputCopyData(d->conn, buf, (int)len) != 1)
		return PA_DB;
	return PA_OK;
}

enum pa_err
db_copy_end(struct db *d)
{
	PGresult *r;
	enum pa_err rc = PA_OK;

	if (PQputCopyEnd(d->conn, NULL) != 1)
		return PA_DB;
	while ((r = PQgetResult(d->conn)) != NULL) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			rc = map_error(d, "copy", r);
		PQclear(r);
	}
	return rc;
}

static enum pa_err
exec_tx(struct db *d, const char *sql)
{
	PGresult *r = exec_plain(d->conn, sql);
	enum pa_err rc = PA_OK;

	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		rc = map_error(d, sql, r);
	PQclear(r);
	return rc;
}

enum pa_err
db_tx_begin(struct db *d)
{
	enum pa_err rc;

	if (d->owner->readonly)
		return refuse_write(d);
	rc = exec_tx(d, "BEGIN");

	if (rc == PA_OK)
		d->in_tx = 1;
	return rc;
}

enum pa_err
db_tx_end(struct db *d, enum pa_err rc)
{
	enum pa_err rc2;

	if (!d->in_tx)
		return rc;
	d->in_tx = 0;
	if (rc != PA_OK) {
		(void)exec_tx(d, "ROLLBACK");
		return rc;
	}
	/* A failed COMMIT loses the transaction: never answer success. */
	rc2 = exec_tx(d, "COMMIT");
	if (rc2 == PA_OK && PQtransactionStatus(d->conn) != PQTRANS_IDLE)
		rc2 = PA_DB;
	return rc2;
}

enum pa_err
db_ping(void)
{
	struct db *d;
	enum pa_err rc;

	if ((rc = db_acquire(&d)) != PA_OK)
		return rc;
	rc = db_exec(d, "db_ping", NULL, 0, NULL);
	db_release(d);
	return rc;
}

enum pa_err
db_res_from_json(const char *text, struct db_res **out)
{
	json_t *rows = json_loads(text, 0, NULL), *row, *v;
	size_t i, j, ncols = 0;

	*out = NULL;
	if (!json_is_array(rows))
		goto bad;
	/* Rows of the same width, each value a string or null. */
	json_array_foreach(rows, i, row) {
		if (!json_is_array(row) ||
		    (i > 0 && json_array_size(row) != ncols))
			goto bad;
		ncols = json_array_size(row);
		json_array_foreach(row, j, v)
			if (!json_is_string(v) && !json_is_null(v))
				goto bad;
	}
	if ((*out = calloc(1, sizeof(**out))) == NULL)
		goto bad;
	(*out)->rows = rows;
	return PA_OK;
bad:
	json_decref(rows);
	log_error("db: rows read as JSON are not an array of rows of texts");
	return PA_INTERNAL;
}

enum pa_err
db_res_json_set(struct db_res *r, int row, int col, const char *v)
{
	json_t *cells, *cell;

	if (r == NULL || r->rows == NULL || row < 0 || col < 0)
		return PA_INTERNAL;
	cells = json_array_get(r->rows, (size_t)row);
	if (cells == NULL || (size_t)col >= json_array_size(cells))
		return PA_INTERNAL;
	cell = v != NULL ? json_string(v) : json_null();
	if (cell == NULL ||
	    json_array_set_new(cells, (size_t)col, cell) != 0)
		return PA_INTERNAL;
	return PA_OK;
}

static json_t *
json_cell(const struct db_res *r, int row, int col)
{
	return json_array_get(json_array_get(r->rows, (size_t)row),
	    (size_t)col);
}

int
db_res_rows(const struct db_res *r)
{
	if (r == NULL)
		return 0;
	return r->rows ? (int)json_array_size(r->rows) : PQntuples(r->res);
}

const char *
db_res_get(const struct db_res *r, int row, int col)
{
	const char *s;

	if (r->rows == NULL)
		return PQgetvalue(r->res, row, col);
	/* As libpq: an empty string for NULL. */
	s = json_string_value(json_cell(r, row, col));
	return s ? s : "";
}

int
db_res_len(const struct db_res *r, int row, int col)
{
	if (r->rows == NULL)
		return PQgetlength(r->res, row, col);
	return (int)json_string_length(json_cell(r, row, col));
}

int
db_res_isnull(const struct db_res *r, int row, int col)
{
	if (r->rows == NULL)
		return PQgetisnull(r->res, row, col);
	return !json_is_string(json_cell(r, row, col));
}

int
db_res_int64(const struct db_res *r, int row, int col, int64_t *v)
{
	const char *s = db_res_get(r, row, col);
	char *end;
	long long n;

	if (db_res_isnull(r, row, col))
		return -1;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		return -1;
	*v = (int64_t)n;
	return 0;
}

enum pa_err
db_res_bytea(const struct db_res *r, int row, int col, unsigned char **out,
    size_t *outlen)
{
	unsigned char *u;
	size_t n;

	*out = NULL;
	*outlen = 0;
	if (db_res_isnull(r, row, col))
		return PA_NOT_FOUND;
	u = PQunescapeBytea((const unsigned char *)db_res_get(r, row, col),
	    &n);
	if (u == NULL)
		return PA_INTERNAL;
	/* Copy into malloc memory so that callers free() it like the rest. */
	if ((*out = malloc(n ? n : 1)) == NULL) {
		PQfreemem(u);
		return PA_INTERNAL;
	}
	memcpy(*out, u, n);
	PQfreemem(u);
	*outlen = n;
	return PA_OK;
}

void
db_res_free(struct db_res *r)
{
	if (r == NULL)
		return;
	PQclear(r->res);
	json_decref(r->rows);
	free(r);
}

void
pool_stats(struct pool *p, struct db_pool_stats *s)
{
	pthread_mutex_lock(&p->mu);
	s->size = p->size;
	s->in_use = p->in_use;
	s->waiting = p->waiting;
	pthread_mutex_unlock(&p->mu);
	s->errors = atomic_load(&p->errors);
	s->reconnects = atomic_load(&p->reconnects);
}

void
db_pool_stats(struct db_pool_stats *s)
{
	pool_stats(&pool, s);
}

PGconn *
pool_conn(struct db *d)
{
	return d->conn;
}

int
db_is_replica(const struct db *d)
{
	return d != NULL && d->owner == &db_replica_pool;
}
