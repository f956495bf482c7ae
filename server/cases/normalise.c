/*
 * Name normalisation for blind indexes: the same person written with or
 * without accents, in another case, with hyphens or spaces, or with given and
 * family names swapped, gives the same text. Latin letters with diacritics
 * (U+00C0 to U+017F) fold to their base letters; other scripts are kept as
 * they are (lower-cased where ASCII).
 */
#include <stdlib.h>
#include <string.h>

#include "cases.h"

/* U+00C0..U+00FF folded; "" drops, two letters for ligatures. */
static const char *const latin1[64] = {
	"a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i",
	"i", "i", "d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u",
	"u", "y", "th", "ss", "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e",
	"e", "e", "i", "i", "i", "i", "d", "n", "o", "o", "o", "o", "o", "",
	"o", "u", "u", "u", "u", "y", "th", "y",
};

/* U+0100..U+017F: base letters of Latin Extended-A. */
static const char latin_ext_a[] =
    "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiiiiijjkkklllllll"
    "lllnnnnnnnnnoooooooorrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs";

static int
is_sep(unsigned int cp)
{
	return cp == ' ' || cp == '-' || cp == '\'' || cp == '.' ||
	    cp == '_' || cp == ',' || cp == '\t' || cp == '\n' ||
	    cp == '\r' || cp == 0xA0 || cp == 0x02BC ||
	    (cp >= 0x2000 && cp <= 0x200A) ||	/* Unicode spaces */
	    (cp >= 0x2010 && cp <= 0x2015) ||	/* hyphens and dashes */
	    cp == 0x2018 || cp == 0x2019 || cp == 0x202F || cp == 0x3000;
}

/* Decodes one UTF-8 sequence; returns its length (1 on a bad byte). */
static size_t
utf8_next(const unsigned char *s, unsigned int *cp)
{
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xE0) == 0xC0 && (s[1] & 0xC0) == 0x80) {
		*cp = ((unsigned int)(s[0] & 0x1F) << 6) | (s[1] & 0x3F);
		return 2;
	}
	if ((s[0] & 0xF0) == 0xE0 && (s[1] & 0xC0) == 0x80 &&
	    (s[2] & 0xC0) == 0x80) {
		*cp = ((unsigned int)(s[0] & 0x0F) << 12) |
		    ((unsigned int)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
		return 3;
	}
	if ((s[0] & 0xF8) == 0xF0 && (s[1] & 0xC0) == 0x80 &&
	    (s[2] & 0xC0) == 0x80 && (s[3] & 0xC0) == 0x80) {
		*cp = 0xFFFD;	/* kept as an opaque character */
		return 4;
	}
	*cp = 0xFFFD;
	return 1;
}

static int
cmp_words(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
cases_name_normalise(const char *in, char *out, size_t outlen)
{
	char buf[512], *words[64];
	const unsigned char *s = (const unsigned char *)in;
	size_t o = 0, n, nw = 0, i;
	unsigned int cp;
	const char *fold;
	char one[2] = { 0, 0 };

	if (outlen == 0)
		return;
	out[0] = '\0';
	while (*s != '\0' && o + 8 < sizeof(buf)) {
		n = utf8_next(s, &cp);
		if (is_sep(cp)) {
			if (o > 0 && buf[o - 1] != '\0')
				buf[o++] = '\0';
			s += n;
			continue;
		}
		fold = NULL;
		if (cp >= 0x0300 && cp <= 0x036F) {
			s += n;		/* combining accents: "e" + U+0301 */
			continue;
		}
		if (cp == 0x152 || cp == 0x153)
			fold = "oe";
		else if (cp == 0x132 || cp == 0x133)
			fold = "ij";
		else if (cp >= 'A' && cp <= 'Z') {
			one[0] = (char)(cp - 'A' + 'a');
			fold = one;
		} else if (cp >= 0xC0 && cp <= 0xFF)
			fold = latin1[cp - 0xC0];
		else if (cp >= 0x100 && cp <= 0x17F) {
			one[0] = latin_ext_a[cp - 0x100];
			fold = one;
		}
		if (fold != NULL) {
			memcpy(buf + o, fold, strlen(fold));
			o += strlen(fold);
		} else if (cp >= 0x80 || (cp >= '0' && cp <= '9') ||
		    (cp >= 'a' && cp <= 'z')) {
			memcpy(buf + o, s, n);	/* other scripts as they are */
			o += n;
		}
		s += n;
	}
	buf[o] = '\0';
	/*
	 * Split into words, sort them (word order does not matter) and join
	 * them with one space, so that "Ali Mamadou" and "Alima Madou" stay
	 * apart.
	 */
	for (i = 0; i < o && nw < 64;) {
		if (buf[i] == '\0') {
			i++;
			continue;
		}
		words[nw++] = buf + i;
		i += strlen(buf + i) + 1;
	}
	qsort(words, nw, sizeof(words[0]), cmp_words);
	o = 0;
	for (i = 0; i < nw; i++) {
		n = strlen(words[i]);
		if (o + n + (i > 0) + 1 > outlen)
			break;
		if (i > 0)
			out[o++] = ' ';
		memcpy(out + o, words[i], n);
		o += n;
	}
	out[o] = '\0';
}

const char *
cases_age_band(int age)
{
	if (age < 0)
		return "unknown";
	if (age <= 11)
		return "0-11";
	if (age <= 17)
		return "12-17";
	if (age <= 24)
		return "18-24";
	if (age <= 34)
		return "25-34";
	if (age <= 49)
		return "35-49";
	return "50+";
}
