/* Private to cases/. */
#ifndef PA_CASES_INTERNAL_H
#define PA_CASES_INTERNAL_H

#include <stdint.h>

#include <jansson.h>

#include "../db/db.h"
#include "../util/jv.h"
#include "cases.h"

struct sop;

int cases_country_valid(const char *c);
/* 1 when free text holds no control or bidirectional override character. */
int cases_text_clean(const char *s);
void cases_today(char out[11]);
/* Checks one section against the catalogue; patch allows null (clear). */
enum pa_err cases_validate_section(const struct sop *s, const char *section,
    json_t *obj, int patch, struct cases_err *err);

/*
 * Array literals and such, in a jv_buf (jv_buf_add appends bytes); sb_free
 * wipes what was written before freeing it.
 */
void sb_str(struct jv_buf *b, const char *s);
/* Adds an item to a "{a,b}" literal; items must need no quoting. */
void sb_item(struct jv_buf *b, const char *s);
const char *sb_array(struct jv_buf *b);
void sb_hex(struct jv_buf *b, const unsigned char *p, size_t n);
void sb_free(struct jv_buf *b);

struct db_res;
struct sec_case_key;

unsigned char *cases_unhex(const char *s, size_t *n);
void cases_set_err(struct cases_err *err, const char *field, const char *fr,
    const char *en);
/* Opens hex ciphertext of (table "case_fields", column field, case id). */
json_t *cases_open_json(const struct sec_case_key *key, const char *case_id,
    const char *field, const char *hex);
enum pa_err cases_audit(struct db *db, const struct actor *who,
    const char *action, const char *case_id, const char *const *fields,
    size_t nfields, json_t *detail);
/*
 * Crypto-shreds case id inside the caller's transaction: its wrapped data
 * key, sealed fields and blind indexes go, every other ciphertext of the
 * case is set to NULL, pending referrals are withdrawn; the clear categories
 * stay for statistics. Audits action in org_id's chain (who NULL: the CLI)
 * and adds a "case.erased" event, both with detail (borrowed, codes only).
 * PA_CONFLICT when the case is erased already; *version is its new version.
 */
enum pa_err cases_shred(struct db *db, const struct actor *who,
    const char *id, const char *org_id, const char *action, json_t *detail,
    int64_t *version);
/* The case row of a case the caller's organisation may see (or 404). */
enum pa_err cases_fetch(struct db *db, const struct actor *who,
    const char *id, int lock, struct db_res **row);
enum pa_err cases_open_key(struct db_res *row, struct sec_case_key **key);
/* The case as the caller may see it (audits identity read). */
enum pa_err cases_render(struct db *db, const struct actor *who,
    struct db_res *row, json_t **out);
int cases_stage_index(const struct sop *s, const char *stage);

/* retention.c: passerelle retention run. */
void cases_retention_init(void);

/* synthetic.c: passerelle seed --synthetic N. */
void cases_synthetic_init(void);
void cases_today(char out[11]);

/* Consent scopes in force on a case (from its row; arr owns the texts). */
struct consents {
	json_t *arr;
	const char *scopes[16];
	size_t n;
};
void cases_consents(struct db_res *row, struct consents *cs);
/*
 * The row's sealed fields (COL_FIELDS, "path:hex,path:hex..."; paths are
 * SOP identifiers) as a JSON object of path -> hex, or NULL when
 * malformed. Not JSON on the wire: jansson's lexer took ~140 instructions
 * a byte, a fifth of a case read, for what is a list of hex strings.
 */
json_t *cases_sealed_parse(const char *s);

/*
 * The case row of cases_fetch (columns COL_*), in two halves so that the
 * read can add its workflow's rows as more columns (workflow.c).
 */
/*
 * The case row: $1 is the case, ORG the caller's organisation (a
 * placeholder, or a column of the statement's session lookup). The
 * sealed fields and the scopes of the consents in force come from the
 * tables (CASE_COLS_OF, for the writes, which must see their own changes)
 * or from the case's document (the read, workflow.c; migration 0008):
 * CASE_COLS_SRC takes them, and the data key, as SQL.
 */
#define CASE_COLS_SRC(ORG, WRAPPED, FIELDS, SCOPES) \
	"SELECT c.id, c.reference, c.stage, c.version, " \
	"c.lead_organisation_id, o.name, o.kind, " \
	"to_char(c.opened_at AT TIME ZONE 'UTC', " \
	"'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), c.sex, c.age_band, c.clear::text, " \
	"c.erased_at IS NOT NULL, " WRAPPED ", " FIELDS ", " \
	"(SELECT user_id FROM case_assignments WHERE case_id = c.id AND " \
	"organisation_id = " ORG "), c.is_child, c.identifying_kind, " \
	SCOPES ", c.justice_status "
#define CASE_COLS_OF(ORG) CASE_COLS_SRC(ORG, "k.wrapped", \
	"(SELECT coalesce(string_agg(field || ':' || encode(value, 'hex'), " \
	"','), '') FROM case_fields WHERE case_id = c.id)", \
	"(SELECT coalesce(array_to_json(array_agg(DISTINCT scope)), '[]')" \
	"::text FROM consents WHERE case_id = c.id AND withdrawn_at IS NULL)")
/* JOIN: the key's table, and the document's for the read. */
#define CASE_FROM_SRC(ORG, JOIN) \
	"FROM cases c JOIN organisations o ON o.id = c.lead_organisation_id " \
	JOIN " WHERE c.id = $1 AND " \
	"EXISTS (SELECT 1 FROM case_access a WHERE a.case_id = c.id AND " \
	"a.organisation_id = " ORG " AND a.ended_at IS NULL)"
#define CASE_FROM_OF(ORG) \
	CASE_FROM_SRC(ORG, "LEFT JOIN case_keys k ON k.case_id = c.id")
#define CASE_COLS CASE_COLS_OF("$2")
#define CASE_FROM CASE_FROM_OF("$2")
#define CASE_SELECT CASE_COLS CASE_FROM

/* Columns of cases_fetch's row. */
enum {
	COL_ID, COL_REF, COL_STAGE, COL_VERSION, COL_LEAD, COL_LEAD_NAME,
	COL_LEAD_KIND, COL_OPENED, COL_SEX, COL_AGE_BAND, COL_CLEAR,
	COL_ERASED, COL_WRAPPED, COL_FIELDS, COL_ASSIGNED, COL_CHILD,
	COL_IDKIND, COL_CONSENTS, COL_JUSTICE,
	/*
	 * case_read only, from the case's document: the workflow's rows as
	 * JSON (db_res_from_json), the transaction's now() in microseconds
	 * since the epoch (a referral's overdue column holds its deadline in
	 * the document), and whether the case has a document
	 */
	COL_WF_REFS, COL_WF_CONSENTS, COL_WF_SERVICES, COL_WF_EVENTS,
	COL_WF_NOW, COL_WF_DOC,
	/* case_read_signed only: the caller (AUTH_SESSION_COLS), then
	 * whether its idle clock must move */
	COL_SESSION,
	COL_SESSION_STALE = COL_SESSION + AUTH_SESSION_NCOLS,
};

/* workflow.c: the parts of the case that come from the workflow. */
/* Appends a timeline event (text sealed under key when given). */
enum pa_err event_add(struct db *db, const struct actor *who,
    const char *case_id, const char *kind, const char *category,
    const char *visibility, json_t *detail, const struct sec_case_key *key,
    const char *text);
void workflow_init(void);
/*
 * The workflow's four sets of rows of a case, read with the case itself
 * (case_read): workflow_pre_from_row takes them from its row;
 * workflow_emit renders from them and frees them.
 */
struct wf_pre {
	struct db_res *refs, *consents, *services, *events;
	json_t *clear, *sealed;	/* the case row's, parsed once (or NULL) */
};
/* The workflow's rows from a case_read row (COL_WF_*). */
enum pa_err workflow_pre_from_row(struct wf_pre *p, struct db_res *row);
void workflow_pre_free(struct wf_pre *p);
struct emit;
/*
 * Emits referrals, unmet needs, justice, consents, services, timeline,
 * notes and the allowed and blocked transitions as members of the open
 * object of em. pre: the rows read with the case (taken and freed), or
 * NULL to read them here.
 */
enum pa_err workflow_emit(struct db *db, const struct actor *who,
    struct db_res *row, const struct sec_case_key *key, struct emit *em,
    struct wf_pre *pre);

/*
 * emit.c: how a rendered case is written, as a Jansson tree or as JSON text
 * (the same bytes as jv_dumps of that tree). key is the member's name inside
 * an object, NULL inside an array (or for the outermost value).
 */
#define EM_DEPTH 8
enum em_kind { EM_TREE, EM_TEXT };
struct emit {
	enum em_kind kind;
	int depth, failed;
	unsigned char object[EM_DEPTH];	/* each open level: object or array */
	unsigned int count[EM_DEPTH];	/* its members so far (text) */
	json_t *stack[EM_DEPTH], *root;	/* tree */
	struct jv_buf buf;		/* text, wiped */
};
void em_init(struct emit *e, enum em_kind kind);
void em_free(struct emit *e);
int em_failed(const struct emit *e);
void em_obj(struct emit *e, const char *key);
void em_arr(struct emit *e, const char *key);
void em_end(struct emit *e);
/* s must not be NULL (json_pack's "s"); em_str_opt omits the member. */
void em_str(struct emit *e, const char *key, const char *s);
void em_str_opt(struct emit *e, const char *key, const char *s);
/* n bytes of text: -1, and nothing emitted, unless json_stringn takes it. */
int em_strn(struct emit *e, const char *key, const char *s, size_t n);
void em_int(struct emit *e, const char *key, long long v);
void em_bool(struct emit *e, const char *key, int v);
/* A value as it is (borrowed; NULL is a failure). */
void em_json(struct emit *e, const char *key, json_t *v);
/* JSON text of any value (a decrypted field): -1 when it is no JSON. */
int em_json_text(struct emit *e, const char *key, const char *s, size_t n);
/* The result, or NULL after a failure; both free the emitter. */
json_t *em_take_tree(struct emit *e);
char *em_take_text(struct emit *e, size_t *len);

#endif
