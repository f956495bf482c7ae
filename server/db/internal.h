/*
 * Private to db/: the pool type shared by pool.c and replica.c. Two
 * instances exist, the primary's pool (pool.c) and db_replica_pool.
 */
#ifndef PA_DB_INTERNAL_H
#define PA_DB_INTERNAL_H

#include <libpq-fe.h>

#include "db.h"

struct pool;
extern struct pool db_replica_pool;

/* Opens the replica pool: read-only sessions, none required now. */
enum pa_err db_replica_pool_open(const char *url, int size, int timeout_s);
/* Leases from p, as db_acquire does from the primary's pool. */
enum pa_err pool_acquire(struct pool *p, struct db **out);
void pool_close(struct pool *p);
void pool_stats(struct pool *p, struct db_pool_stats *s);
/* The leased connection itself, for replica.c's state query. */
PGconn *pool_conn(struct db *d);

#endif
