/*
 * sop: parsing and validating a SOP document (format 1, see sop/README.md)
 * into a struct sop.
 *
 * One pass over the JSON both builds the struct and checks it; every
 * problem is written as "JSON path: message" and counted, and parsing goes
 * on, so that one run names every mistake. Members are read in dependency
 * order, whatever their order in the file: categories first (every other
 * part refers to their codes), then the stages named at the top, urgencies,
 * fields, referral rules (requirements refer to services they offer),
 * transitions, and last the checks on the whole graph of stages.
 *
 * Any input is safe: Jansson bounds nesting, every value's type is checked
 * before use, arrays are capped (so duplicate checks stay cheap), and all
 * memory comes from the SOP's arena, released at once on failure.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "internal.h"
#include "sop.h"

#define PATH_LEN 512
#define QUOTE_LEN 64		/* bytes of a value shown in a message */
#define QUOTE_BUF (QUOTE_LEN * 6 + 8)

#define MAX_CATEGORIES 64
#define MAX_CODES 1000
#define MAX_FIELDS 64
#define MAX_TRANSITIONS 500
#define MAX_RULES 500
#define MAX_URGENCIES 32
#define MAX_LIST 100		/* kinds, roles, services, grants, requires */
#define MAX_LABEL 1000		/* characters of a label */
#define MAX_NOTE 20000		/* characters of a note */
#define MAX_CODE 64		/* bytes of a code */
#define MAX_HTCDS 80		/* bytes of an HTCDS name */

#define PRINTF(a, b) __attribute__((format(printf, a, b)))

enum jtype { J_STR, J_INT, J_BOOL, J_ARR, J_OBJ };

static const char *const jtype_text[] = {
	[J_STR] = "a string",
	[J_INT] = "an integer",
	[J_BOOL] = "true or false",
	[J_ARR] = "an array",
	[J_OBJ] = "an object",
};

struct ctx {
	FILE *out;
	unsigned int nproblems;
	int oom;
	char path[PATH_LEN];
	size_t plen;
	char quote[4][QUOTE_BUF];
	unsigned int qi;
	struct sop_arena *a;
	struct sop *s;
	struct sop_cat_extra *extra;
	/* The categories every part refers to; NULL when missing. */
	const struct sop_category *stage, *kind, *role, *service, *consent,
	    *urgency;
};

/* ---- Fixed vocabulary: API.md's codes and the API's case members. ---- */

static const char *const required_categories[] = { "stage", "kind", "role",
	"service", "consent_scope", "urgency", "justice_status", "sex",
	"age_band", "region", "exploitation_type", "indicator", "urgent_need",
	"language", NULL };

static const char *const fixed_kind[] = { "police", "ngo", "shelter",
	"one_stop_center", "child_protection", "labour_inspection",
	"judiciary", "committee", "administration", NULL };
static const char *const fixed_role[] = { "caseworker", "supervisor",
	"analyst", "auditor", "admin", NULL };
static const char *const fixed_stage[] = { "identification", "referral",
	"recovery", "assistance", "return_reintegration", "follow_up",
	"closed", NULL };
static const char *const fixed_exploitation[] = { "sexual_exploitation",
	"forced_labour", "forced_begging", "domestic_servitude",
	"forced_marriage", "forced_criminality", "armed_recruitment",
	"organ_removal", "other", NULL };
static const char *const fixed_service[] = { "shelter", "medical",
	"psychosocial", "legal_aid", "family_tracing", "return",
	"reintegration", "child_protection", "interpretation", NULL };
static const char *const fixed_consent[] = { "assistance",
	"share_with_police", "data_processing", "return", NULL };
static const char *const fixed_justice[] = { "none", "complaint",
	"investigation", "prosecution", "conviction", "acquittal", "dropped",
	NULL };
static const char *const fixed_age_band[] = { "0-11", "12-17", "18-24",
	"25-34", "35-49", "50+", "unknown", NULL };
static const char *const fixed_sex[] = { "female", "male", "other",
	"unknown", NULL };
static const char *const fixed_region_ml[] = { "bamako", "kayes",
	"koulikoro", "sikasso", "segou", "mopti", "tombouctou", "gao",
	"kidal", "menaka", "taoudenit", "nioro", "kita", "dioila", "nara",
	"bougouni", "koutiala", "san", "douentza", "bandiagara", NULL };

static const struct {
	const char *category;
	const char *country;	/* only for this country; NULL: every SOP */
	const char *const *codes;
} fixed_codes[] = {
	{ "kind", NULL, fixed_kind },
	{ "role", NULL, fixed_role },
	{ "stage", NULL, fixed_stage },
	{ "exploitation_type", NULL, fixed_exploitation },
	{ "service", NULL, fixed_service },
	{ "consent_scope", NULL, fixed_consent },
	{ "justice_status", NULL, fixed_justice },
	{ "age_band", NULL, fixed_age_band },
	{ "sex", NULL, fixed_sex },
	{ "region", "ML", fixed_region_ml },
};

/* Kinds and roles that never reach a victim's data (DESIGN.md). */
static const char *const no_victim_kinds[] = { "committee", "administration",
	NULL };
static const char *const no_victim_roles[] = { "analyst", "auditor", "admin",
	NULL };

/*
 * The API's case members: the catalogue must describe each exactly once,
 * with this type (and category), because storage and statistics are code.
 * encrypted: 1 sealed, 0 clear; identity: 1 must be marked identity.
 */
static const struct api_field {
	const char *section;
	const char *name;
	enum sop_field_type type;
	const char *category;
	int encrypted;
	int identity;
} api_fields[] = {
	{ "victim", "given_name", SOP_TEXT, NULL, 1, 1 },
	{ "victim", "family_name", SOP_TEXT, NULL, 1, 1 },
	{ "victim", "other_names", SOP_TEXT, NULL, 1, 1 },
	{ "victim", "date_of_birth", SOP_DATE, NULL, 1, 1 },
	{ "victim", "age_estimate", SOP_INTEGER, NULL, 0, 0 },
	{ "victim", "sex", SOP_CODE, "sex", 0, 0 },
	{ "victim", "nationality", SOP_COUNTRY, NULL, 0, 0 },
	{ "victim", "languages", SOP_LANGUAGES, "language", 0, 0 },
	{ "victim", "phone", SOP_TEXT, NULL, 1, 1 },
	{ "victim", "address", SOP_TEXT, NULL, 1, 1 },
	{ "victim", "id_document", SOP_TEXT, NULL, 1, 1 },
	{ "victim", "photo", SOP_PHOTO, NULL, 1, 1 },
	{ "identification", "date", SOP_DATE, NULL, 0, 0 },
	{ "identification", "region", SOP_CODE, "region", 0, 0 },
	{ "identification", "place", SOP_TEXT, NULL, 1, 0 },
	{ "identification", "indicators", SOP_CODES, "indicator", 0, 0 },
	{ "identification", "exploitation_types", SOP_CODES,
	    "exploitation_type", 0, 0 },
	{ "identification", "narrative", SOP_TEXT, NULL, 1, 0 },
	{ "identification", "urgent_needs", SOP_CODES, "urgent_need", 0, 0 },
};
#define NAPI_FIELDS (sizeof(api_fields) / sizeof(api_fields[0]))

static const struct {
	const char *name;
	enum sop_field_type type;
} field_types[] = {
	{ "text", SOP_TEXT },
	{ "date", SOP_DATE },
	{ "code", SOP_CODE },
	{ "codes", SOP_CODES },
	{ "integer", SOP_INTEGER },
	{ "country", SOP_COUNTRY },
	{ "countries", SOP_COUNTRIES },
	{ "languages", SOP_LANGUAGES },
	{ "photo", SOP_PHOTO },
};
#define NFIELD_TYPES (sizeof(field_types) / sizeof(field_types[0]))

static const char *const top_members[] = { "format", "country",
	"reference_prefix", "name", "retention_days_after_close", "child_age",
	"initial_stage", "closed_stage", "categories", "urgencies", "fields",
	"transitions", "referral_rules", "note", NULL };
static const char *const category_members[] = { "label", "htcds", "codes",
	NULL };
static const char *const code_members[] = { "code", "label", "htcds", NULL };
static const char *const label_members[] = { "fr", "en", NULL };
static const char *const urgency_members[] = { "code",
	"respond_within_hours", NULL };
static const char *const field_members[] = { "section", "name", "type",
	"category", "min", "max", "encrypted", "identity", "required_at",
	"htcds", "label", "visible", "note", NULL };
static const char *const grant_members[] = { "kinds", "roles", "consent",
	NULL };
static const char *const transition_members[] = { "id", "from", "to",
	"label", "kinds", "roles", "lead_only", "reopen", "requires", "note",
	NULL };
static const char *const requirement_members[] = { "consent", "field",
	"accepted_referral", "child_referral", "reason", NULL };
static const char *const rule_members[] = { "from", "to", "services",
	"consent", "note", NULL };

/* ---- Paths, quoting and problems. ---- */

static int
in_strs(const char *const *list, const char *s)
{
	for (; *list != NULL; list++)
		if (strcmp(*list, s) == 0)
			return 1;
	return 0;
}

static void
path_append(struct ctx *c, const char *text)
{
	size_t n = strlen(text);

	/* A path too long for the buffer is cut; it still starts right. */
	if (c->plen + n >= sizeof(c->path))
		n = sizeof(c->path) - 1 - c->plen;
	memcpy(c->path + c->plen, text, n);
	c->plen += n;
	c->path[c->plen] = '\0';
}

/*
 * Quotes s as a JSON string, at most QUOTE_LEN bytes of it (cut on a
 * character boundary, then "..."), in one of four rotating buffers so that
 * one message may quote several values.
 */
static const char *
q(struct ctx *c, const char *s)
{
	char *buf = c->quote[c->qi++ % 4], *p = buf;
	const unsigned char *u = (const unsigned char *)s;
	size_t i, n = strlen(s), cut = n;

	if (cut > QUOTE_LEN) {
		cut = QUOTE_LEN;
		while (cut > 0 && (u[cut] & 0xc0) == 0x80)
			cut--;
	}
	*p++ = '"';
	for (i = 0; i < cut; i++) {
		if (u[i] == '"' || u[i] == '\\') {
			*p++ = '\\';
			*p++ = (char)u[i];
		} else if (u[i] < 0x20 || u[i] == 0x7f) {
			p += snprintf(p, 7, "\\u%04x", u[i]);
		} else
			*p++ = (char)u[i];
	}
	if (cut < n) {
		memcpy(p, "...", 3);
		p += 3;
	}
	*p++ = '"';
	*p = '\0';
	return buf;
}

static int
plain_key(const char *k)
{
	if (*k == '\0' || strlen(k) > QUOTE_LEN)
		return 0;
	for (; *k != '\0'; k++)
		if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') ||
		    (*k >= '0' && *k <= '9') || *k == '_'))
			return 0;
	return 1;
}

/* Appends .key (or ["key"]) to the path; returns the length to pop to. */
static size_t
push_key(struct ctx *c, const char *key)
{
	size_t old = c->plen;

	if (plain_key(key)) {
		path_append(c, ".");
		path_append(c, key);
	} else {
		path_append(c, "[");
		path_append(c, q(c, key));
		path_append(c, "]");
	}
	return old;
}

static size_t
push_index(struct ctx *c, size_t i)
{
	size_t old = c->plen;
	char buf[32];

	snprintf(buf, sizeof(buf), "[%zu]", i);
	path_append(c, buf);
	return old;
}

static void
pop(struct ctx *c, size_t len)
{
	c->plen = len;
	c->path[len] = '\0';
}

static void PRINTF(2, 0)
vproblem(struct ctx *c, const char *fmt, va_list ap)
{
	c->nproblems++;
	if (c->out == NULL)
		return;
	fprintf(c->out, "%s: ", c->path);
	vfprintf(c->out, fmt, ap);
	fputc('\n', c->out);
}

static void PRINTF(2, 3)
problem(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vproblem(c, fmt, ap);
	va_end(ap);
}

/* A problem at member key of the current path. */
static void PRINTF(3, 4)
problem_at(struct ctx *c, const char *key, const char *fmt, ...)
{
	size_t old = push_key(c, key);
	va_list ap;

	va_start(ap, fmt);
	vproblem(c, fmt, ap);
	va_end(ap);
	pop(c, old);
}

static void PRINTF(3, 4)
problem_index(struct ctx *c, size_t i, const char *fmt, ...)
{
	size_t old = push_index(c, i);
	va_list ap;

	va_start(ap, fmt);
	vproblem(c, fmt, ap);
	va_end(ap);
	pop(c, old);
}

/* ---- Memory. ---- */

static void *
alloc(struct ctx *c, size_t n, size_t size)
{
	void *p;

	if (n != 0 && size > SIZE_MAX / n) {
		c->oom = 1;
		return NULL;
	}
	if ((p = sop_arena_alloc(c->a, n * size)) == NULL)
		c->oom = 1;
	return p;
}

static const char *
dup(struct ctx *c, const char *s)
{
	char *p = sop_arena_strdup(c->a, s);

	if (p == NULL)
		c->oom = 1;
	return p;
}

/* ---- Typed access to members. ---- */

static int
type_ok(json_t *v, enum jtype t)
{
	switch (t) {
	case J_STR:
		return json_is_string(v);
	case J_INT:
		return json_is_integer(v);
	case J_BOOL:
		return json_is_boolean(v);
	case J_ARR:
		return json_is_array(v);
	case J_OBJ:
		return json_is_object(v);
	}
	return 0;
}

/* Refuses members not listed in allowed: a typo must not pass silently. */
static void
members_check(struct ctx *c, json_t *obj, const char *const *allowed)
{
	char list[512];
	const char *key;
	size_t n = 0, i;
	json_t *v;

	list[0] = '\0';
	for (i = 0; allowed[i] != NULL && n < sizeof(list); i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s",
		    i ? ", " : "", allowed[i]);
	json_object_foreach(obj, key, v) {
		if (!in_strs(allowed, key))
			problem_at(c, key, "unknown member (expected %s)",
			    list);
	}
}

/*
 * Member key of obj with type t. Missing (or null, for an optional member)
 * gives NULL, a problem when required; a wrong type gives NULL and a problem.
 */
static json_t *
get(struct ctx *c, json_t *obj, const char *key, enum jtype t, int required)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL || (json_is_null(v) && !required)) {
		if (required)
			problem_at(c, key, "missing");
		return NULL;
	}
	if (!type_ok(v, t)) {
		problem_at(c, key, "must be %s", jtype_text[t]);
		return NULL;
	}
	return v;
}

static int
has(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return v != NULL && !json_is_null(v);
}

/* Number of UTF-8 characters of valid UTF-8 text. */
static size_t
utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

static int
blank(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return 0;
	return 1;
}

/* Text for people: not blank, no control characters, at most max chars. */
static const char *
text_check(struct ctx *c, json_t *v, size_t max, int allow_newlines)
{
	const char *s = json_string_value(v);
	const char *t;

	if (blank(s)) {
		problem(c, "must not be empty");
		return NULL;
	}
	if (utf8_chars(s) > max) {
		problem(c, "longer than %zu characters", max);
		return NULL;
	}
	for (t = s; *t != '\0'; t++)
		if (((unsigned char)*t < 0x20 && !(allow_newlines &&
		    (*t == '\n' || *t == '\t'))) || *t == 0x7f) {
			problem(c, "must not contain control characters");
			return NULL;
		}
	return s;
}

static int
code_syntax(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > MAX_CODE)
		return 0;
	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return 0;
	for (i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		    s[i] == '+' || s[i] == '-'))
			return 0;
	return 1;
}

static int
ident_syntax(const char *s, size_t max, int upper)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > max)
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] >= 'a' && s[i] <= 'z')
			continue;
		if (upper && s[i] >= 'A' && s[i] <= 'Z')
			continue;
		if (i > 0 && ((s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			continue;
		return 0;
	}
	return 1;
}

static int
get_long(struct ctx *c, json_t *obj, const char *key, int required,
    long min, long max, long *out)
{
	json_t *v = get(c, obj, key, J_INT, required);
	json_int_t n;

	if (v == NULL)
		return 0;
	n = json_integer_value(v);
	if (n < min || n > max) {
		if (min == 1 && n <= 0)
			problem_at(c, key, "must be a positive number");
		else
			problem_at(c, key, "must be between %ld and %ld", min,
			    max);
		return 0;
	}
	*out = (long)n;
	return 1;
}

static int
get_bool(struct ctx *c, json_t *obj, const char *key, int required)
{
	json_t *v = get(c, obj, key, J_BOOL, required);

	return v != NULL && json_is_true(v);
}

/* Both languages of a label; each missing one is its own problem. */
static const char *
label_lang(struct ctx *c, json_t *obj, const char *key, const char *lang)
{
	json_t *v = json_object_get(obj, key);
	const char *s;
	size_t old;

	if (v == NULL || json_is_null(v)) {
		problem_at(c, key, "missing %s label", lang);
		return NULL;
	}
	if (!json_is_string(v)) {
		problem_at(c, key, "must be a string (the %s label)", lang);
		return NULL;
	}
	old = push_key(c, key);
	s = text_check(c, v, MAX_LABEL, 0);
	pop(c, old);
	return s != NULL ? dup(c, s) : NULL;
}

static struct sop_label
get_label(struct ctx *c, json_t *obj, const char *key)
{
	struct sop_label l = { NULL, NULL };
	json_t *v = json_object_get(obj, key);
	size_t old;

	if (v == NULL || json_is_null(v)) {
		problem_at(c, key, "missing label (needs fr and en)");
		return l;
	}
	if (!json_is_object(v)) {
		problem_at(c, key, "must be an object {\"fr\", \"en\"}");
		return l;
	}
	old = push_key(c, key);
	members_check(c, v, label_members);
	l.fr = label_lang(c, v, "fr", "French");
	l.en = label_lang(c, v, "en", "English");
	pop(c, old);
	return l;
}

static const char *
get_htcds(struct ctx *c, json_t *obj, const char *key)
{
	json_t *v = get(c, obj, key, J_STR, 0);

	if (v == NULL)
		return NULL;
	if (!ident_syntax(json_string_value(v), MAX_HTCDS, 1)) {
		problem_at(c, key, "an HTCDS name is 1 to %d ASCII letters, "
		    "digits or _, starting with a letter", MAX_HTCDS);
		return NULL;
	}
	return dup(c, json_string_value(v));
}

/* ---- Codes and references to them. ---- */

static const struct sop_category *
find_category(struct ctx *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->s->ncategories; i++)
		if (c->s->categories[i].name != NULL &&
		    strcmp(c->s->categories[i].name, name) == 0)
			return &c->s->categories[i];
	return NULL;
}

static const struct sop_code *
find_code(const struct sop_category *cat, const char *code)
{
	size_t i;

	if (cat == NULL)
		return NULL;
	for (i = 0; i < cat->n; i++)
		if (cat->codes[i].code != NULL &&
		    strcmp(cat->codes[i].code, code) == 0)
			return &cat->codes[i];
	return NULL;
}

/* "consent_scope" -> "consent scope", for messages. */
static const char *
noun(struct ctx *c, const char *category)
{
	char *buf = c->quote[c->qi++ % 4];
	size_t i;

	for (i = 0; category[i] != '\0' && i < QUOTE_LEN; i++)
		buf[i] = category[i] == '_' ? ' ' : category[i];
	buf[i] = '\0';
	return buf;
}

/*
 * A string value v (at the current path) that must be a code of cat.
 * Returns the category's own copy of the code, or NULL (a problem, unless
 * the category itself is missing, which was reported once already).
 */
static const char *
ref_value(struct ctx *c, const struct sop_category *cat, const char *catname,
    json_t *v)
{
	const struct sop_code *code;

	if (!json_is_string(v)) {
		problem(c, "must be a string (a %s code)", noun(c, catname));
		return NULL;
	}
	if (cat == NULL)
		return NULL;
	if ((code = find_code(cat, json_string_value(v))) == NULL) {
		problem(c, "unknown %s %s", noun(c, catname),
		    q(c, json_string_value(v)));
		return NULL;
	}
	return code->code;
}

static const char *
get_ref(struct ctx *c, json_t *obj, const char *key,
    const struct sop_category *cat, const char *catname, int required)
{
	json_t *v = json_object_get(obj, key);
	const char *r;
	size_t old;

	if (v == NULL || (json_is_null(v) && !required)) {
		if (required)
			problem_at(c, key, "missing");
		return NULL;
	}
	old = push_key(c, key);
	r = ref_value(c, cat, catname, v);
	pop(c, old);
	return r;
}

/*
 * An array of codes of cat at member key: not empty, no code twice. Absent
 * (when optional) gives NULL and *n = 0. Items in error are NULL.
 */
static const char **
get_refs(struct ctx *c, json_t *obj, const char *key,
    const struct sop_category *cat, const char *catname, int required,
    size_t *n)
{
	json_t *arr = get(c, obj, key, J_ARR, required), *v;
	const char **out;
	size_t old, o2, i, j, len;

	*n = 0;
	if (arr == NULL)
		return NULL;
	old = push_key(c, key);
	len = json_array_size(arr);
	if (len == 0)
		problem(c, "must not be empty (leave it out to mean any)");
	if (len > MAX_LIST) {
		problem(c, "more than %d items", MAX_LIST);
		len = MAX_LIST;
	}
	if ((out = alloc(c, len, sizeof(*out))) == NULL) {
		pop(c, old);
		return NULL;
	}
	for (i = 0; i < len; i++) {
		v = json_array_get(arr, i);
		o2 = push_index(c, i);
		out[i] = ref_value(c, cat, catname, v);
		for (j = 0; out[i] != NULL && j < i; j++)
			if (out[j] != NULL && strcmp(out[j], out[i]) == 0) {
				problem(c, "%s listed twice", q(c, out[i]));
				break;
			}
		pop(c, o2);
	}
	pop(c, old);
	*n = len;
	return out;
}

/* Problems for each listed code that is in forbidden. */
static void
refs_forbid(struct ctx *c, const char *key, const char *const *list, size_t n,
    const char *const *forbidden, const char *what, const char *why)
{
	size_t old, i;

	for (i = 0; i < n; i++)
		if (list[i] != NULL && in_strs(forbidden, list[i])) {
			old = push_key(c, key);
			problem_index(c, i, "%s %s %s", what, q(c, list[i]),
			    why);
			pop(c, old);
		}
}

/* Problems for each listed role that is not "supervisor". */
static void
refs_supervisor_only(struct ctx *c, const char *const *roles, size_t n,
    const char *why)
{
	size_t old, i;

	for (i = 0; i < n; i++)
		if (roles[i] != NULL && strcmp(roles[i], "supervisor") != 0) {
			old = push_key(c, "roles");
			problem_index(c, i, "only supervisors may %s, not %s",
			    why, q(c, roles[i]));
			pop(c, old);
		}
}

/* ---- Categories. ---- */

static void
parse_codes(struct ctx *c, json_t *arr, struct sop_category *cat,
    struct sop_cat_extra *x)
{
	struct sop_code *codes;
	const char **ht;
	size_t n = json_array_size(arr), i, j, old;
	json_t *v, *cv;

	if (n == 0)
		problem(c, "must not be empty");
	if (n > MAX_CODES) {
		problem(c, "more than %d codes", MAX_CODES);
		n = MAX_CODES;
	}
	codes = alloc(c, n, sizeof(*codes));
	ht = alloc(c, n, sizeof(*ht));
	if (codes == NULL || ht == NULL)
		return;
	for (i = 0; i < n; i++) {
		old = push_index(c, i);
		v = json_array_get(arr, i);
		if (!json_is_object(v)) {
			problem(c, "must be an object {\"code\", \"label\"}");
			pop(c, old);
			continue;
		}
		members_check(c, v, code_members);
		if ((cv = get(c, v, "code", J_STR, 1)) != NULL) {
			if (!code_syntax(json_string_value(cv)))
				problem_at(c, "code", "a code is 1 to %d "
				    "lower-case ASCII letters, digits, _, + "
				    "or -, starting with a letter or digit",
				    MAX_CODE);
			else {
				for (j = 0; j < i; j++)
					if (codes[j].code != NULL &&
					    strcmp(codes[j].code,
					    json_string_value(cv)) == 0)
						break;
				if (j < i)
					problem_at(c, "code", "duplicate code "
					    "%s (also at [%zu])",
					    q(c, json_string_value(cv)), j);
				else
					codes[i].code = dup(c,
					    json_string_value(cv));
			}
		}
		codes[i].label = get_label(c, v, "label");
		ht[i] = get_htcds(c, v, "htcds");
		pop(c, old);
	}
	cat->codes = codes;
	cat->n = n;
	x->code_htcds = ht;
}

static void
parse_category(struct ctx *c, const char *name, json_t *v,
    struct sop_category *cat, struct sop_cat_extra *x)
{
	size_t old = push_key(c, name), o2;
	json_t *codes;

	cat->name = dup(c, name);
	if (!ident_syntax(name, 40, 0))
		problem(c, "a category name is 1 to 40 lower-case ASCII "
		    "letters, digits or _, starting with a letter");
	if (!json_is_object(v)) {
		problem(c, "must be an object {\"label\", \"codes\"}");
		pop(c, old);
		return;
	}
	members_check(c, v, category_members);
	x->label = get_label(c, v, "label");
	x->htcds = get_htcds(c, v, "htcds");
	if ((codes = get(c, v, "codes", J_ARR, 1)) != NULL) {
		o2 = push_key(c, "codes");
		parse_codes(c, codes, cat, x);
		pop(c, o2);
	}
	pop(c, old);
}

static void
check_fixed_codes(struct ctx *c)
{
	const struct sop_category *cat;
	const char *const *code;
	size_t i, old;

	for (i = 0; i < sizeof(fixed_codes) / sizeof(fixed_codes[0]); i++) {
		if (fixed_codes[i].country != NULL &&
		    (c->s->country == NULL ||
		    strcmp(fixed_codes[i].country, c->s->country) != 0))
			continue;
		if ((cat = find_category(c, fixed_codes[i].category)) == NULL)
			continue;	/* reported as missing */
		old = push_key(c, "categories");
		push_key(c, fixed_codes[i].category);
		for (code = fixed_codes[i].codes; *code != NULL; code++)
			if (find_code(cat, *code) == NULL)
				problem_at(c, "codes", "missing fixed code %s "
				    "(API.md: a SOP may add codes, never drop "
				    "these)", q(c, *code));
		pop(c, old);
	}
}

static void
parse_categories(struct ctx *c, json_t *root)
{
	json_t *cats = get(c, root, "categories", J_OBJ, 1), *v;
	struct sop_category *arr;
	struct sop_cat_extra *x;
	const char *key;
	size_t n, i = 0, old;

	if (cats == NULL)
		return;
	old = push_key(c, "categories");
	n = json_object_size(cats);
	if (n > MAX_CATEGORIES) {
		problem(c, "more than %d categories", MAX_CATEGORIES);
		n = MAX_CATEGORIES;
	}
	arr = alloc(c, n, sizeof(*arr));
	x = alloc(c, n, sizeof(*x));
	if (arr == NULL || x == NULL) {
		pop(c, old);
		return;
	}
	json_object_foreach(cats, key, v) {
		if (i == n)
			break;
		parse_category(c, key, v, &arr[i], &x[i]);
		i++;
	}
	c->s->categories = arr;
	c->s->ncategories = i;
	c->extra = x;
	for (i = 0; required_categories[i] != NULL; i++)
		if (find_category(c, required_categories[i]) == NULL)
			problem_at(c, required_categories[i],
			    "missing category");
	pop(c, old);
	c->stage = find_category(c, "stage");
	c->kind = find_category(c, "kind");
	c->role = find_category(c, "role");
	c->service = find_category(c, "service");
	c->consent = find_category(c, "consent_scope");
	c->urgency = find_category(c, "urgency");
}

/* ---- Top-level values. ---- */

static void
note_check(struct ctx *c, json_t *obj)
{
	json_t *v = get(c, obj, "note", J_STR, 0);
	size_t old;

	if (v == NULL)
		return;
	old = push_key(c, "note");
	text_check(c, v, MAX_NOTE, 1);
	pop(c, old);
}

static void
parse_head(struct ctx *c, json_t *root)
{
	struct sop *s = c->s;
	json_t *v;
	long n;

	if (get_long(c, root, "format", 1, 0, 1000000, &n) && n != 1)
		problem_at(c, "format", "unsupported format %ld (this server "
		    "reads format 1)", n);
	if ((v = get(c, root, "country", J_STR, 1)) != NULL) {
		const char *t = json_string_value(v);

		if (strlen(t) != 2 || t[0] < 'A' || t[0] > 'Z' ||
		    t[1] < 'A' || t[1] > 'Z')
			problem_at(c, "country", "must be an ISO 3166-1 "
			    "alpha-2 code in capitals, such as \"ML\"");
		else
			s->country = dup(c, t);
	}
	if ((v = get(c, root, "reference_prefix", J_STR, 1)) != NULL) {
		const char *t = json_string_value(v);
		size_t i, len = strlen(t);

		for (i = 0; i < len; i++)
			if (!((t[i] >= 'A' && t[i] <= 'Z') ||
			    (t[i] >= '0' && t[i] <= '9')))
				break;
		if (len == 0 || len > 10 || i < len)
			problem_at(c, "reference_prefix", "must be 1 to 10 "
			    "capital letters or digits");
		else
			s->reference_prefix = dup(c, t);
	}
	s->name = get_label(c, root, "name");
	if (get_long(c, root, "retention_days_after_close", 1, 0, 36500, &n))
		s->retention_days = n;
	if (get_long(c, root, "child_age", 1, 1, 25, &n))
		s->child_age = n;
	note_check(c, root);
}

static void
parse_stages(struct ctx *c, json_t *root)
{
	struct sop *s = c->s;

	s->initial_stage = get_ref(c, root, "initial_stage", c->stage, "stage",
	    1);
	s->closed_stage = get_ref(c, root, "closed_stage", c->stage, "stage",
	    1);
	if (s->initial_stage != NULL && s->closed_stage != NULL &&
	    strcmp(s->initial_stage, s->closed_stage) == 0)
		problem_at(c, "closed_stage", "must differ from "
		    "initial_stage");
}

/* ---- Urgencies. ---- */

static void
parse_urgencies(struct ctx *c, json_t *root)
{
	json_t *arr = get(c, root, "urgencies", J_ARR, 1), *v;
	struct sop_urgency *u;
	const struct sop_code *code;
	size_t n, i, j, old, o2;
	long hours;

	if (arr == NULL)
		return;
	old = push_key(c, "urgencies");
	n = json_array_size(arr);
	if (n == 0)
		problem(c, "must not be empty");
	if (n > MAX_URGENCIES) {
		problem(c, "more than %d urgencies", MAX_URGENCIES);
		n = MAX_URGENCIES;
	}
	if ((u = alloc(c, n, sizeof(*u))) == NULL) {
		pop(c, old);
		return;
	}
	for (i = 0; i < n; i++) {
		o2 = push_index(c, i);
		v = json_array_get(arr, i);
		if (!json_is_object(v)) {
			problem(c, "must be an object {\"code\", "
			    "\"respond_within_hours\"}");
			pop(c, o2);
			continue;
		}
		members_check(c, v, urgency_members);
		u[i].code = get_ref(c, v, "code", c->urgency, "urgency", 1);
		for (j = 0; u[i].code != NULL && j < i; j++)
			if (u[j].code != NULL &&
			    strcmp(u[j].code, u[i].code) == 0) {
				problem_at(c, "code", "duplicate urgency %s "
				    "(also at [%zu])", q(c, u[i].code), j);
				break;
			}
		if (u[i].code != NULL &&
		    (code = find_code(c->urgency, u[i].code)) != NULL)
			u[i].label = code->label;
		if (get_long(c, v, "respond_within_hours", 1, 1, 8760, &hours))
			u[i].respond_within_hours = hours;
		pop(c, o2);
	}
	c->s->urgencies = u;
	c->s->nurgencies = n;
	for (i = 0; c->urgency != NULL && i < c->urgency->n; i++) {
		const char *want = c->urgency->codes[i].code;

		if (want == NULL)
			continue;
		for (j = 0; j < n; j++)
			if (u[j].code != NULL && strcmp(u[j].code, want) == 0)
				break;
		if (j == n)
			problem(c, "no answer deadline for urgency %s",
			    q(c, want));
	}
	pop(c, old);
}

/* ---- Fields. ---- */

static const struct api_field *
api_field(const char *section, const char *name)
{
	size_t i;

	for (i = 0; i < NAPI_FIELDS; i++)
		if (strcmp(api_fields[i].section, section) == 0 &&
		    strcmp(api_fields[i].name, name) == 0)
			return &api_fields[i];
	return NULL;
}

static const char *
type_name(enum sop_field_type t)
{
	size_t i;

	for (i = 0; i < NFIELD_TYPES; i++)
		if (field_types[i].type == t)
			return field_types[i].name;
	return "?";
}

static void
parse_grants(struct ctx *c, json_t *arr, struct sop_field *f)
{
	struct sop_grant *g;
	size_t n = json_array_size(arr), i, old;
	json_t *v;

	if (n == 0)
		problem(c, "must not be empty: a field nobody may see is of "
		    "no use");
	if (n > MAX_LIST) {
		problem(c, "more than %d grants", MAX_LIST);
		n = MAX_LIST;
	}
	if ((g = alloc(c, n, sizeof(*g))) == NULL)
		return;
	for (i = 0; i < n; i++) {
		old = push_index(c, i);
		v = json_array_get(arr, i);
		if (!json_is_object(v)) {
			problem(c, "must be an object {\"kinds\", \"roles\", "
			    "\"consent\"}");
			pop(c, old);
			continue;
		}
		members_check(c, v, grant_members);
		g[i].kinds = get_refs(c, v, "kinds", c->kind, "kind", 0,
		    &g[i].nkinds);
		g[i].roles = get_refs(c, v, "roles", c->role, "role", 0,
		    &g[i].nroles);
		g[i].consent = get_ref(c, v, "consent", c->consent,
		    "consent_scope", 0);
		if (f->encrypted) {
			/* Sealed data goes to named kinds and roles only. */
			if (!has(v, "kinds"))
				problem(c, "an encrypted field needs an "
				    "explicit list of kinds");
			if (!has(v, "roles"))
				problem(c, "an encrypted field needs an "
				    "explicit list of roles");
			refs_forbid(c, "kinds", g[i].kinds, g[i].nkinds,
			    no_victim_kinds, "kind",
			    "may never see an encrypted field");
			refs_forbid(c, "roles", g[i].roles, g[i].nroles,
			    no_victim_roles, "role",
			    "may never see an encrypted field");
		}
		pop(c, old);
	}
	f->grants = g;
	f->ngrants = n;
}

/* min and max by type: which are used, required, and their bounds. */
static void
parse_bounds(struct ctx *c, json_t *v, struct sop_field *f)
{
	const struct sop_category *cat;
	long n;

	switch (f->type) {
	case SOP_TEXT:
		if (get_long(c, v, "max", 1, 1, 100000, &n))
			f->max = n;
		if (has(v, "min"))
			problem_at(c, "min", "not used by text fields");
		break;
	case SOP_PHOTO:
		if (get_long(c, v, "max", 1, 1, 10 * 1024 * 1024, &n))
			f->max = n;
		if (has(v, "min"))
			problem_at(c, "min", "not used by photo fields");
		break;
	case SOP_INTEGER:
		if (get_long(c, v, "min", 1, -1000000000, 1000000000, &n))
			f->min = n;
		if (get_long(c, v, "max", 1, -1000000000, 1000000000, &n)) {
			f->max = n;
			if (has(v, "min") && f->max < f->min)
				problem_at(c, "max", "must not be below min");
		}
		break;
	case SOP_CODES:
	case SOP_COUNTRIES:
	case SOP_LANGUAGES:
		/* At most max items; by default every code, or 20. */
		cat = f->category != NULL ? find_category(c, f->category) :
		    NULL;
		f->max = f->type == SOP_CODES && cat != NULL ? (long)cat->n :
		    20;
		if (get_long(c, v, "max", 0, 1, MAX_CODES, &n))
			f->max = n;
		if (has(v, "min"))
			problem_at(c, "min", "not used by %s fields",
			    type_name(f->type));
		break;
	case SOP_DATE:
	case SOP_CODE:
	case SOP_COUNTRY:
		if (has(v, "min"))
			problem_at(c, "min", "not used by %s fields",
			    type_name(f->type));
		if (has(v, "max"))
			problem_at(c, "max", "not used by %s fields",
			    type_name(f->type));
		break;
	}
}

static void
parse_field(struct ctx *c, json_t *v, struct sop_field *fs, size_t i)
{
	struct sop_field *f = &fs[i];
	const struct api_field *api = NULL;
	const char *section, *name, *t;
	json_t *tv, *vis;
	size_t j, k, old;
	int type_known = 0;

	if (!json_is_object(v)) {
		problem(c, "must be an object");
		return;
	}
	members_check(c, v, field_members);
	if ((tv = get(c, v, "section", J_STR, 1)) != NULL) {
		section = json_string_value(tv);
		if (strcmp(section, "victim") != 0 &&
		    strcmp(section, "identification") != 0 &&
		    strcmp(section, "notes") != 0)
			problem_at(c, "section", "unknown section %s (victim, "
			    "identification or notes)", q(c, section));
		else
			f->section = dup(c, section);
	}
	/*
	 * Section "notes": the note categories (general, psychosocial,
	 * health ...), free text always encrypted, each with its own grants,
	 * so that who reads which note is the SOP's decision.
	 */
	if ((tv = get(c, v, "name", J_STR, 1)) != NULL && f->section != NULL &&
	    strcmp(f->section, "notes") == 0) {
		name = json_string_value(tv);
		for (j = 0; j < i; j++)
			if (fs[j].name != NULL && fs[j].section != NULL &&
			    strcmp(fs[j].name, name) == 0 &&
			    strcmp(fs[j].section, "notes") == 0)
				break;
		if (strlen(name) < 2 || strlen(name) > 40 ||
		    strspn(name, "abcdefghijklmnopqrstuvwxyz_") != strlen(name))
			problem_at(c, "name", "a note category is 2 to 40 "
			    "letters a-z or _");
		else if (j < i)
			problem_at(c, "name", "duplicate note category %s "
			    "(also at [%zu])", q(c, name), j);
		else
			f->name = dup(c, name);
		if (has(v, "required_at"))
			problem_at(c, "required_at", "a note category is "
			    "never required");
		if (has(v, "encrypted") && json_is_false(json_object_get(v,
		    "encrypted")))
			problem_at(c, "encrypted", "must be true: notes are "
			    "always encrypted");
	} else if (tv != NULL && f->section != NULL) {
		name = json_string_value(tv);
		if ((api = api_field(f->section, name)) == NULL) {
			char dotted[2 * QUOTE_LEN];

			snprintf(dotted, sizeof(dotted), "%s.%s", f->section,
			    name);
			problem_at(c, "name", "unknown field %s: the API's "
			    "case has no such member", q(c, dotted));
		} else {
			for (j = 0; j < i; j++)
				if (fs[j].name != NULL && fs[j].section !=
				    NULL && strcmp(fs[j].name, name) == 0 &&
				    strcmp(fs[j].section, f->section) == 0)
					break;
			if (j < i)
				problem_at(c, "name", "duplicate field %s.%s "
				    "(also at [%zu])", f->section, name, j);
			else
				f->name = dup(c, name);
		}
	}
	if ((tv = get(c, v, "type", J_STR, 1)) != NULL) {
		t = json_string_value(tv);
		for (k = 0; k < NFIELD_TYPES; k++)
			if (strcmp(field_types[k].name, t) == 0)
				break;
		if (k == NFIELD_TYPES)
			problem_at(c, "type", "unknown type %s (text, date, "
			    "code, codes, integer, country, countries, "
			    "languages or photo)", q(c, t));
		else {
			f->type = field_types[k].type;
			type_known = 1;
			if (api != NULL && api->type != f->type)
				problem_at(c, "type", "must be \"%s\" for "
				    "%s.%s", type_name(api->type),
				    api->section, api->name);
		}
	}
	if (type_known && (f->type == SOP_CODE || f->type == SOP_CODES ||
	    f->type == SOP_LANGUAGES)) {
		if ((tv = get(c, v, "category", J_STR, 1)) != NULL) {
			t = json_string_value(tv);
			if (find_category(c, t) == NULL)
				problem_at(c, "category", "unknown category "
				    "%s", q(c, t));
			else if (api != NULL && api->category != NULL &&
			    strcmp(api->category, t) != 0)
				problem_at(c, "category", "must be \"%s\" for "
				    "%s.%s", api->category, api->section,
				    api->name);
			else
				f->category = dup(c, t);
		}
	} else if (type_known && has(v, "category"))
		problem_at(c, "category", "only code, codes and languages "
		    "fields have a category");
	if (type_known)
		parse_bounds(c, v, f);

	f->encrypted = get_bool(c, v, "encrypted", 1);
	f->identity = get_bool(c, v, "identity", 0);
	if (has(v, "encrypted") && json_is_boolean(json_object_get(v,
	    "encrypted"))) {
		if (f->identity && !f->encrypted)
			problem_at(c, "encrypted", "must be true: an identity "
			    "field is always encrypted");
		else if (api != NULL && api->encrypted && !f->encrypted)
			problem_at(c, "encrypted", "must be true: %s.%s "
			    "identifies or exposes a person", api->section,
			    api->name);
		else if (api != NULL && !api->encrypted && f->encrypted)
			problem_at(c, "encrypted", "must be false: statistics "
			    "and routing read %s.%s in clear", api->section,
			    api->name);
	}
	if (api != NULL && api->identity && !f->identity)
		problem_at(c, "identity", "must be true: %s.%s identifies a "
		    "person", api->section, api->name);

	f->required_at = get_ref(c, v, "required_at", c->stage, "stage", 0);
	f->htcds = get_htcds(c, v, "htcds");
	f->label = get_label(c, v, "label");
	if ((vis = get(c, v, "visible", J_ARR, 1)) != NULL) {
		old = push_key(c, "visible");
		parse_grants(c, vis, f);
		pop(c, old);
	}
	note_check(c, v);
}

static void
parse_fields(struct ctx *c, json_t *root)
{
	json_t *arr = get(c, root, "fields", J_ARR, 1);
	struct sop_field *fs;
	size_t n, i, j, old, o2;

	if (arr == NULL)
		return;
	old = push_key(c, "fields");
	n = json_array_size(arr);
	if (n > MAX_FIELDS) {
		problem(c, "more than %d fields", MAX_FIELDS);
		n = MAX_FIELDS;
	}
	if ((fs = alloc(c, n, sizeof(*fs))) == NULL) {
		pop(c, old);
		return;
	}
	for (i = 0; i < n; i++) {
		o2 = push_index(c, i);
		parse_field(c, json_array_get(arr, i), fs, i);
		pop(c, o2);
	}
	c->s->fields = fs;
	c->s->nfields = n;
	for (i = 0; i < NAPI_FIELDS; i++) {
		for (j = 0; j < n; j++)
			if (fs[j].name != NULL && fs[j].section != NULL &&
			    strcmp(fs[j].section, api_fields[i].section) ==
			    0 && strcmp(fs[j].name, api_fields[i].name) == 0)
				break;
		if (j == n)
			problem(c, "missing field %s.%s (a member of the API's "
			    "case)", api_fields[i].section,
			    api_fields[i].name);
	}
	for (j = 0; j < c->s->nfields; j++)
		if (fs[j].section != NULL && fs[j].name != NULL &&
		    strcmp(fs[j].section, "notes") == 0 &&
		    strcmp(fs[j].name, "general") == 0)
			break;
	if (j == c->s->nfields)
		problem(c, "missing field notes.general (the note category "
		    "every case uses)");
	pop(c, old);
}

/* ---- Referral rules. ---- */

static void
parse_rules(struct ctx *c, json_t *root)
{
	json_t *arr = get(c, root, "referral_rules", J_ARR, 1), *v;
	struct sop_referral_rule *rs;
	size_t n, i, old, o2;

	if (arr == NULL)
		return;
	old = push_key(c, "referral_rules");
	n = json_array_size(arr);
	if (n == 0)
		problem(c, "must not be empty: an NRM refers");
	if (n > MAX_RULES) {
		problem(c, "more than %d rules", MAX_RULES);
		n = MAX_RULES;
	}
	if ((rs = alloc(c, n, sizeof(*rs))) == NULL) {
		pop(c, old);
		return;
	}
	for (i = 0; i < n; i++) {
		o2 = push_index(c, i);
		v = json_array_get(arr, i);
		if (!json_is_object(v)) {
			problem(c, "must be an object {\"from\", \"to\", "
			    "\"services\", \"consent\"}");
			pop(c, o2);
			continue;
		}
		members_check(c, v, rule_members);
		rs[i].from = get_refs(c, v, "from", c->kind, "kind", 1,
		    &rs[i].nfrom);
		rs[i].to = get_refs(c, v, "to", c->kind, "kind", 1,
		    &rs[i].nto);
		rs[i].services = get_refs(c, v, "services", c->service,
		    "service", 1, &rs[i].nservices);
		rs[i].consent = get_ref(c, v, "consent", c->consent,
		    "consent_scope", 0);
		refs_forbid(c, "from", rs[i].from, rs[i].nfrom,
		    no_victim_kinds, "kind", "never refers a case");
		refs_forbid(c, "to", rs[i].to, rs[i].nto, no_victim_kinds,
		    "kind", "never receives a case");
		note_check(c, v);
		pop(c, o2);
	}
	c->s->referral_rules = rs;
	c->s->nreferral_rules = n;
	pop(c, old);
}

static int
service_offered(const struct sop *s, const char *service)
{
	size_t i, j;

	for (i = 0; i < s->nreferral_rules; i++)
		for (j = 0; j < s->referral_rules[i].nservices; j++)
			if (s->referral_rules[i].services[j] != NULL &&
			    strcmp(s->referral_rules[i].services[j],
			    service) == 0)
				return 1;
	return 0;
}

/* ---- Transitions. ---- */

static const struct sop_field *
find_field(struct ctx *c, const char *dotted)
{
	const char *dot = strchr(dotted, '.');
	size_t i, len;

	if (dot == NULL)
		return NULL;
	len = (size_t)(dot - dotted);
	for (i = 0; i < c->s->nfields; i++) {
		const struct sop_field *f = &c->s->fields[i];

		if (f->section != NULL && f->name != NULL &&
		    strlen(f->section) == len &&
		    strncmp(f->section, dotted, len) == 0 &&
		    strcmp(f->name, dot + 1) == 0)
			return f;
	}
	return NULL;
}

static void
parse_requirement(struct ctx *c, json_t *v, struct sop_requirement *r)
{
	static const char *const kinds[] = { "consent", "field",
		"accepted_referral", "child_referral" };
	const char *key = NULL;
	json_t *fv;
	int n = 0, k, which = -1;

	if (!json_is_object(v)) {
		problem(c, "must be an object such as {\"consent\": "
		    "\"assistance\", \"reason\": {\"fr\", \"en\"}}");
		return;
	}
	members_check(c, v, requirement_members);
	for (k = 0; k < 4; k++)
		if (has(v, kinds[k])) {
			n++;
			which = k;
			key = kinds[k];
		}
	if (n != 1) {
		problem(c, "needs exactly one of consent, field, "
		    "accepted_referral or child_referral");
		which = -1;
	}
	switch (which) {
	case 0:
		r->kind = SOP_REQ_CONSENT;
		r->what = get_ref(c, v, key, c->consent, "consent_scope", 1);
		break;
	case 1:
		r->kind = SOP_REQ_FIELD;
		if ((fv = get(c, v, key, J_STR, 1)) == NULL)
			break;
		if (find_field(c, json_string_value(fv)) == NULL)
			problem_at(c, key, "unknown field %s (section.name "
			    "of a field in the catalogue)",
			    q(c, json_string_value(fv)));
		else
			r->what = dup(c, json_string_value(fv));
		break;
	case 2:
	case 3:
		r->kind = which == 2 ? SOP_REQ_ACCEPTED :
		    SOP_REQ_CHILD_REFERRAL;
		r->what = get_ref(c, v, key, c->service, "service", 1);
		if (r->what != NULL && !service_offered(c->s, r->what))
			problem_at(c, key, "no referral rule offers service "
			    "%s, so this can never be met", q(c, r->what));
		break;
	default:
		break;
	}
	r->reason = get_label(c, v, "reason");
}

static void
parse_transition(struct ctx *c, json_t *v, struct sop_transition *ts,
    size_t i)
{
	struct sop_transition *t = &ts[i];
	struct sop_requirement *rq;
	const struct sop *s = c->s;
	json_t *tv, *req;
	size_t j, n, old, o2;
	int reopen;

	if (!json_is_object(v)) {
		problem(c, "must be an object");
		return;
	}
	members_check(c, v, transition_members);
	if ((tv = get(c, v, "id", J_STR, 1)) != NULL) {
		const char *id = json_string_value(tv);

		if (!ident_syntax(id, MAX_CODE, 0))
			problem_at(c, "id", "an id is 1 to %d lower-case "
			    "ASCII letters, digits or _, starting with a "
			    "letter", MAX_CODE);
		else {
			for (j = 0; j < i; j++)
				if (ts[j].id != NULL &&
				    strcmp(ts[j].id, id) == 0)
					break;
			if (j < i)
				problem_at(c, "id", "duplicate transition id "
				    "%s (also at [%zu])", q(c, id), j);
			else
				t->id = dup(c, id);
		}
	}
	t->from = get_ref(c, v, "from", c->stage, "stage", 1);
	t->to = get_ref(c, v, "to", c->stage, "stage", 1);
	if (t->from != NULL && t->to != NULL && strcmp(t->from, t->to) == 0)
		problem_at(c, "to", "must differ from \"from\": a transition "
		    "changes the stage");
	t->label = get_label(c, v, "label");
	t->kinds = get_refs(c, v, "kinds", c->kind, "kind", 1, &t->nkinds);
	t->roles = get_refs(c, v, "roles", c->role, "role", 1, &t->nroles);
	refs_forbid(c, "kinds", t->kinds, t->nkinds, no_victim_kinds, "kind",
	    "never acts on a case");
	refs_forbid(c, "roles", t->roles, t->nroles, no_victim_roles, "role",
	    "never acts on a case");
	t->lead_only = get_bool(c, v, "lead_only", 0);
	reopen = get_bool(c, v, "reopen", 0);
	if (t->from != NULL && s->closed_stage != NULL &&
	    strcmp(t->from, s->closed_stage) == 0) {
		if (!reopen)
			problem_at(c, "from", "a transition from the closed "
			    "stage %s needs \"reopen\": true (a reopening "
			    "rule)", q(c, s->closed_stage));
		else
			refs_supervisor_only(c, t->roles, t->nroles,
			    "reopen a case");
	} else if (reopen)
		problem_at(c, "reopen", "only a transition from the closed "
		    "stage reopens a case");
	if (t->to != NULL && s->closed_stage != NULL &&
	    strcmp(t->to, s->closed_stage) == 0)
		refs_supervisor_only(c, t->roles, t->nroles, "close a case");

	if ((req = get(c, v, "requires", J_ARR, 0)) != NULL) {
		old = push_key(c, "requires");
		n = json_array_size(req);
		if (n > MAX_LIST) {
			problem(c, "more than %d requirements", MAX_LIST);
			n = MAX_LIST;
		}
		if ((rq = alloc(c, n, sizeof(*rq))) != NULL) {
			for (j = 0; j < n; j++) {
				o2 = push_index(c, j);
				parse_requirement(c, json_array_get(req, j),
				    &rq[j]);
				pop(c, o2);
			}
			t->requires = rq;
			t->nrequires = n;
		}
		pop(c, old);
	}
	note_check(c, v);
}

static void
parse_transitions(struct ctx *c, json_t *root)
{
	json_t *arr = get(c, root, "transitions", J_ARR, 1);
	struct sop_transition *ts;
	size_t n, i, old, o2;

	if (arr == NULL)
		return;
	old = push_key(c, "transitions");
	n = json_array_size(arr);
	if (n == 0)
		problem(c, "must not be empty");
	if (n > MAX_TRANSITIONS) {
		problem(c, "more than %d transitions", MAX_TRANSITIONS);
		n = MAX_TRANSITIONS;
	}
	if ((ts = alloc(c, n, sizeof(*ts))) == NULL) {
		pop(c, old);
		return;
	}
	for (i = 0; i < n; i++) {
		o2 = push_index(c, i);
		parse_transition(c, json_array_get(arr, i), ts, i);
		pop(c, o2);
	}
	c->s->transitions = ts;
	c->s->ntransitions = n;
	pop(c, old);
}

/* ---- The graph of stages. ---- */

static long
stage_index(const struct sop_category *st, const char *code)
{
	size_t i;

	if (code == NULL)
		return -1;
	for (i = 0; i < st->n; i++)
		if (st->codes[i].code != NULL &&
		    strcmp(st->codes[i].code, code) == 0)
			return (long)i;
	return -1;
}

/*
 * Marks the stages reached from start (forward) or that reach start
 * (backward), following the valid transitions until nothing changes.
 */
static void
mark(const struct sop *s, const struct sop_category *st, unsigned char *m,
    long start, int forward)
{
	size_t i;
	long a, b;
	int changed = 1;

	m[start] = 1;
	while (changed) {
		changed = 0;
		for (i = 0; i < s->ntransitions; i++) {
			a = stage_index(st, s->transitions[i].from);
			b = stage_index(st, s->transitions[i].to);
			if (a < 0 || b < 0)
				continue;
			if (!forward) {
				long tmp = a;

				a = b;
				b = tmp;
			}
			if (m[a] && !m[b]) {
				m[b] = 1;
				changed = 1;
			}
		}
	}
}

static void
check_graph(struct ctx *c)
{
	const struct sop *s = c->s;
	const struct sop_category *st = c->stage;
	unsigned char *fwd, *back;
	long init, closed;
	size_t i, old;

	if (st == NULL || st->n == 0)
		return;
	init = stage_index(st, s->initial_stage);
	closed = stage_index(st, s->closed_stage);
	if (init < 0 || closed < 0)
		return;
	fwd = alloc(c, st->n, 1);
	back = alloc(c, st->n, 1);
	if (fwd == NULL || back == NULL)
		return;
	mark(s, st, fwd, init, 1);
	mark(s, st, back, closed, 0);
	old = push_key(c, "categories");
	push_key(c, "stage");
	push_key(c, "codes");
	for (i = 0; i < st->n; i++) {
		if (st->codes[i].code == NULL)
			continue;
		if (!fwd[i])
			problem_index(c, i, "stage %s cannot be reached from "
			    "the initial stage %s", q(c, st->codes[i].code),
			    q(c, s->initial_stage));
		else if (!back[i])
			problem_index(c, i, "stage %s is a dead end: no "
			    "transitions lead from it to the closed stage %s",
			    q(c, st->codes[i].code), q(c, s->closed_stage));
	}
	pop(c, old);
}

/* ---- The whole document. ---- */

static void
parse_root(struct ctx *c, json_t *root)
{
	members_check(c, root, top_members);
	parse_head(c, root);
	parse_categories(c, root);
	check_fixed_codes(c);
	parse_stages(c, root);
	parse_urgencies(c, root);
	parse_fields(c, root);
	parse_rules(c, root);
	parse_transitions(c, root);
	check_graph(c);
}

enum pa_err
sop_parse(const char *buf, size_t len, struct sop **out, FILE *problems,
    unsigned int *nproblems)
{
	struct sop_arena arena = { NULL };
	struct sop_priv *p;
	struct ctx c;
	json_error_t jerr;
	json_t *root = NULL;
	enum pa_err rc;

	*out = NULL;
	memset(&c, 0, sizeof(c));
	c.out = problems;
	snprintf(c.path, sizeof(c.path), "$");
	c.plen = 1;
	if (buf == NULL || len > SOP_MAX_BYTES) {
		problem(&c, "not a SOP: empty or larger than %u bytes",
		    SOP_MAX_BYTES);
		rc = PA_INVALID;
		goto out;
	}
	/* Duplicate keys would let a second value hide the first. */
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		problem(&c, "not JSON: %s (line %d, column %d)", jerr.text,
		    jerr.line, jerr.column);
		rc = PA_BAD_INPUT;
		goto out;
	}
	if (!json_is_object(root)) {
		problem(&c, "must be an object");
		rc = PA_INVALID;
		goto out;
	}
	if ((p = sop_arena_alloc(&arena, sizeof(*p))) == NULL) {
		rc = PA_INTERNAL;
		goto out;
	}
	c.a = &arena;
	c.s = &p->pub;
	parse_root(&c, root);
	if (c.oom) {
		rc = PA_INTERNAL;
		goto out;
	}
	if (c.nproblems > 0) {
		rc = PA_INVALID;
		goto out;
	}
	p->cat_extra = c.extra;
	if ((rc = sop_public_build(p)) != PA_OK) {
		free(p->public_json);
		goto out;
	}
	p->arena = arena;
	arena.head = NULL;	/* now owned by *out */
	*out = &p->pub;
	rc = PA_OK;
out:
	sop_arena_release(&arena);
	json_decref(root);
	if (nproblems != NULL)
		*nproblems = c.nproblems;
	return rc;
}
