/*
 * sop: the document served at GET /api/v1/sop. It is built once, when the
 * SOP is loaded, from the struct (not from the file), so the browser sees
 * exactly what the server enforces, defaults made explicit. It is itself a
 * valid SOP file in the same format (without the "note" members), which the
 * tests use: parsing it again gives the same document.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "internal.h"
#include "sop.h"

/* Sets key to v (stolen, even on failure); *ok becomes 0 on any failure. */
static void
put(json_t *o, const char *key, json_t *v, int *ok)
{
	if (v == NULL || json_object_set_new(o, key, v) != 0)
		*ok = 0;
}

static void
append(json_t *a, json_t *v, int *ok)
{
	if (v == NULL || json_array_append_new(a, v) != 0)
		*ok = 0;
}

static json_t *
label(const struct sop_label *l)
{
	return json_pack("{s:s, s:s}", "fr", l->fr, "en", l->en);
}

static json_t *
strings(const char *const *v, size_t n)
{
	json_t *a = json_array();
	size_t i;
	int ok = 1;

	if (a == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		append(a, json_string(v[i]), &ok);
	if (!ok) {
		json_decref(a);
		return NULL;
	}
	return a;
}

static json_t *
categories(const struct sop_priv *p, int *ok)
{
	const struct sop *s = &p->pub;
	const struct sop_cat_extra *x;
	json_t *all = json_object(), *cat, *codes, *code;
	size_t i, j;

	if (all == NULL)
		return NULL;
	for (i = 0; i < s->ncategories; i++) {
		x = &p->cat_extra[i];
		if ((cat = json_object()) == NULL ||
		    (codes = json_array()) == NULL) {
			json_decref(cat);
			*ok = 0;
			break;
		}
		put(cat, "label", label(&x->label), ok);
		if (x->htcds != NULL)
			put(cat, "htcds", json_string(x->htcds), ok);
		for (j = 0; j < s->categories[i].n; j++) {
			const struct sop_code *c = &s->categories[i].codes[j];

			code = json_pack("{s:s, s:o}", "code", c->code,
			    "label", label(&c->label));
			if (code != NULL && x->code_htcds != NULL &&
			    x->code_htcds[j] != NULL)
				put(code, "htcds",
				    json_string(x->code_htcds[j]), ok);
			append(codes, code, ok);
		}
		put(cat, "codes", codes, ok);
		put(all, s->categories[i].name, cat, ok);
	}
	return all;
}

static const char *
field_type(enum sop_field_type t)
{
	switch (t) {
	case SOP_TEXT:
		return "text";
	case SOP_DATE:
		return "date";
	case SOP_CODE:
		return "code";
	case SOP_CODES:
		return "codes";
	case SOP_INTEGER:
		return "integer";
	case SOP_COUNTRY:
		return "country";
	case SOP_COUNTRIES:
		return "countries";
	case SOP_LANGUAGES:
		return "languages";
	case SOP_PHOTO:
		return "photo";
	}
	abort();
}

static json_t *
field(const struct sop_field *f, int *ok)
{
	json_t *o = json_object(), *vis, *g;
	size_t i;

	if (o == NULL)
		return NULL;
	put(o, "section", json_string(f->section), ok);
	put(o, "name", json_string(f->name), ok);
	put(o, "type", json_string(field_type(f->type)), ok);
	if (f->category != NULL)
		put(o, "category", json_string(f->category), ok);
	if (f->type == SOP_INTEGER)
		put(o, "min", json_integer(f->min), ok);
	if (f->type != SOP_DATE && f->type != SOP_CODE &&
	    f->type != SOP_COUNTRY)
		put(o, "max", json_integer(f->max), ok);
	put(o, "encrypted", json_boolean(f->encrypted), ok);
	put(o, "identity", json_boolean(f->identity), ok);
	if (f->required_at != NULL)
		put(o, "required_at", json_string(f->required_at), ok);
	if (f->htcds != NULL)
		put(o, "htcds", json_string(f->htcds), ok);
	put(o, "label", label(&f->label), ok);
	if ((vis = json_array()) == NULL) {
		*ok = 0;
		return o;
	}
	for (i = 0; i < f->ngrants; i++) {
		const struct sop_grant *gr = &f->grants[i];

		if ((g = json_object()) == NULL) {
			*ok = 0;
			break;
		}
		if (gr->kinds != NULL)
			put(g, "kinds", strings(gr->kinds, gr->nkinds), ok);
		if (gr->roles != NULL)
			put(g, "roles", strings(gr->roles, gr->nroles), ok);
		if (gr->consent != NULL)
			put(g, "consent", json_string(gr->consent), ok);
		append(vis, g, ok);
	}
	put(o, "visible", vis, ok);
	return o;
}

static json_t *
transition(const struct sop *s, size_t n, int *ok)
{
	static const char *const req_key[] = {
		[SOP_REQ_CONSENT] = "consent",
		[SOP_REQ_FIELD] = "field",
		[SOP_REQ_ACCEPTED] = "accepted_referral",
		[SOP_REQ_CHILD_REFERRAL] = "child_referral",
	};
	const struct sop_transition *t = &s->transitions[n];
	json_t *o = json_object(), *reqs;
	size_t i;

	if (o == NULL)
		return NULL;
	put(o, "id", json_string(t->id), ok);
	put(o, "from", json_string(t->from), ok);
	put(o, "to", json_string(t->to), ok);
	put(o, "label", label(&t->label), ok);
	put(o, "kinds", strings(t->kinds, t->nkinds), ok);
	put(o, "roles", strings(t->roles, t->nroles), ok);
	put(o, "lead_only", json_boolean(t->lead_only), ok);
	put(o, "reopen", json_boolean(sop_transition_reopens(s, n)), ok);
	if ((reqs = json_array()) == NULL) {
		*ok = 0;
		return o;
	}
	for (i = 0; i < t->nrequires; i++)
		append(reqs, json_pack("{s:s, s:o}",
		    req_key[t->requires[i].kind], t->requires[i].what,
		    "reason", label(&t->requires[i].reason)), ok);
	put(o, "requires", reqs, ok);
	return o;
}

static json_t *
rule(const struct sop_referral_rule *r, int *ok)
{
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	put(o, "from", strings(r->from, r->nfrom), ok);
	put(o, "to", strings(r->to, r->nto), ok);
	put(o, "services", strings(r->services, r->nservices), ok);
	if (r->consent != NULL)
		put(o, "consent", json_string(r->consent), ok);
	return o;
}

static json_t *
document(const struct sop_priv *p, int *ok)
{
	const struct sop *s = &p->pub;
	json_t *doc = json_object(), *a;
	size_t i;

	if (doc == NULL)
		return NULL;
	put(doc, "format", json_integer(1), ok);
	put(doc, "country", json_string(s->country), ok);
	put(doc, "reference_prefix", json_string(s->reference_prefix), ok);
	put(doc, "name", label(&s->name), ok);
	put(doc, "retention_days_after_close",
	    json_integer(s->retention_days), ok);
	put(doc, "child_age", json_integer(s->child_age), ok);
	put(doc, "initial_stage", json_string(s->initial_stage), ok);
	put(doc, "closed_stage", json_string(s->closed_stage), ok);
	put(doc, "categories", categories(p, ok), ok);

	if ((a = json_array()) != NULL)
		for (i = 0; i < s->nurgencies; i++)
			append(a, json_pack("{s:s, s:I}", "code",
			    s->urgencies[i].code, "respond_within_hours",
			    (json_int_t)s->urgencies[i].respond_within_hours),
			    ok);
	put(doc, "urgencies", a, ok);

	if ((a = json_array()) != NULL)
		for (i = 0; i < s->nfields; i++)
			append(a, field(&s->fields[i], ok), ok);
	put(doc, "fields", a, ok);

	if ((a = json_array()) != NULL)
		for (i = 0; i < s->ntransitions; i++)
			append(a, transition(s, i, ok), ok);
	put(doc, "transitions", a, ok);

	if ((a = json_array()) != NULL)
		for (i = 0; i < s->nreferral_rules; i++)
			append(a, rule(&s->referral_rules[i], ok), ok);
	put(doc, "referral_rules", a, ok);
	return doc;
}

enum pa_err
sop_public_build(struct sop_priv *p)
{
	json_t *doc;
	int ok = 1;

	p->public_json = NULL;
	p->public_len = 0;
	if ((doc = document(p, &ok)) == NULL || !ok) {
		json_decref(doc);
		return PA_INTERNAL;
	}
	p->public_json = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (p->public_json == NULL)
		return PA_INTERNAL;
	p->public_len = strlen(p->public_json);
	return PA_OK;
}
