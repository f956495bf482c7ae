/*
 * Fuzz target: header values and short texts from outside, each taken as a
 * NUL-terminated string (up to the first NUL, as MHD hands headers over).
 *
 * reply_lang_en (Accept-Language), body_content_type_ok (Content-Type),
 * cases_name_normalise (names for the blind indexes) into output buffers of
 * exact sizes, small and large, and the jv_ checks of dates, UUIDs and
 * character counts. Besides memory errors, it aborts when an answer breaks
 * what callers rely on: 0 or 1 for the predicates; a normalised name that is
 * NUL-terminated within its buffer, holds only words of a-z, 0-9 and
 * non-ASCII bytes joined by single spaces, is a prefix of the same name
 * normalised into a larger buffer, and does not change when two words of a
 * short valid name are swapped.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cases/cases.h"
#include "http/internal.h"
#include "util/jv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

#define NORM_LARGE 512	/* cases.c's buffers are this size or smaller */

/* Normalises s into a heap buffer of exactly outlen bytes; caller frees. */
static char *
normalise(const char *s, size_t outlen)
{
	char *out = malloc(outlen);
	size_t i, n;

	if (out == NULL)
		abort();
	memset(out, 'X', outlen);
	cases_name_normalise(s, out, outlen);
	if (memchr(out, '\0', outlen) == NULL)
		abort();
	/* Words joined by one space: none first, last, or twice. */
	n = strlen(out);
	if (n > 0 && (out[0] == ' ' || out[n - 1] == ' '))
		abort();
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)out[i];

		if (c == ' ' && out[i + 1] == ' ')
			abort();
		if (c < 0x80 && c != ' ' && !(c >= 'a' && c <= 'z') &&
		    !(c >= '0' && c <= '9'))
			abort();
	}
	return out;
}

/* Valid UTF-8 (no overlongs or surrogates needed: only boundaries). */
static int
utf8_valid(const unsigned char *s)
{
	size_t k, n;

	while (*s != '\0') {
		if (*s < 0x80)
			n = 1;
		else if ((*s & 0xE0) == 0xC0)
			n = 2;
		else if ((*s & 0xF0) == 0xE0)
			n = 3;
		else if ((*s & 0xF8) == 0xF0)
			n = 4;
		else
			return 0;
		for (k = 1; k < n; k++)
			if ((s[k] & 0xC0) != 0x80)
				return 0;
		s += n;
	}
	return 1;
}

static void
check_name(const char *s)
{
	static const size_t small[] = { 1, 2, 8, 33 };
	char *large = normalise(s, NORM_LARGE), *out, *swapped;
	const char *sp;
	size_t i, n, len = strlen(s);

	for (i = 0; i < sizeof(small) / sizeof(small[0]); i++) {
		out = normalise(s, small[i]);
		if (strncmp(large, out, strlen(out)) != 0)
			abort();
		free(out);
	}
	/* Word order does not matter (short names: no truncation). */
	if (len < 120 && (sp = strchr(s, ' ')) != NULL &&
	    utf8_valid((const unsigned char *)s)) {
		n = (size_t)(sp - s);
		if ((swapped = malloc(len + 1)) == NULL)
			abort();
		memcpy(swapped, sp + 1, len - n - 1);
		swapped[len - n - 1] = ' ';
		memcpy(swapped + len - n, s, n);
		swapped[len] = '\0';
		out = normalise(swapped, NORM_LARGE);
		if (strcmp(out, large) != 0)
			abort();
		free(out);
		free(swapped);
	}
	free(large);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char *s;
	int r;

	if ((s = malloc(len + 1)) == NULL)
		return 0;
	memcpy(s, data, len);
	s[len] = '\0';

	if ((r = reply_lang_en(s)) != 0 && r != 1)
		abort();
	if ((r = body_content_type_ok(s)) != 0 && r != 1)
		abort();
	check_name(s);
	if ((r = jv_date_valid(s)) != 0 && (r != 1 || strlen(s) != 10))
		abort();
	if ((r = jv_uuid_valid(s)) != 0 && (r != 1 || strlen(s) != 36))
		abort();
	if (jv_utf8_len(s) > strlen(s))
		abort();
	free(s);
	return 0;
}
