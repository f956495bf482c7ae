/*
 * Fuzz target: the SOP loader (sop_parse_buf), on any bytes.
 *
 * A SOP file is trusted configuration, but `passerelle sop check` is meant
 * for drafts written by hand, and the parser promises that any input is safe.
 * Each input is parsed without a problem stream, as the server does; when it
 * is refused, it is parsed again with one (/dev/null), so that every message
 * is formatted too, and both runs must give the same answer. When it loads,
 * the public document must be JSON and the lookups must find what the SOP
 * holds. Everything is freed each time: LeakSanitizer checks it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "sop/sop.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

static FILE *devnull;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if ((devnull = fopen("/dev/null", "w")) == NULL) {
		perror("fuzz_sop: /dev/null");
		abort();
	}
	return 0;
}

/* The lookups other modules make, on what the SOP itself holds. */
static void
check_lookups(const struct sop *s)
{
	const struct sop_category *c;
	const struct sop_field *f;
	size_t i, j, len = 0;
	const char *doc;
	json_t *j_doc;

	for (i = 0; i < s->ncategories; i++) {
		c = &s->categories[i];
		if (sop_category(s, c->name) == NULL)
			abort();
		for (j = 0; j < c->n; j++)
			if (!sop_code_valid(s, c->name, c->codes[j].code))
				abort();
	}
	for (i = 0; i < s->nfields; i++) {
		f = &s->fields[i];
		if (sop_field(s, f->section, f->name) == NULL)
			abort();
		(void)sop_field_visible(f, "police", "caseworker", NULL, 0);
	}
	for (i = 0; i < s->nurgencies; i++)
		if (sop_urgency(s, s->urgencies[i].code) == NULL)
			abort();

	doc = sop_public_json(s, &len);
	if (doc == NULL)
		abort();
	j_doc = json_loadb(doc, len, 0, NULL);
	if (j_doc == NULL) {
		fprintf(stderr, "fuzz_sop: sop_public_json is not JSON\n");
		abort();
	}
	json_decref(j_doc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct sop *s = NULL, *again = NULL;
	enum pa_err rc, rc2;

	rc = sop_parse_buf((const char *)data, len, &s, NULL);
	if (rc == PA_OK) {
		if (s == NULL)
			abort();
		check_lookups(s);
		sop_free(s);
		return 0;
	}
	if (s != NULL)
		abort();	/* refused, yet something came out */
	rc2 = sop_parse_buf((const char *)data, len, &again, devnull);
	if (rc2 != rc) {
		fprintf(stderr, "fuzz_sop: %d without a problem stream, %d "
		    "with one\n", (int)rc, (int)rc2);
		abort();
	}
	sop_free(again);
	return 0;
}
