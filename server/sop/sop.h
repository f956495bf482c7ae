/*
 * sop: the Standard Operating Procedures of one country's National Referral
 * Mechanism, loaded from a JSON file (sop/mali.json) and validated before the
 * server starts. The workflow is data: stages, transitions and their
 * conditions, referral rules and deadlines, the field catalogue with each
 * field's visibility, and every statistical category. Another country is
 * another file. See sop/README.md for the file's shape.
 *
 * A struct sop is immutable once loaded; the server holds one for its life
 * (sop_current), so readers need no lock.
 */
#ifndef PA_SOP_H
#define PA_SOP_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "../err.h"

struct sop_label {
	const char *fr;
	const char *en;
};

struct sop_code {
	const char *code;
	struct sop_label label;
};

/* A list of codes of one category ("sex", "region", "service" ...). */
struct sop_category {
	const char *name;
	const struct sop_code *codes;
	size_t n;
};

enum sop_field_type {
	SOP_TEXT,	/* a string up to max characters */
	SOP_DATE,	/* YYYY-MM-DD, a real date not in the future */
	SOP_CODE,	/* one code of category */
	SOP_CODES,	/* an array of codes of category, at most max */
	SOP_INTEGER,	/* between min and max */
	SOP_COUNTRY,	/* ISO 3166-1 alpha-2 */
	SOP_COUNTRIES,	/* array of ISO 3166-1 alpha-2 */
	SOP_LANGUAGES,	/* array of codes of a category (languages) */
	SOP_PHOTO,	/* base64 PNG or JPEG, at most max bytes decoded */
};

/* Who may see a field: any grant that matches lets them. */
struct sop_grant {
	const char *const *kinds;	/* organisation kinds; NULL: any */
	size_t nkinds;
	const char *const *roles;	/* NULL: any role */
	size_t nroles;
	const char *consent;		/* a consent scope in force, or NULL */
};

struct sop_field {
	const char *section;	/* "victim" or "identification" */
	const char *name;	/* "given_name" */
	enum sop_field_type type;
	const char *category;	/* for SOP_CODE(S) */
	int encrypted;		/* sealed with the case key; else clear */
	int identity;		/* identifies a person (audited when read) */
	long min, max;
	const char *required_at; /* stage from which it must be set, or NULL */
	const char *htcds;	/* HTCDS 2.0 field name, or NULL */
	struct sop_label label;
	const struct sop_grant *grants;
	size_t ngrants;
};

struct sop_requirement {
	enum {
		SOP_REQ_CONSENT,	/* a consent of scope `what` in force */
		SOP_REQ_FIELD,		/* field `what` ("section.name") set */
		SOP_REQ_ACCEPTED,	/* an accepted referral for service `what` */
		SOP_REQ_CHILD_REFERRAL,	/* a child: a referral for service `what` */
	} kind;
	const char *what;
	struct sop_label reason;	/* shown when it stops the transition */
};

struct sop_transition {
	const char *id;
	const char *from;
	const char *to;
	struct sop_label label;
	const char *const *kinds;	/* who may take it */
	size_t nkinds;
	const char *const *roles;
	size_t nroles;
	int lead_only;			/* only the lead organisation */
	const struct sop_requirement *requires;
	size_t nrequires;
};

struct sop_referral_rule {
	const char *const *from;	/* kinds that may refer */
	size_t nfrom;
	const char *const *to;		/* kinds that may receive */
	size_t nto;
	const char *const *services;
	size_t nservices;
	const char *consent;		/* consent scope required, or NULL */
};

struct sop_urgency {
	const char *code;
	struct sop_label label;
	long respond_within_hours;
};

struct sop {
	const char *country;		/* ISO 3166-1 alpha-2, "ML" */
	const char *reference_prefix;	/* "ML" in ML-2026-000123 */
	struct sop_label name;
	long retention_days;		/* after closing; 0: keep */
	const char *initial_stage;
	const char *closed_stage;
	long child_age;			/* under this age a victim is a child */
	const struct sop_category *categories;	/* includes "stage", "kind",
						 * "role", "service",
						 * "consent_scope", "urgency",
						 * "justice_status", "sex",
						 * "age_band", "region",
						 * "exploitation_type",
						 * "indicator", "urgent_need" */
	size_t ncategories;
	const struct sop_field *fields;
	size_t nfields;
	const struct sop_transition *transitions;
	size_t ntransitions;
	const struct sop_referral_rule *referral_rules;
	size_t nreferral_rules;
	const struct sop_urgency *urgencies;
	size_t nurgencies;
};

/*
 * Parses and validates a SOP document. Every problem found is written to
 * problems (when not NULL), one line each, as "JSON path: what is wrong",
 * e.g. "$.transitions[3].to: unknown stage \"recovry\"". Returns PA_OK and
 * *out, or PA_INVALID (at least one problem) / PA_BAD_INPUT (not JSON).
 */
enum pa_err sop_parse_buf(const char *buf, size_t len, struct sop **out,
    FILE *problems);
enum pa_err sop_load_file(const char *path, struct sop **out,
    FILE *problems);
void sop_free(struct sop *s);

/* The SOP the server runs with, set once at start. */
void sop_set_current(struct sop *s);
const struct sop *sop_current(void);

/* The document served at GET /api/v1/sop (labels in both languages). */
const char *sop_public_json(const struct sop *s, size_t *len);

const struct sop_category *sop_category(const struct sop *s,
    const char *name);
/* 1 when code belongs to the named category. */
int sop_code_valid(const struct sop *s, const char *category,
    const char *code);
const struct sop_field *sop_field(const struct sop *s, const char *section,
    const char *name);
/*
 * 1 when an organisation of kind, a user of role, with the case's consents in
 * force (scopes), may see field f.
 */
int sop_field_visible(const struct sop_field *f, const char *kind,
    const char *role, const char *const *consents, size_t nconsents);
const struct sop_urgency *sop_urgency(const struct sop *s, const char *code);

#endif
