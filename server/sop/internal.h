/*
 * Private to sop/: the memory of a loaded SOP and the helpers shared by the
 * parser (parse.c), the public document (public.c), the lookups (sop.c) and
 * the command line (check.c). Other modules include sop.h only.
 *
 * A struct sop is allocated as the first member of a struct sop_priv, so a
 * pointer to one is a pointer to the other (C17 6.7.2.1p15). Every string
 * and array the struct points to lives in one arena, freed at once by
 * sop_free; the public JSON text is one malloc'd buffer beside it.
 */
#ifndef PA_SOP_INTERNAL_H
#define PA_SOP_INTERNAL_H

#include <stddef.h>
#include <stdio.h>

#include "sop.h"

/* Larger inputs are refused before parsing: a SOP is some tens of KiB. */
#define SOP_MAX_BYTES (8u * 1024u * 1024u)

struct sop_arena_block;

struct sop_arena {
	struct sop_arena_block *head;
};

/*
 * What sop.h has no member for: the HTCDS 2.0 names of categories and of
 * their codes, in the same order as the public struct's arrays (NULL where
 * the file names no counterpart).
 */
struct sop_cat_extra {
	const char *htcds;		/* e.g. "vic_TypeOfExploitation" */
	struct sop_label label;		/* the category's own label */
	const char *const *code_htcds;	/* [n] per code, or NULL */
};

struct sop_priv {
	struct sop pub;			/* first: see above */
	struct sop_arena arena;
	const struct sop_cat_extra *cat_extra;	/* [pub.ncategories] */
	char *public_json;		/* malloc'd, NUL terminated */
	size_t public_len;
};

static inline const struct sop_priv *
sop_priv_of(const struct sop *s)
{
	return (const struct sop_priv *)s;
}

/* Zeroed memory from the arena, aligned for any type; NULL when out. */
void *sop_arena_alloc(struct sop_arena *a, size_t size);
char *sop_arena_strdup(struct sop_arena *a, const char *s);
void sop_arena_release(struct sop_arena *a);

/*
 * sop_parse_buf with the number of problems found (the summary line of
 * `passerelle sop check`). *nproblems may be NULL.
 */
enum pa_err sop_parse(const char *buf, size_t len, struct sop **out,
    FILE *problems, unsigned int *nproblems);
enum pa_err sop_load(const char *path, struct sop **out, FILE *problems,
    unsigned int *nproblems);

/* Builds the GET /api/v1/sop document into p; PA_INTERNAL when out. */
enum pa_err sop_public_build(struct sop_priv *p);

/* The HTCDS 2.0 name of a category, or of one of its codes; NULL if none. */
const char *sop_category_htcds(const struct sop *s, const char *category);
const char *sop_code_htcds(const struct sop *s, const char *category,
    const char *code);
/* 1 when transitions[i] is a reopening rule (from the closed stage). */
int sop_transition_reopens(const struct sop *s, size_t i);

#endif
