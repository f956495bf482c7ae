/*
 * stats: anonymised aggregates for the National Committee. Reads clear
 * categories only and never calls crypto/: what it cannot decrypt it cannot
 * leak. Every published count from 1 to k-1 is suppressed, and enough other
 * cells that no suppressed count can be recovered from the published cells
 * and margins by subtraction. Every answer covers exactly one calendar year
 * (a request is widened to its year; one over two years is refused), so
 * that no two answers can be subtracted to single out one victim: they
 * cover the same population, and then publish the same shared figures, or
 * disjoint ones. Sub-year detail comes from the month and quarter
 * dimensions, which suppression protects like any other.
 */
#ifndef PA_STATS_H
#define PA_STATS_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "../auth/auth.h"
#include "../err.h"

struct db;

/*
 * Two at most: a three-way table's cells also sum to two-way margins that
 * another answer publishes, which independent suppression cannot protect.
 */
#define STATS_MAX_DIMS 2

struct stats_query {
	char from[11];		/* widened to January 1st of its year */
	char to[11];		/* widened to December 31st of the same year */
	int widened;
	int multi_year;		/* refused: the period spans two years */
	const char *dims[STATS_MAX_DIMS];
	size_t ndims;
	int k;
	const char *organisation_id;	/* NULL: the whole country */
	/*
	 * The population is frozen at this instant (UTC, "YYYY-MM-DD
	 * 00:00:00+00"): only cases opened before it are counted, so that
	 * the same year asked twice differs by no new victim. Empty: no
	 * freeze (PASSERELLE_STATS_FREEZE=none, tests).
	 */
	char cutoff[48];
	int htcds_k;	/* the HTCDS export's least k: its rows bound cells */
};

void stats_init(void);

/* Every code of a dimension (domain.c): the SOP's list, the year's months
 * or quarters, ISO 3166-1 for nationality. n == 0: none known. */
struct stats_domain {
	char **v;
	size_t n;
};
enum pa_err stats_domain(const struct stats_query *q, const char *dim,
    struct stats_domain *d);
void stats_domain_free(struct stats_domain *d);

/* Sets period_widened and, when widened, period_note (fr, en); as_of
 * and as_of_note (fr, en) for the freeze. */
void stats_period_note(json_t *out, const struct stats_query *q);
/* Sets q->cutoff for a freeze setting ("month": the first instant of the
 * current UTC month; "none": empty) at time now. -1: unknown setting. */
int stats_freeze(struct stats_query *q, const char *setting, time_t now);
/* The SQL argument for q->cutoff (NULL when no freeze). */
#define STATS_CUTOFF(q) ((q)->cutoff[0] ? DB_TEXT((q)->cutoff) : DB_NULL)

/* Checks and widens a period and a "by" list; PA_INVALID naming *field. */
enum pa_err stats_query_parse(struct stats_query *q, const char *from,
    const char *to, const char *by, const char **field);
/* 1 when dim is a dimension statistics may group by. */
int stats_dim_valid(const char *dim);
/* 1 when a dimension counts a case once per value (several per case). */
int stats_dim_multi(const char *dim);
/* Every dimension, for a client to offer: [{"id","multi_valued"}]. */
json_t *stats_dims_json(void);

/* {"k","period","dimensions","multi_valued","cells","totals"}. */
enum pa_err stats_run(struct db *db, const struct stats_query *q,
    json_t **out);

/*
 * Suppression of one answer's table (see stats.c), in place: cells with
 * every dimension set, with two dimensions each value's margin (the other
 * vals NULL), and the total (every vals NULL). Sets suppressed and locked
 * on every cell, whatever they held; counts are left as they are. A zero
 * count is hidden only in a one-way table that hides a count (then every
 * empty category is hidden), or a two-way one that withholds every cell
 * (it cannot protect its small counts otherwise or shares a hidden empty
 * margin); lb is a known lower bound the attacker is given,
 * and only when it is there: stats_run adds every category of a
 * dimension, and the empty cells of values that occur. The same cells, in
 * any order, give the same flags.
 */
struct stats_cell {
	const char *vals[STATS_MAX_DIMS];	/* NULL: a margin over it */
	long count;
	int suppressed;
	int locked;	/* in other answers too: decided as they decide it */
	long lb;	/* known elsewhere to be at least this (the HTCDS
			 * export's rows; 0: nothing known) */
};
void stats_suppress(struct stats_cell *cells, size_t n, size_t ndims, int k);
/* The same, with bit j of multi set when dimension j is multi-valued. */
void stats_suppress_multi(struct stats_cell *cells, size_t n, size_t ndims,
    unsigned multi, int k);

/* Operational indicators with their definitions (both languages). */
enum pa_err stats_indicators(struct db *db, const struct stats_query *q,
    json_t **out);

/*
 * HTCDS export (htcds.c): prepare groups the period's cases by their
 * quasi-identifiers and makes them k-anonymous; next writes CSV rows into
 * buf (at least 512 bytes) and returns 0 at the end.
 */
struct htcds;
enum pa_err stats_htcds_prepare(struct db *db, const struct stats_query *q,
    int k, int en, struct htcds **out);
void stats_htcds_counts(const struct htcds *h, long *rows,
    long *generalised, long *dropped);
size_t stats_htcds_next(struct htcds *h, char *buf, size_t len);
void stats_htcds_free(struct htcds *h);
/*
 * Sets cells[i].lb to what the HTCDS export of the same year (at
 * q->htcds_k, country scope) says each cell holds at least: the export's
 * rows that carry the cell's values exactly. 0 when the export says
 * nothing (a dimension it does not carry, a supervisor's scope).
 */
enum pa_err stats_htcds_bounds(struct db *db, const struct stats_query *q,
    struct stats_cell *cells, size_t n);

/* Records an export in the audit trail (its own transaction). */
enum pa_err stats_audit_export(struct db *db, const struct actor *who,
    const struct stats_query *q, const char *format);

/* CSV text of a stats answer: header in the language, cells neutralised. */
char *stats_csv(json_t *stats, int en, size_t *len);
/* Prefixes a cell starting with = + - @ or a tab with a quote (for CSV and
 * spreadsheets); writes into out (outlen) RFC 4180-quoted when needed. */
void stats_csv_cell(const char *in, char *out, size_t outlen);
/* Writes an XLSX workbook of a stats answer to an open file (fd); 0/-1. */
int stats_xlsx(json_t *stats, int en, const char *path);

#endif
