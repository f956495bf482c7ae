/*
 * audit: the append-only, hash-chained audit trail. Records name who, what,
 * which resource and which fields (names only), from which address, when;
 * never victim data, never secrets. Chains per organisation (one per pool
 * connection slot, so concurrent writes never queue on one head): a record's
 * hash is the keyed BLAKE2b of the previous hash and its canonical content,
 * so a record rewritten behind the server's back breaks its chain.
 */
#ifndef PA_AUDIT_H
#define PA_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "../err.h"

struct db;

struct audit_entry {
	const char *user_id;		/* NULL for anonymous or the CLI */
	const char *organisation_id;	/* NULL: the chain of no organisation */
	const char *action;		/* "session.login", "user.create" ... */
	const char *resource_type;	/* "user", "case" ... or NULL */
	const char *resource_id;
	const char *const *fields;	/* names of fields read or changed */
	size_t nfields;
	const char *address;		/* client address or "cli" */
	json_t *detail;			/* small, never personal data; borrowed */
};

/* Registers the module's statements (before the pool opens). */
void audit_init(void);

/* Appends one record inside the caller's transaction. */
enum pa_err audit_add(struct db *db, const struct audit_entry *e);
/* The same as the transaction's last write: the insert and COMMIT go in
 * one round trip, and the transaction is over when it returns. PA_CONFLICT:
 * another writer had moved the chain's head since this connection last
 * wrote it, so everything was rolled back; running the transaction again
 * succeeds (the head is then read under its lock). */
enum pa_err audit_add_commit(struct db *db, const struct audit_entry *e);

struct audit_verdict {
	int ok;
	int64_t records;
	char chain[37];		/* the first broken chain, when !ok */
	int64_t first_bad;	/* seq of the first bad record in it */
	int64_t first_bad_id;	/* its id */
};
/* Recomputes every chain; reads in batches, never all at once. */
enum pa_err audit_verify(struct db *db, struct audit_verdict *v);

/*
 * Checkpoints: every chain's head as "chain seq hash" lines, to keep away
 * from the database (syslog, another site). A chain cut back at its tail
 * and its head rewound verifies as intact; against a checkpoint it does
 * not, since the record the checkpoint names is gone or different.
 */
enum pa_err audit_checkpoint(struct db *db, FILE *out);
/* Compares a checkpoint file with the trail; *bad counts lines that fail,
 * each written to err (one line). PA_INVALID for a malformed file. */
enum pa_err audit_checkpoint_check(struct db *db, FILE *in, FILE *err,
    long *checked, long *bad);

struct audit_filter {
	const char *organisation_id;	/* NULL: all organisations */
	const char *resource_id;
	const char *user_id;
	const char *from;		/* YYYY-MM-DD, inclusive */
	const char *to;			/* YYYY-MM-DD, inclusive */
	int64_t before_id;		/* cursor: 0 for the newest */
	int limit;
};
/* Newest first; *next is the cursor for the next page or 0. */
enum pa_err audit_list(struct db *db, const struct audit_filter *f,
    json_t **items, int64_t *next);

#endif
