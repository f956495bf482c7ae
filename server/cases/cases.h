/*
 * cases: victims' case records. Identifying fields are sealed field by field
 * under the case's own data key (crypto/), clear categories stay in columns
 * for statistics and routing, and every read of identity is audited with the
 * field names. Which fields exist, which are encrypted and who may see each
 * come from the SOP file (sop/), not from code.
 *
 * Visibility: an organisation sees a case when it has open access to it
 * (the lead, or an accepted referral). Anything else is PA_NOT_FOUND, so
 * that nobody learns that a case exists.
 */
#ifndef PA_CASES_H
#define PA_CASES_H

#include <stddef.h>

#include <jansson.h>

#include "../auth/auth.h"
#include "../err.h"

struct db;

/* Where a request went wrong: a field path and a message pair. */
struct cases_err {
	char field[96];
	const char *code;	/* an API code instead of the status's own */
	const char *fr;
	const char *en;
};

void cases_init(void);

/*
 * Checks (and on first start records) that the master key the server holds
 * is the one the database's data keys are wrapped under.
 */
enum pa_err cases_key_check(struct db *db, char *err, size_t errlen);

/* Folds case, accents, hyphens, apostrophes and spaces; sorts the words. */
void cases_name_normalise(const char *in, char *out, size_t outlen);
/* Age band code for an age in years (-1: unknown). */
const char *cases_age_band(int age);

enum pa_err cases_create(struct db *db, const struct actor *who,
    json_t *body, json_t **out, struct cases_err *err);
/*
 * The case as the caller may see it, as JSON text: the same bytes as
 * jv_dumps of the case a write answers with. *text (NUL-terminated, *len
 * bytes) holds victim data: the caller wipes it (explicit_bzero) before
 * freeing it. NULL on any error. The read's audit record has committed
 * when PA_OK comes back.
 */
enum pa_err cases_get(struct db *db, const struct actor *who, const char *id,
    char **text, size_t *len);
/*
 * The same read with the caller's session checked in the case's own
 * statement: one round trip fewer for the most frequent request. th and
 * idle come from auth_session_key, allowed from auth_allowed_pairs of the
 * route's action. PA_NO_SESSION when the session is not alive (nothing of
 * the case was read). Otherwise *who is the caller, and admit(who, arg)
 * decides before anything of the case is opened: what it returns other
 * than PA_OK ends the read unopened. The database reads nothing of the case
 * for a caller who must change their password or whose role and kind are
 * not in allowed; admit is the check, this only keeps such a refusal from
 * reading the case (and from taking longer when the case exists).
 *
 * The session's idle clock is moved (at most every 30 s, one statement
 * more) inside the read's transaction: a read that fails (404, 403) does
 * not keep the session alive, and the one read in 30 s that moves it holds
 * the session's row until its COMMIT, so that a write of the same session
 * waits that long.
 */
struct cases_signed {
	const unsigned char *th;
	const char *idle, *address, *allowed;
	enum pa_err (*admit)(struct actor *who, void *arg);
	void *arg;
};
enum pa_err cases_get_signed(struct db *db, const struct cases_signed *s,
    const char *id, struct actor *who, char **text, size_t *len);
enum pa_err cases_update(struct db *db, const struct actor *who,
    const char *id, json_t *body, json_t **out, struct cases_err *err);
enum pa_err cases_erase(struct db *db, const struct actor *who,
    const char *id, json_t **out);

struct cases_query {
	const char *stage;
	const char *reference;
	const char *name;		/* through the blind index */
	const char *date_of_birth;	/* with name */
	int assigned_me;
	int overdue;			/* only cases with an overdue referral */
	int limit;
	const char *cursor;
};
/*
 * The page as JSON text, {"items": [...], "next_cursor": ...}, written
 * directly (no jansson tree: 50 objects built, dumped and freed cost more
 * than the page's decryption). *out is malloc'd; it holds names.
 */
enum pa_err cases_list(struct db *db, const struct actor *who,
    const struct cases_query *q, char **out, size_t *outlen,
    struct cases_err *err);

/* Assigns one case (of the caller's organisation) to a user of it. */
enum pa_err cases_assign(struct db *db, const struct actor *who,
    const char *id, const char *user_id);
/* Supervisors: many cases at once. */
enum pa_err cases_reassign(struct db *db, const struct actor *who,
    json_t *case_ids, const char *user_id, json_t **out);

/*
 * The workflow (workflow.c). Each takes the request body as validated by
 * its route's spec, and answers 409 with err->code naming the rule that
 * stops it ("transition_not_allowed", "precondition_failed",
 * "consent_required", "referral_not_allowed", "duplicate_referral",
 * "referral_state").
 */
enum pa_err cases_consent_add(struct db *db, const struct actor *who,
    const char *case_id, json_t *body, json_t **out, struct cases_err *err);
enum pa_err cases_consent_withdraw(struct db *db, const struct actor *who,
    const char *case_id, const char *consent_id, json_t **out,
    struct cases_err *err);
enum pa_err cases_referral_create(struct db *db, const struct actor *who,
    const char *case_id, json_t *body, json_t **out, struct cases_err *err);
enum pa_err cases_referral_get(struct db *db, const struct actor *who,
    const char *id, json_t **out);
enum pa_err cases_referral_list(struct db *db, const struct actor *who,
    const char *direction, const char *status, int overdue, int limit,
    json_t **out);
enum referral_act { REF_ACCEPT, REF_DECLINE, REF_WITHDRAW, REF_COMPLETE };
enum pa_err cases_referral_act(struct db *db, const struct actor *who,
    const char *id, enum referral_act act, json_t *body, json_t **out,
    struct cases_err *err);
enum pa_err cases_transition(struct db *db, const struct actor *who,
    const char *case_id, json_t *body, json_t **out, struct cases_err *err);
enum pa_err cases_note_add(struct db *db, const struct actor *who,
    const char *case_id, json_t *body, json_t **out, struct cases_err *err);
enum pa_err cases_service_add(struct db *db, const struct actor *who,
    const char *case_id, json_t *body, json_t **out, struct cases_err *err);
enum pa_err cases_justice_set(struct db *db, const struct actor *who,
    const char *case_id, json_t *body, json_t **out, struct cases_err *err);
enum pa_err cases_inbox(struct db *db, const struct actor *who, json_t **out);

/* passerelle seed --synthetic N (after seed --demo); 0 or -1. */
#include <stdio.h>
int cases_seed_synthetic(struct db *db, long n, FILE *out);

/*
 * passerelle retention run: crypto-shreds (as cases_erase) every case that
 * has been in the SOP's closed stage longer than its
 * retention_days_after_close, one transaction and one audit record each;
 * with dry_run, only lists them. Writes one line per case (id and closing
 * date, nothing identifying) and a summary to out. Idempotent.
 */
struct sop;
struct cases_retention {
	long days;	/* the SOP's retention; 0: keep */
	long due;	/* cases past it when the run began */
	long erased;
	long skipped;	/* reopened or erased while the run went on */
};
enum pa_err cases_retention_run(struct db *db, const struct sop *s,
    int dry_run, FILE *out, struct cases_retention *r);

/* passerelle rotate-master-key: rewraps every data key in one transaction. */
struct sec_master;
int cases_rotate_master_key(struct db *db, const struct sec_master *from,
    const struct sec_master *to, char *err, size_t errlen);

#endif
