/*
 * The audit trail. Appending takes the chain head FOR UPDATE (so records of
 * one chain are ordered and those of other chains never wait), computes the
 * hash, then inserts the record and moves the head in one statement: two
 * round trips, inside the caller's transaction. A connection that remembers
 * the head it wrote last needs only the second (see add_after).
 *
 * Canonical content: each value as a 4-byte big-endian length and its bytes,
 * in a fixed order (version, chain, seq, time in microseconds, user,
 * organisation, action, resource type, resource id, comma-joined field
 * names, address, detail JSON). Absent values are empty.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../crypto/crypto.h"
#include "../db/db.h"
#include "../log.h"
#include "audit.h"

#define NIL_CHAIN "00000000-0000-0000-0000-000000000000"

static const struct db_stmt stmts[] = {
	{ "audit_head_lock",
	    "SELECT seq, hash FROM audit_heads WHERE chain = $1 FOR UPDATE" },
	{ "audit_head_create",
	    "INSERT INTO audit_heads (chain, seq, hash) "
	    "VALUES ($1, 0, '\\x'::bytea) ON CONFLICT (chain) DO NOTHING" },
	{ "audit_insert",
	    "WITH h AS (UPDATE audit_heads SET seq = $2, hash = $13 "
	    "WHERE chain = $1) "
	    "INSERT INTO audit_log (chain, seq, at_us, at, user_id, "
	    "organisation_id, action, resource_type, resource_id, fields, "
	    "address, detail, prev_hash, hash) VALUES ($1, $2, $3, "
	    "timestamptz 'epoch' + $3::bigint * interval '1 microsecond', "
	    "$4, $5, $6, $7, $8, string_to_array($9, ','), $10, $11, $12, "
	    "$13)" },
	/*
	 * After a remembered head: the head moves only from (seq - 1, prev
	 * hash); when it has moved on, nothing is written (no row returned)
	 * or, in the variant that travels with COMMIT, the NULL seq fails the
	 * statement and so the transaction.
	 */
	{ "audit_append",
	    "WITH h AS (UPDATE audit_heads SET seq = $2::bigint, hash = $13 "
	    "WHERE chain = $1::uuid AND seq = $2::bigint - 1 AND hash = $12 "
	    "RETURNING seq) "
	    "INSERT INTO audit_log (chain, seq, at_us, at, user_id, "
	    "organisation_id, action, resource_type, resource_id, fields, "
	    "address, detail, prev_hash, hash) SELECT $1::uuid, h.seq, "
	    "$3::bigint, timestamptz 'epoch' + $3::bigint * "
	    "interval '1 microsecond', $4::uuid, $5::uuid, $6::text, $7::text, "
	    "$8::text, string_to_array($9::text, ','), $10::text, $11::text, "
	    "$12::bytea, $13::bytea FROM h RETURNING seq" },
	{ "audit_append_commit",
	    "WITH h AS (UPDATE audit_heads SET seq = $2::bigint, hash = $13 "
	    "WHERE chain = $1::uuid AND seq = $2::bigint - 1 AND hash = $12 "
	    "RETURNING seq) "
	    "INSERT INTO audit_log (chain, seq, at_us, at, user_id, "
	    "organisation_id, action, resource_type, resource_id, fields, "
	    "address, detail, prev_hash, hash) VALUES ($1, "
	    "(SELECT seq FROM h), $3, "
	    "timestamptz 'epoch' + $3::bigint * interval '1 microsecond', "
	    "$4, $5, $6, $7, $8, string_to_array($9, ','), $10, $11, $12, "
	    "$13)" },
	{ "audit_verify_batch",
	    "SELECT id, chain, seq, at_us, coalesce(user_id::text, ''), "
	    "coalesce(organisation_id::text, ''), action, "
	    "coalesce(resource_type, ''), coalesce(resource_id, ''), "
	    "array_to_string(fields, ','), coalesce(address, ''), "
	    "coalesce(detail, ''), prev_hash, hash FROM audit_log "
	    "WHERE (chain, seq) > ($1::uuid, $2::bigint) "
	    "ORDER BY chain, seq LIMIT 2000" },
	{ "audit_heads_all",
	    "SELECT chain, seq, hash FROM audit_heads ORDER BY chain" },
	{ "audit_record_hash",
	    "SELECT encode(hash, 'hex') FROM audit_log WHERE chain = $1 AND "
	    "seq = $2" },
	{ "audit_list",
	    "SELECT id, to_char(at, 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
	    "user_id, organisation_id, action, resource_type, resource_id, "
	    "array_to_json(fields)::text, address, detail, chain, seq "
	    "FROM audit_log WHERE ($1::uuid IS NULL OR organisation_id = $1) "
	    "AND ($2::text IS NULL OR resource_id = $2) "
	    "AND ($3::uuid IS NULL OR user_id = $3) "
	    "AND ($4::date IS NULL OR at >= $4::date) "
	    "AND ($5::date IS NULL OR at < $5::date + 1) "
	    "AND ($6::bigint = 0 OR id < $6) ORDER BY id DESC LIMIT $7" },
};

void
audit_init(void)
{
	db_stmts_add(stmts, sizeof(stmts) / sizeof(stmts[0]));
}

struct canon {
	unsigned char *p;
	size_t len, cap;
	int failed;
};

static void
canon_put(struct canon *c, const char *s, size_t n)
{
	unsigned char *np;

	if (c->failed)
		return;
	if (c->len + n + 4 > c->cap) {
		size_t cap = (c->len + n + 4) * 2 + 256;

		if ((np = realloc(c->p, cap)) == NULL) {
			c->failed = 1;
			return;
		}
		c->p = np;
		c->cap = cap;
	}
	c->p[c->len++] = (unsigned char)(n >> 24);
	c->p[c->len++] = (unsigned char)(n >> 16);
	c->p[c->len++] = (unsigned char)(n >> 8);
	c->p[c->len++] = (unsigned char)n;
	if (n > 0)
		memcpy(c->p + c->len, s, n);
	c->len += n;
}

static void
canon_str(struct canon *c, const char *s)
{
	canon_put(c, s ? s : "", s ? strlen(s) : 0);
}

/* Hash of one record; the strings are the stored forms, "" when absent. */
static int
record_hash(const unsigned char *prev, size_t prevlen, const char *chain,
    const char *seq, const char *at_us, const char *user, const char *org,
    const char *action, const char *rtype, const char *rid,
    const char *fields, const char *address, const char *detail,
    unsigned char out[SEC_HASH_BYTES])
{
	struct canon c = { NULL, 0, 0, 0 };
	int rc;

	canon_str(&c, "audit-v1");
	canon_str(&c, chain);
	canon_str(&c, seq);
	canon_str(&c, at_us);
	canon_str(&c, user);
	canon_str(&c, org);
	canon_str(&c, action);
	canon_str(&c, rtype);
	canon_str(&c, rid);
	canon_str(&c, fields);
	canon_str(&c, address);
	canon_str(&c, detail);
	rc = c.failed ? -1 : sec_audit_hash(prev, prevlen, c.p, c.len, out);
	free(c.p);
	return rc;
}

static char *
join_fields(const char *const *fields, size_t n)
{
	size_t i, len = 1;
	char *s;

	for (i = 0; i < n; i++)
		len += strlen(fields[i]) + 1;
	if ((s = malloc(len)) == NULL)
		return NULL;
	for (i = 0, len = 0; i < n; i++) {
		size_t fl = strlen(fields[i]);

		if (i > 0)
			s[len++] = ',';
		memcpy(s + len, fields[i], fl);
		len += fl;
	}
	s[len] = '\0';
	return s;
}

/*
 * The chain a record goes to: the organisation's UUID with its last two
 * hex digits replaced by the pool connection's slot (mod 16). A connection
 * runs one transaction at a time, so two requests never wait on one chain
 * head unless they share a connection slot in two server processes; each
 * organisation still has its own chains, verified one by one.
 */
static void
chain_of(struct db *db, const char *org, char out[37])
{
	snprintf(out, 37, "%.34s%02x", org ? org : NIL_CHAIN,
	    (unsigned int)db_slot(db) & 0x0f);
}

static enum pa_err add(struct db *db, const struct audit_entry *e,
    int commit);

enum pa_err
audit_add(struct db *db, const struct audit_entry *e)
{
	return add(db, e, 0);
}

enum pa_err
audit_add_commit(struct db *db, const struct audit_entry *e)
{
	return add(db, e, 1);
}

/*
 * Each pool connection remembers the heads of the chains it wrote last.
 * With a remembered head a record goes in with one statement, which moves
 * the head only if it still is the one remembered (seq and hash). Another
 * writer of the chain (a second server whose connection has the same slot)
 * or a transaction of ours that rolled back after its record makes that
 * statement match nothing: the head is then read FOR UPDATE as before. The
 * database decides, under the head row's lock, so a wrong memory costs a
 * round trip, never a broken or forked chain.
 */
#define HEADS_KEPT 16

struct head {
	char chain[37];
	int64_t seq;
	unsigned char hash[SEC_HASH_BYTES];
	int valid;
};

struct heads {
	struct head h[HEADS_KEPT];
	unsigned int next;	/* the slot to reuse next */
};

static struct head *
head_find(struct heads *hs, const char *chain)
{
	int i;

	if (hs == NULL)
		return NULL;
	for (i = 0; i < HEADS_KEPT; i++)
		if (hs->h[i].valid && strcmp(hs->h[i].chain, chain) == 0)
			return &hs->h[i];
	return NULL;
}

static void
head_keep(struct heads *hs, const char *chain, int64_t seq,
    const unsigned char hash[SEC_HASH_BYTES])
{
	struct head *h = head_find(hs, chain);

	if (hs == NULL)
		return;
	if (h == NULL) {
		h = &hs->h[hs->next];
		hs->next = (hs->next + 1) % HEADS_KEPT;
		snprintf(h->chain, sizeof(h->chain), "%s", chain);
	}
	h->seq = seq;
	memcpy(h->hash, hash, SEC_HASH_BYTES);
	h->valid = 1;
}

/* A record's stored values and hash, after the head (cur, prev). */
struct record {
	char seq[24], at_us[24];
	char *fields, *detail;
	unsigned char hash[SEC_HASH_BYTES];
	struct db_arg args[13];
};

static enum pa_err
record_make(struct record *r, const char *chain, int64_t cur,
    const unsigned char *prev, size_t prevlen, const struct audit_entry *e)
{
	struct timespec ts;

	r->fields = r->detail = NULL;
	snprintf(r->seq, sizeof(r->seq), "%lld", (long long)(cur + 1));
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(r->at_us, sizeof(r->at_us), "%lld",
	    (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000);
	r->fields = join_fields(e->fields, e->nfields);
	if (e->detail != NULL)
		r->detail = json_dumps(e->detail, JSON_COMPACT |
		    JSON_SORT_KEYS);
	if (r->fields == NULL || (e->detail != NULL && r->detail == NULL))
		return PA_INTERNAL;
	if (record_hash(prev, prevlen, chain, r->seq, r->at_us, e->user_id,
		e->organisation_id, e->action, e->resource_type,
		e->resource_id, r->fields, e->address, r->detail,
		r->hash) != 0)
		return PA_INTERNAL;
	r->args[0] = DB_TEXT(chain);
	r->args[1] = DB_TEXT(r->seq);
	r->args[2] = DB_TEXT(r->at_us);
	r->args[3] = e->user_id ? DB_TEXT(e->user_id) : DB_NULL;
	r->args[4] = e->organisation_id ? DB_TEXT(e->organisation_id) :
	    DB_NULL;
	r->args[5] = DB_TEXT(e->action);
	r->args[6] = e->resource_type ? DB_TEXT(e->resource_type) : DB_NULL;
	r->args[7] = e->resource_id ? DB_TEXT(e->resource_id) : DB_NULL;
	r->args[8] = DB_TEXT(r->fields);
	r->args[9] = e->address ? DB_TEXT(e->address) : DB_NULL;
	r->args[10] = r->detail ? DB_TEXT(r->detail) : DB_NULL;
	r->args[11] = DB_BYTES(prev, prevlen);
	r->args[12] = DB_BYTES(r->hash, sizeof(r->hash));
	return PA_OK;
}

static void
record_clear(struct record *r)
{
	free(r->fields);
	free(r->detail);
	r->fields = r->detail = NULL;
}

/*
 * The record after a remembered head. Inside the transaction: *done is 0
 * when the head had moved (nothing written; the caller takes the lock
 * path). With commit: a moved head fails the statement, so COMMIT rolls
 * back, and the answer is PA_CONFLICT (the caller may run it all again).
 */
static enum pa_err
add_after(struct db *db, struct head *h, const struct audit_entry *e,
    int commit, int *done)
{
	unsigned char prev[SEC_HASH_BYTES];
	struct record r;
	struct db_res *res = NULL;
	int64_t cur = h->seq;
	enum pa_err rc;

	*done = 0;
	memcpy(prev, h->hash, sizeof(prev));
	h->valid = 0;	/* until this record is in */
	if ((rc = record_make(&r, h->chain, cur, prev, sizeof(prev), e)) !=
	    PA_OK)
		goto out;
	if (commit) {
		rc = db_exec_commit(db, "audit_append_commit", r.args, 13);
		/* 23502: no head matched, so the seq was NULL. */
		if (rc == PA_INVALID)
			rc = PA_CONFLICT;
		*done = 1;
	} else {
		rc = db_exec(db, "audit_append", r.args, 13, &res);
		*done = rc != PA_OK || db_res_rows(res) == 1;
	}
	if (rc == PA_OK && *done) {
		h->seq = cur + 1;
		memcpy(h->hash, r.hash, sizeof(r.hash));
		h->valid = 1;
	}
out:
	db_res_free(res);
	record_clear(&r);
	return rc;
}

/*
 * Without a remembered head (or after another writer): the head is locked
 * before the insert, so the insert cannot lose a race and may travel with
 * COMMIT.
 */
static enum pa_err
add(struct db *db, const struct audit_entry *e, int commit)
{
	struct heads *hs = db_memo(db, sizeof(struct heads));
	struct record r = { .fields = NULL, .detail = NULL };
	unsigned char *prev = NULL;
	struct db_res *res = NULL;
	struct head *kept;
	char chain[37];
	size_t prevlen = 0;
	int64_t cur;
	enum pa_err rc;
	int done;

	chain_of(db, e->organisation_id, chain);
	if ((kept = head_find(hs, chain)) != NULL) {
		rc = add_after(db, kept, e, commit, &done);
		if (done)
			return rc;
	}
	if ((rc = db_exec(db, "audit_head_lock", &DB_TEXT(chain), 1, &res)) !=
	    PA_OK)
		goto out;
	if (db_res_rows(res) == 0) {
		db_res_free(res);
		res = NULL;
		if ((rc = db_exec(db, "audit_head_create", &DB_TEXT(chain), 1,
			 NULL)) != PA_OK ||
		    (rc = db_exec(db, "audit_head_lock", &DB_TEXT(chain), 1,
			 &res)) != PA_OK)
			goto out;
		if (db_res_rows(res) != 1) {
			rc = PA_INTERNAL;
			goto out;
		}
	}
	if (db_res_int64(res, 0, 0, &cur) != 0 ||
	    (rc = db_res_bytea(res, 0, 1, &prev, &prevlen)) != PA_OK) {
		rc = PA_INTERNAL;
		goto out;
	}
	if ((rc = record_make(&r, chain, cur, prev, prevlen, e)) != PA_OK)
		goto out;
	rc = commit ? db_exec_commit(db, "audit_insert", r.args, 13) :
	    db_exec(db, "audit_insert", r.args, 13, NULL);
	if (rc == PA_OK)
		head_keep(hs, chain, cur + 1, r.hash);
out:
	db_res_free(res);
	free(prev);
	record_clear(&r);
	return rc;
}

/* Checks the end of a chain against its head row. */
static int
head_matches(struct db_res *heads, const char *chain, int64_t seq,
    const unsigned char *hash, size_t hashlen)
{
	unsigned char *h = NULL;
	size_t hl = 0;
	int64_t hs;
	int i, ok = 0;

	for (i = 0; i < db_res_rows(heads); i++) {
		if (strcmp(db_res_get(heads, i, 0), chain) != 0)
			continue;
		if (db_res_int64(heads, i, 1, &hs) == 0 && hs == seq &&
		    db_res_bytea(heads, i, 2, &h, &hl) == PA_OK &&
		    sec_equal_bytes(h, hl, hash, hashlen))
			ok = 1;
		free(h);
		return ok;
	}
	return seq == 0;
}

static int
chain_add(char (**seen)[37], size_t *n, const char *chain)
{
	char (*ns)[37] = realloc(*seen, (*n + 1) * sizeof(**seen));

	if (ns == NULL)
		return -1;
	*seen = ns;
	snprintf(ns[*n], sizeof(ns[*n]), "%s", chain);
	(*n)++;
	return 0;
}

static int
chain_seen(char (*seen)[37], size_t n, const char *chain)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(seen[i], chain) == 0)
			return 1;
	return 0;
}

enum pa_err
audit_verify(struct db *db, struct audit_verdict *v)
{
	unsigned char prev[SEC_HASH_BYTES], calc[SEC_HASH_BYTES];
	unsigned char *sprev = NULL, *shash = NULL;
	struct db_res *res = NULL, *heads = NULL;
	char last_chain[37] = NIL_CHAIN, cur_chain[37] = "";
	char last_seq[24] = "-1";
	size_t prevlen = 0, splen, shlen;
	int64_t seq, expect = 1, id;
	enum pa_err rc;
	char (*seen)[37] = NULL;
	size_t nseen = 0;
	int i, n, first = 1;

	memset(v, 0, sizeof(*v));
	v->ok = 1;
	if ((rc = db_exec(db, "audit_heads_all", NULL, 0, &heads)) != PA_OK)
		return rc;
	/* (chain, seq) > (nil, -1) starts at the very first record. */
	for (;;) {
		struct db_arg a[2] = { DB_TEXT(last_chain), DB_TEXT(last_seq) };

		if ((rc = db_exec(db, "audit_verify_batch", a, 2, &res)) !=
		    PA_OK)
			goto out;
		n = db_res_rows(res);
		for (i = 0; i < n; i++) {
			const char *chain = db_res_get(res, i, 1);

			if (db_res_int64(res, i, 0, &id) != 0 ||
			    db_res_int64(res, i, 2, &seq) != 0) {
				rc = PA_INTERNAL;
				goto out;
			}
			if (first || strcmp(chain, cur_chain) != 0) {
				/* The chain before must end at its head. */
				if (!first && !head_matches(heads, cur_chain,
				    expect - 1, prev, prevlen))
					goto bad_head;
				snprintf(cur_chain, sizeof(cur_chain), "%s",
				    chain);
				if (chain_add(&seen, &nseen, chain) != 0) {
					rc = PA_INTERNAL;
					goto out;
				}
				expect = 1;
				prevlen = 0;
				first = 0;
			}
			if (db_res_bytea(res, i, 12, &sprev, &splen) != PA_OK ||
			    db_res_bytea(res, i, 13, &shash, &shlen) != PA_OK) {
				rc = PA_INTERNAL;
				goto out;
			}
			if (seq != expect ||
			    !sec_equal_bytes(sprev, splen, prev, prevlen) ||
			    record_hash(prev, prevlen, chain,
				db_res_get(res, i, 2), db_res_get(res, i, 3),
				db_res_get(res, i, 4), db_res_get(res, i, 5),
				db_res_get(res, i, 6), db_res_get(res, i, 7),
				db_res_get(res, i, 8), db_res_get(res, i, 9),
				db_res_get(res, i, 10), db_res_get(res, i, 11),
				calc) != 0 ||
			    !sec_equal_bytes(shash, shlen, calc,
				sizeof(calc))) {
				v->ok = 0;
				snprintf(v->chain, sizeof(v->chain), "%s",
				    chain);
				v->first_bad = seq;
				v->first_bad_id = id;
				goto out;
			}
			memcpy(prev, calc, sizeof(calc));
			prevlen = sizeof(calc);
			free(sprev);
			free(shash);
			sprev = shash = NULL;
			expect++;
			v->records++;
			snprintf(last_chain, sizeof(last_chain), "%s", chain);
			snprintf(last_seq, sizeof(last_seq), "%lld",
			    (long long)seq);
		}
		db_res_free(res);
		res = NULL;
		if (n < 2000)
			break;
	}
	if (!first && !head_matches(heads, cur_chain, expect - 1, prev,
	    prevlen))
		goto bad_head;
	/* A head whose chain has no record left lost all its records. */
	for (i = 0; i < db_res_rows(heads); i++) {
		int64_t hs;

		if (db_res_int64(heads, i, 1, &hs) == 0 && hs > 0 &&
		    !chain_seen(seen, nseen, db_res_get(heads, i, 0))) {
			v->ok = 0;
			snprintf(v->chain, sizeof(v->chain), "%s",
			    db_res_get(heads, i, 0));
			v->first_bad = 1;
			break;
		}
	}
	goto out;
bad_head:
	v->ok = 0;
	snprintf(v->chain, sizeof(v->chain), "%s", cur_chain);
	v->first_bad = expect;	/* the record that should follow is gone */
	v->first_bad_id = 0;
out:
	free(seen);
	free(sprev);
	free(shash);
	db_res_free(res);
	db_res_free(heads);
	return rc;
}

static json_t *
text_or_null(struct db_res *r, int row, int col)
{
	return db_res_isnull(r, row, col) ? json_null() :
	    json_string(db_res_get(r, row, col));
}

enum pa_err
audit_list(struct db *db, const struct audit_filter *f, json_t **items,
    int64_t *next)
{
	struct db_res *res = NULL;
	struct db_arg a[7];
	char before[24], limit[16];
	json_t *arr, *o;
	int64_t id = 0, seq;
	enum pa_err rc;
	int i, n;

	*items = NULL;
	*next = 0;
	snprintf(before, sizeof(before), "%lld", (long long)f->before_id);
	snprintf(limit, sizeof(limit), "%d", f->limit + 1);
	a[0] = f->organisation_id ? DB_TEXT(f->organisation_id) : DB_NULL;
	a[1] = f->resource_id ? DB_TEXT(f->resource_id) : DB_NULL;
	a[2] = f->user_id ? DB_TEXT(f->user_id) : DB_NULL;
	a[3] = f->from ? DB_TEXT(f->from) : DB_NULL;
	a[4] = f->to ? DB_TEXT(f->to) : DB_NULL;
	a[5] = DB_TEXT(before);
	a[6] = DB_TEXT(limit);
	if ((rc = db_exec(db, "audit_list", a, 7, &res)) != PA_OK)
		return rc;
	if ((arr = json_array()) == NULL) {
		db_res_free(res);
		return PA_INTERNAL;
	}
	n = db_res_rows(res);
	for (i = 0; i < n && i < f->limit; i++) {
		json_t *fields = json_loads(db_res_get(res, i, 7), 0, NULL);
		json_t *detail = db_res_isnull(res, i, 9) ? json_null() :
		    json_loads(db_res_get(res, i, 9), 0, NULL);

		(void)db_res_int64(res, i, 0, &id);
		(void)db_res_int64(res, i, 11, &seq);
		o = json_pack("{s:I, s:s, s:o, s:o, s:s, s:o, s:o, s:o, s:o, "
			      "s:o, s:s, s:I}",
		    "id", (json_int_t)id, "at", db_res_get(res, i, 1),
		    "user_id", text_or_null(res, i, 2),
		    "organisation_id", text_or_null(res, i, 3),
		    "action", db_res_get(res, i, 4),
		    "resource_type", text_or_null(res, i, 5),
		    "resource_id", text_or_null(res, i, 6),
		    "fields", fields ? fields : json_array(),
		    "address", text_or_null(res, i, 8),
		    "detail", detail ? detail : json_null(),
		    "chain", db_res_get(res, i, 10), "seq", (json_int_t)seq);
		if (o == NULL || json_array_append_new(arr, o) != 0) {
			json_decref(arr);
			db_res_free(res);
			return PA_INTERNAL;
		}
	}
	if (n > f->limit)
		*next = id;
	db_res_free(res);
	*items = arr;
	return PA_OK;
}

enum pa_err
audit_checkpoint(struct db *db, FILE *out)
{
	struct db_res *res = NULL;
	unsigned char *h = NULL;
	size_t hl, k;
	enum pa_err rc;
	int i;

	if ((rc = db_exec(db, "audit_heads_all", NULL, 0, &res)) != PA_OK)
		return rc;
	for (i = 0; i < db_res_rows(res); i++) {
		if (strcmp(db_res_get(res, i, 1), "0") == 0)
			continue;
		if ((rc = db_res_bytea(res, i, 2, &h, &hl)) != PA_OK)
			break;
		fprintf(out, "%s %s ", db_res_get(res, i, 0),
		    db_res_get(res, i, 1));
		for (k = 0; k < hl; k++)
			fprintf(out, "%02x", h[k]);
		fputc('\n', out);
		free(h);
		h = NULL;
	}
	db_res_free(res);
	return rc;
}

enum pa_err
audit_checkpoint_check(struct db *db, FILE *in, FILE *err, long *checked,
    long *bad)
{
	char line[256], chain[40], seq[24], hash[80];
	struct db_res *res = NULL;
	enum pa_err rc;

	*checked = *bad = 0;
	while (fgets(line, sizeof(line), in) != NULL) {
		if (line[0] == '\n' || line[0] == '#')
			continue;
		if (sscanf(line, "%36s %20s %64s", chain, seq, hash) != 3 ||
		    strspn(seq, "0123456789") != strlen(seq) ||
		    strlen(hash) != 64)
			return PA_INVALID;
		{
			struct db_arg a[2] = { DB_TEXT(chain), DB_TEXT(seq) };

			if ((rc = db_exec(db, "audit_record_hash", a, 2,
			    &res)) != PA_OK)
				return rc == PA_INVALID ? PA_INVALID : rc;
		}
		(*checked)++;
		if (db_res_rows(res) != 1 ||
		    strcmp(db_res_get(res, 0, 0), hash) != 0) {
			(*bad)++;
			fprintf(err, "chain %s: record %s %s since the "
			    "checkpoint\n", chain, seq,
			    db_res_rows(res) != 1 ? "is gone" : "has changed");
		}
		db_res_free(res);
		res = NULL;
	}
	return PA_OK;
}
