/*
 * The replica: statistics, indicators and exports may read a little stale
 * data, so they read from a streaming replica when one is configured, to
 * spare the primary. Whether the replica is fit is decided at most once a
 * second (a cached verdict, not a round trip per request), by the request
 * that finds the verdict old; every other request uses the cached one.
 *
 * Fit means: reachable, in recovery (a promoted or mistaken server is not
 * our replica) and not lagging by more than the configured delay. Lag is
 * zero when everything received has been replayed and a WAL receiver is
 * streaming, so an idle primary does not make its replica look late;
 * otherwise it is now() - pg_last_xact_replay_timestamp() on the replica,
 * and unknown (so: lagging) when nothing was ever replayed.
 *
 * An unfit replica sends reads to the primary, counted by reason; the log
 * gets one line each time the verdict changes, never one per request.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../log.h"
#include "db.h"
#include "internal.h"

#define CHECK_EVERY_MS 1000

static const char lag_sql[] =
    "SELECT pg_is_in_recovery(), "
    "CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() "
    "AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver "
    "WHERE coalesce(status, 'streaming') = 'streaming') THEN 0 "
    "ELSE coalesce(extract(epoch FROM now() - "
    "pg_last_xact_replay_timestamp())::float8, -1) END";

static const char *const why_names[DB_REPLICA_NREASONS] = {
	"unreachable", "lagging", "not_standby"
};

static struct {
	pthread_mutex_t mu;
	int configured;
	int max_lag_s;
	int checking;		/* a request is deciding now */
	int known;		/* a verdict was reached once */
	struct timespec checked;	/* CLOCK_MONOTONIC of the verdict */
	int fit;
	enum db_replica_why why;	/* when not fit */
	double lag_s;		/* last measured; -1 unknown */
} rs = { PTHREAD_MUTEX_INITIALIZER, 0, 30, 0, 0, { 0, 0 }, 0,
	DB_REPLICA_UNREACHABLE, -1 };

static atomic_uint_fast64_t reads;
static atomic_uint_fast64_t fallbacks[DB_REPLICA_NREASONS];

const char *
db_replica_why_name(enum db_replica_why why)
{
	return (unsigned)why < DB_REPLICA_NREASONS ? why_names[why] : "?";
}

enum pa_err
db_replica_open(const char *url, int size, int timeout_s, int max_lag_s)
{
	enum pa_err rc;

	if ((rc = db_replica_pool_open(url, size, timeout_s)) != PA_OK)
		return rc;
	pthread_mutex_lock(&rs.mu);
	rs.configured = 1;
	rs.max_lag_s = max_lag_s;
	rs.known = 0;
	rs.checked.tv_sec = 0;
	rs.checked.tv_nsec = 0;
	pthread_mutex_unlock(&rs.mu);
	return PA_OK;
}

void
db_replica_close(void)
{
	pthread_mutex_lock(&rs.mu);
	rs.configured = 0;
	pthread_mutex_unlock(&rs.mu);
	pool_close(&db_replica_pool);
}

static long
ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec - t->tv_sec) * 1000 +
	    (now.tv_nsec - t->tv_nsec) / 1000000;
}

/*
 * Records a verdict; logs one line when it differs from the last one. The
 * message names the reason and the lag, never the URL (it may hold a
 * password).
 */
static void
verdict(int fit, enum db_replica_why why, double lag_s, int checked)
{
	int changed, max;

	pthread_mutex_lock(&rs.mu);
	changed = !rs.known || rs.fit != fit || (!fit && rs.why != why);
	rs.known = 1;
	rs.fit = fit;
	rs.why = why;
	rs.lag_s = lag_s;
	if (checked)
		rs.checking = 0;
	clock_gettime(CLOCK_MONOTONIC, &rs.checked);
	max = rs.max_lag_s;
	pthread_mutex_unlock(&rs.mu);
	if (!changed)
		return;
	if (fit)
		log_info("db: replica in use for statistics and exports "
		    "(lag %.1fs, max %ds)", lag_s, max);
	else if (why == DB_REPLICA_LAGGING && lag_s >= 0)
		log_warn("db: replica lagging %.1fs (max %ds): statistics "
		    "and exports read from the primary", lag_s, max);
	else
		log_warn("db: replica %s: statistics and exports read from "
		    "the primary", why == DB_REPLICA_LAGGING ?
			"lag unknown (nothing replayed yet)" :
		why == DB_REPLICA_NOT_STANDBY ? "is not in recovery" :
						"unreachable");
}

/* Leases a replica connection and measures it; *out kept when fit. */
static int
check(int max_lag_s, struct db **out, enum db_replica_why *why, double *lag)
{
	const struct timespec pause = { 0, 20 * 1000000L };
	struct db *d = NULL;
	PGresult *r;
	char *end;
	int fit = 0, standby, tries;

	*out = NULL;
	*lag = -1;
	*why = DB_REPLICA_UNREACHABLE;
	if (pool_acquire(&db_replica_pool, &d) != PA_OK)
		return 0;
	/*
	 * WAL received but not yet replayed makes the lag read as the time
	 * since the last replayed commit, which after an idle spell is long
	 * even when the replica is a millisecond behind. A late verdict is
	 * therefore measured again, twice, a moment apart.
	 */
	for (tries = 0; tries < 3 && !fit; tries++) {
		if (tries > 0)
			nanosleep(&pause, NULL);
		r = PQexecParams(pool_conn(d), lag_sql, 0, NULL, NULL, NULL,
		    NULL, 0);
		if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
			*why = DB_REPLICA_UNREACHABLE;
			*lag = -1;
			PQclear(r);
			break;
		}
		standby = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
		*lag = strtod(PQgetvalue(r, 0, 1), &end);
		PQclear(r);
		if (!standby) {
			*why = DB_REPLICA_NOT_STANDBY;
			*lag = -1;
			break;
		}
		if (*lag < 0 || *lag > (double)max_lag_s)
			*why = DB_REPLICA_LAGGING;
		else
			fit = 1;
	}
	if (fit)
		*out = d;
	else
		db_release(d);
	return fit;
}

enum pa_err
db_acquire_read(struct db **out)
{
	enum db_replica_why why;
	struct db *d;
	double lag;
	int due, fit, max_lag_s;

	*out = NULL;
	pthread_mutex_lock(&rs.mu);
	if (!rs.configured) {
		pthread_mutex_unlock(&rs.mu);
		return db_acquire(out);
	}
	due = !rs.checking && (!rs.known || ms_since(&rs.checked) >=
	    CHECK_EVERY_MS);
	if (due)
		rs.checking = 1;
	fit = rs.fit && rs.known;
	why = rs.why;
	max_lag_s = rs.max_lag_s;
	pthread_mutex_unlock(&rs.mu);

	if (due) {
		fit = check(max_lag_s, &d, &why, &lag);
		verdict(fit, why, lag, 1);
		if (fit) {
			atomic_fetch_add(&reads, 1);
			*out = d;
			return PA_OK;
		}
	} else if (fit) {
		if (pool_acquire(&db_replica_pool, &d) == PA_OK) {
			atomic_fetch_add(&reads, 1);
			*out = d;
			return PA_OK;
		}
		why = DB_REPLICA_UNREACHABLE;
		verdict(0, why, -1, 0);
	}
	atomic_fetch_add(&fallbacks[why], 1);
	return db_acquire(out);
}

void
db_replica_failed(void)
{
	verdict(0, DB_REPLICA_UNREACHABLE, -1, 0);
	atomic_fetch_add(&fallbacks[DB_REPLICA_UNREACHABLE], 1);
}

void
db_replica_stats(struct db_replica_stats *s)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	pthread_mutex_lock(&rs.mu);
	s->configured = rs.configured;
	s->fit = rs.known && rs.fit;
	s->lag_s = rs.lag_s;
	pthread_mutex_unlock(&rs.mu);
	s->reads = atomic_load(&reads);
	for (i = 0; i < DB_REPLICA_NREASONS; i++)
		s->fallbacks[i] = atomic_load(&fallbacks[i]);
	pool_stats(&db_replica_pool, &s->pool);
}
