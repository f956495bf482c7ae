/*
 * sop: the loaded SOP's memory (one arena), reading the file, the lookups the
 * other modules call on every request, and the SOP the server runs with.
 * Parsing and validation are in parse.c, the public document in public.c.
 */
#include <errno.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "sop.h"

#define ARENA_BLOCK 16384u

struct sop_arena_block {
	struct sop_arena_block *next;
	size_t used;
	size_t cap;
	max_align_t data[];
};

void *
sop_arena_alloc(struct sop_arena *a, size_t size)
{
	const size_t align = alignof(max_align_t);
	struct sop_arena_block *b = a->head;
	size_t need, cap;
	void *p;

	if (size == 0)
		size = 1;
	if (size > SIZE_MAX / 2)
		return NULL;
	need = (size + align - 1) / align * align;
	if (b == NULL || b->cap - b->used < need) {
		cap = need > ARENA_BLOCK ? need : ARENA_BLOCK;
		b = malloc(sizeof(*b) + cap);
		if (b == NULL)
			return NULL;
		b->cap = cap;
		b->used = 0;
		b->next = a->head;
		a->head = b;
	}
	p = (char *)b->data + b->used;
	b->used += need;
	memset(p, 0, size);
	return p;
}

char *
sop_arena_strdup(struct sop_arena *a, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = sop_arena_alloc(a, n);

	if (p != NULL)
		memcpy(p, s, n);
	return p;
}

void
sop_arena_release(struct sop_arena *a)
{
	struct sop_arena_block *b, *next;

	for (b = a->head; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	a->head = NULL;
}

void
sop_free(struct sop *s)
{
	struct sop_priv *p = (struct sop_priv *)s;
	struct sop_arena arena;

	if (p == NULL)
		return;
	free(p->public_json);
	/* The priv struct itself lives in its arena: copy the handle first. */
	arena = p->arena;
	sop_arena_release(&arena);
}

enum pa_err
sop_parse_buf(const char *buf, size_t len, struct sop **out, FILE *problems)
{
	return sop_parse(buf, len, out, problems, NULL);
}

/*
 * Reads the whole file (at most SOP_MAX_BYTES) and parses it. A file that
 * cannot be read is one problem at "$" and PA_NOT_FOUND.
 */
enum pa_err
sop_load(const char *path, struct sop **out, FILE *problems,
    unsigned int *nproblems)
{
	char *buf = NULL;
	size_t len = 0, n;
	enum pa_err rc;
	FILE *f;

	*out = NULL;
	if (nproblems != NULL)
		*nproblems = 0;
	if ((f = fopen(path, "rb")) == NULL) {
		if (problems != NULL)
			fprintf(problems, "$: cannot open %s: %s\n", path,
			    strerror(errno));
		if (nproblems != NULL)
			*nproblems = 1;
		return PA_NOT_FOUND;
	}
	if ((buf = malloc(SOP_MAX_BYTES + 1)) == NULL) {
		fclose(f);
		return PA_INTERNAL;
	}
	while ((n = fread(buf + len, 1, SOP_MAX_BYTES + 1 - len, f)) > 0)
		len += n;
	if (ferror(f)) {
		if (problems != NULL)
			fprintf(problems, "$: cannot read %s: %s\n", path,
			    strerror(errno));
		if (nproblems != NULL)
			*nproblems = 1;
		rc = PA_NOT_FOUND;
		goto out;
	}
	/* sop_parse refuses len > SOP_MAX_BYTES itself. */
	rc = sop_parse(buf, len, out, problems, nproblems);
out:
	fclose(f);
	free(buf);
	return rc;
}

enum pa_err
sop_load_file(const char *path, struct sop **out, FILE *problems)
{
	return sop_load(path, out, problems, NULL);
}

/* Set once by main before the server starts; read-only afterwards. */
static struct sop *current;

void
sop_set_current(struct sop *s)
{
	current = s;
}

const struct sop *
sop_current(void)
{
	return current;
}

const char *
sop_public_json(const struct sop *s, size_t *len)
{
	const struct sop_priv *p;

	if (s == NULL)
		return NULL;
	p = sop_priv_of(s);
	if (len != NULL)
		*len = p->public_len;
	return p->public_json;
}

const struct sop_category *
sop_category(const struct sop *s, const char *name)
{
	size_t i;

	if (s == NULL || name == NULL)
		return NULL;
	for (i = 0; i < s->ncategories; i++)
		if (strcmp(s->categories[i].name, name) == 0)
			return &s->categories[i];
	return NULL;
}

int
sop_code_valid(const struct sop *s, const char *category, const char *code)
{
	const struct sop_category *c = sop_category(s, category);
	size_t i;

	if (c == NULL || code == NULL)
		return 0;
	for (i = 0; i < c->n; i++)
		if (strcmp(c->codes[i].code, code) == 0)
			return 1;
	return 0;
}

const struct sop_field *
sop_field(const struct sop *s, const char *section, const char *name)
{
	size_t i;

	if (s == NULL || section == NULL || name == NULL)
		return NULL;
	for (i = 0; i < s->nfields; i++)
		if (strcmp(s->fields[i].section, section) == 0 &&
		    strcmp(s->fields[i].name, name) == 0)
			return &s->fields[i];
	return NULL;
}

static int
in_list(const char *const *list, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (list[i] != NULL && strcmp(list[i], s) == 0)
			return 1;
	return 0;
}

/*
 * A grant matches when the kind is in its kinds (or it has none), the role
 * in its roles (or it has none), and its consent, if any, is among the
 * consents in force. Without a kind or a role nothing is visible.
 */
int
sop_field_visible(const struct sop_field *f, const char *kind,
    const char *role, const char *const *consents, size_t nconsents)
{
	const struct sop_grant *g;
	size_t i;

	if (f == NULL || kind == NULL || role == NULL)
		return 0;
	for (i = 0; i < f->ngrants; i++) {
		g = &f->grants[i];
		if (g->kinds != NULL && !in_list(g->kinds, g->nkinds, kind))
			continue;
		if (g->roles != NULL && !in_list(g->roles, g->nroles, role))
			continue;
		if (g->consent != NULL && (consents == NULL ||
		    !in_list(consents, nconsents, g->consent)))
			continue;
		return 1;
	}
	return 0;
}

const struct sop_urgency *
sop_urgency(const struct sop *s, const char *code)
{
	size_t i;

	if (s == NULL || code == NULL)
		return NULL;
	for (i = 0; i < s->nurgencies; i++)
		if (strcmp(s->urgencies[i].code, code) == 0)
			return &s->urgencies[i];
	return NULL;
}

const char *
sop_category_htcds(const struct sop *s, const char *category)
{
	const struct sop_category *c = sop_category(s, category);

	if (c == NULL)
		return NULL;
	return sop_priv_of(s)->cat_extra[c - s->categories].htcds;
}

const char *
sop_code_htcds(const struct sop *s, const char *category, const char *code)
{
	const struct sop_category *c = sop_category(s, category);
	const struct sop_cat_extra *x;
	size_t i;

	if (c == NULL || code == NULL)
		return NULL;
	x = &sop_priv_of(s)->cat_extra[c - s->categories];
	if (x->code_htcds == NULL)
		return NULL;
	for (i = 0; i < c->n; i++)
		if (strcmp(c->codes[i].code, code) == 0)
			return x->code_htcds[i];
	return NULL;
}

int
sop_transition_reopens(const struct sop *s, size_t i)
{
	if (s == NULL || i >= s->ntransitions)
		return 0;
	return strcmp(s->transitions[i].from, s->closed_stage) == 0;
}
