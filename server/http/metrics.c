/*
 * Prometheus metrics: requests by route pattern, method and status, a latency
 * histogram per route, requests in flight, and the pool's figures. Counters
 * are atomics in arrays sized once at start, so recording never allocates
 * and never takes a lock.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../db/db.h"
#include "internal.h"

static const unsigned int statuses[] = { 200, 201, 204, 304, 400, 401, 403,
	404, 405, 409, 413, 415, 422, 429, 431, 500, 503 };
#define NSTATUS (sizeof(statuses) / sizeof(statuses[0]) + 1) /* + other */

static const double buckets[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

struct slot {
	atomic_uint_fast64_t by_status[NSTATUS];
	atomic_uint_fast64_t le[NBUCKETS];	/* not cumulative */
	atomic_uint_fast64_t count;
	atomic_uint_fast64_t sum_us;
};

static struct slot *slots;
static size_t nslots;
static atomic_long inflight;

int
metrics_init(void)
{
	nslots = http_nroutes + 2;
	slots = calloc(nslots, sizeof(*slots));
	return slots ? 0 : -1;
}

void
metrics_record(size_t slot, unsigned int status, double seconds)
{
	size_t i;
	struct slot *s;

	if (slots == NULL || slot >= nslots)
		return;
	s = &slots[slot];
	for (i = 0; i < NSTATUS - 1 && statuses[i] != status; i++)
		;
	atomic_fetch_add(&s->by_status[i], 1);
	for (i = 0; i < NBUCKETS; i++)
		if (seconds <= buckets[i]) {
			atomic_fetch_add(&s->le[i], 1);
			break;
		}
	atomic_fetch_add(&s->count, 1);
	if (seconds > 0)
		atomic_fetch_add(&s->sum_us, (uint_fast64_t)(seconds * 1e6));
}

void
metrics_inflight(int delta)
{
	atomic_fetch_add(&inflight, delta);
}

long
metrics_inflight_now(void)
{
	return atomic_load(&inflight);
}

struct buf {
	char *p;
	size_t len, cap;
	int failed;
};

static void
put(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *np;

	if (b->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = 1;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		np = realloc(b->p, b->cap * 2 + (size_t)n);
		if (np == NULL) {
			b->failed = 1;
			return;
		}
		b->p = np;
		b->cap = b->cap * 2 + (size_t)n;
	}
}

static void
slot_labels(size_t i, const char **route, const char **method)
{
	if (i < http_nroutes) {
		*route = http_routes[i].pattern;
		*method = http_routes[i].method;
	} else {
		*route = i == METRICS_SLOT_STATIC ? "static" : "unmatched";
		*method = "any";
	}
}

/*
 * The replica's figures: where statistics read, why they did not read
 * there, its lag and its pool. Present only when a replica is configured.
 */
static void
replica_render(struct buf *b)
{
	struct db_replica_stats rs;
	int i;

	db_replica_stats(&rs);
	if (!rs.configured)
		return;
	put(b, "# HELP passerelle_db_replica_up 1 while statistics and exports "
	       "read from the replica.\n# TYPE passerelle_db_replica_up gauge\n"
	       "passerelle_db_replica_up %d\n"
	       "# HELP passerelle_db_replica_lag_seconds Replay lag last "
	       "measured (-1: unknown).\n"
	       "# TYPE passerelle_db_replica_lag_seconds gauge\n"
	       "passerelle_db_replica_lag_seconds %.3f\n"
	       "# HELP passerelle_db_replica_reads_total Reads (statistics, "
	       "indicators, exports) served by the replica.\n"
	       "# TYPE passerelle_db_replica_reads_total counter\n"
	       "passerelle_db_replica_reads_total %llu\n"
	       "# HELP passerelle_db_replica_fallbacks_total Reads sent to the "
	       "primary instead, by reason.\n"
	       "# TYPE passerelle_db_replica_fallbacks_total counter\n",
	    rs.fit, rs.lag_s, (unsigned long long)rs.reads);
	for (i = 0; i < DB_REPLICA_NREASONS; i++)
		put(b, "passerelle_db_replica_fallbacks_total{reason=\"%s\"} "
		       "%llu\n", db_replica_why_name((enum db_replica_why)i),
		    (unsigned long long)rs.fallbacks[i]);
	put(b, "# HELP passerelle_db_replica_pool_connections Replica "
	       "connections by state.\n"
	       "# TYPE passerelle_db_replica_pool_connections gauge\n"
	       "passerelle_db_replica_pool_connections{state=\"in_use\"} %d\n"
	       "passerelle_db_replica_pool_connections{state=\"idle\"} %d\n"
	       "# HELP passerelle_db_replica_reconnects_total Replica "
	       "connections rebuilt.\n"
	       "# TYPE passerelle_db_replica_reconnects_total counter\n"
	       "passerelle_db_replica_reconnects_total %llu\n",
	    rs.pool.in_use, rs.pool.size - rs.pool.in_use,
	    (unsigned long long)rs.pool.reconnects);
}

char *
metrics_render(size_t *len)
{
	struct db_pool_stats ps;
	struct buf b = { NULL, 0, 8192, 0 };
	const char *route, *method;
	uint64_t v, cum;
	size_t i, k;

	if ((b.p = malloc(b.cap)) == NULL)
		return NULL;
	b.p[0] = '\0';
	put(&b, "# HELP passerelle_http_requests_total HTTP requests by route "
		"pattern, method and status.\n"
		"# TYPE passerelle_http_requests_total counter\n");
	for (i = 0; i < nslots; i++) {
		slot_labels(i, &route, &method);
		for (k = 0; k < NSTATUS; k++) {
			if ((v = atomic_load(&slots[i].by_status[k])) == 0)
				continue;
			if (k < NSTATUS - 1)
				put(&b, "passerelle_http_requests_total{route=\"%s\","
				    "method=\"%s\",status=\"%u\"} %llu\n",
				    route, method, statuses[k],
				    (unsigned long long)v);
			else
				put(&b, "passerelle_http_requests_total{route=\"%s\","
				    "method=\"%s\",status=\"other\"} %llu\n",
				    route, method, (unsigned long long)v);
		}
	}
	put(&b, "# HELP passerelle_http_request_duration_seconds Time from "
		"the first byte of a request to its completion.\n"
		"# TYPE passerelle_http_request_duration_seconds histogram\n");
	for (i = 0; i < nslots; i++) {
		if ((v = atomic_load(&slots[i].count)) == 0)
			continue;
		slot_labels(i, &route, &method);
		cum = 0;
		for (k = 0; k < NBUCKETS; k++) {
			cum += atomic_load(&slots[i].le[k]);
			put(&b, "passerelle_http_request_duration_seconds_bucket"
			    "{route=\"%s\",method=\"%s\",le=\"%g\"} %llu\n",
			    route, method, buckets[k], (unsigned long long)cum);
		}
		put(&b, "passerelle_http_request_duration_seconds_bucket"
		    "{route=\"%s\",method=\"%s\",le=\"+Inf\"} %llu\n"
		    "passerelle_http_request_duration_seconds_sum"
		    "{route=\"%s\",method=\"%s\"} %.6f\n"
		    "passerelle_http_request_duration_seconds_count"
		    "{route=\"%s\",method=\"%s\"} %llu\n",
		    route, method, (unsigned long long)v, route, method,
		    (double)atomic_load(&slots[i].sum_us) / 1e6, route, method,
		    (unsigned long long)v);
	}
	db_pool_stats(&ps);
	put(&b, "# HELP passerelle_http_requests_in_flight Requests being "
		"handled.\n# TYPE passerelle_http_requests_in_flight gauge\n"
		"passerelle_http_requests_in_flight %ld\n"
		"# HELP passerelle_db_pool_connections Database connections "
		"by state.\n# TYPE passerelle_db_pool_connections gauge\n"
		"passerelle_db_pool_connections{state=\"in_use\"} %d\n"
		"passerelle_db_pool_connections{state=\"idle\"} %d\n"
		"# HELP passerelle_db_pool_waiting Requests waiting for a "
		"connection.\n# TYPE passerelle_db_pool_waiting gauge\n"
		"passerelle_db_pool_waiting %d\n"
		"# HELP passerelle_db_errors_total Statements or connections "
		"that failed for database reasons.\n"
		"# TYPE passerelle_db_errors_total counter\n"
		"passerelle_db_errors_total %llu\n"
		"# HELP passerelle_db_reconnects_total Connections rebuilt.\n"
		"# TYPE passerelle_db_reconnects_total counter\n"
		"passerelle_db_reconnects_total %llu\n",
	    metrics_inflight_now(), ps.in_use, ps.size - ps.in_use, ps.waiting,
	    (unsigned long long)ps.errors, (unsigned long long)ps.reconnects);
	replica_render(&b);
	if (b.failed) {
		free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}
