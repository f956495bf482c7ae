/*
 * Validation of a case's victim and identification objects against the SOP
 * field catalogue: every member must be a field of the catalogue (else 400),
 * of the right type and within bounds (else 422 naming the field). Nothing
 * is stored unless all of it is valid.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../sop/sop.h"
#include "../util/jv.h"
#include "internal.h"

/* ISO 3166-1 alpha-2, officially assigned codes. */
static const char iso3166[] =
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH "
    "BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL "
    "CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET "
    "FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU "
    "GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE "
    "KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC "
    "MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC "
    "NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT "
    "PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR "
    "SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA "
    "UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW ";

#define PHOTO_MAX (2 * 1024 * 1024)

int
cases_country_valid(const char *c)
{
	const char *p;

	if (c == NULL || strlen(c) != 2 || c[0] < 'A' || c[0] > 'Z' ||
	    c[1] < 'A' || c[1] > 'Z')
		return 0;
	for (p = iso3166; *p != '\0'; p += 3)
		if (p[0] == c[0] && p[1] == c[1])
			return 1;
	return 0;
}

void
cases_today(char out[11])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

static int
b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '/')
		return c == '+' ? 62 : 63;
	return -1;
}

/*
 * A photo: standard base64 of a PNG or JPEG, decoded size at most max.
 * Only the first bytes are decoded, to read the format's signature.
 */
static int
photo_valid(const char *s, long max)
{
	static const unsigned char png[] = { 0x89, 'P', 'N', 'G', '\r', '\n',
		0x1a, '\n' };
	unsigned char head[9];
	size_t len = strlen(s), i, pad = 0, decoded;
	int v[4], k;

	if (len < 16 || len % 4 != 0)
		return 0;
	if (s[len - 1] == '=')
		pad++;
	if (s[len - 2] == '=')
		pad++;
	for (i = 0; i < len - pad; i++)
		if (b64val(s[i]) < 0)
			return 0;
	decoded = len / 4 * 3 - pad;
	if (decoded > (size_t)max)
		return 0;
	for (i = 0; i < 3; i++) {
		for (k = 0; k < 4; k++)
			v[k] = b64val(s[i * 4 + (size_t)k]);
		head[i * 3] = (unsigned char)((v[0] << 2) | (v[1] >> 4));
		head[i * 3 + 1] = (unsigned char)(((v[1] & 15) << 4) |
		    (v[2] >> 2));
		head[i * 3 + 2] = (unsigned char)(((v[2] & 3) << 6) | v[3]);
	}
	return memcmp(head, png, sizeof(png)) == 0 ||
	    (head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF);
}

/*
 * Text: no control characters but tab and newlines (C0, DEL, and C1 such
 * as U+009B, which terminals read as an escape), and no bidirectional
 * overrides (U+202A..U+202E, U+2066..U+2069) that make a name display as
 * another.
 */
int
cases_text_clean(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p != '\0'; p++) {
		if ((*p < 0x20 && *p != '\n' && *p != '\r' && *p != '\t') ||
		    *p == 0x7F)
			return 0;
		if (p[0] == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F)
			return 0;
		if (p[0] == 0xE2 && p[1] == 0x80 && p[2] >= 0xAA &&
		    p[2] <= 0xAE)
			return 0;
		if (p[0] == 0xE2 && p[1] == 0x81 && p[2] >= 0xA6 &&
		    p[2] <= 0xA9)
			return 0;
	}
	return 1;
}

static enum pa_err
bad(struct cases_err *err, const struct sop_field *f, const char *fr,
    const char *en)
{
	snprintf(err->field, sizeof(err->field), "%s.%s", f->section, f->name);
	err->fr = fr;
	err->en = en;
	return PA_INVALID;
}

static enum pa_err
check_codes(const struct sop *s, const struct sop_field *f, json_t *v,
    struct cases_err *err)
{
	size_t i, j;
	json_t *x;

	if (!json_is_array(v))
		return bad(err, f, "une liste est attendue", "a list is expected");
	if (f->max > 0 && json_array_size(v) > (size_t)f->max)
		return bad(err, f, "trop d'éléments", "too many items");
	json_array_foreach(v, i, x) {
		if (!json_is_string(x))
			return bad(err, f, "type de valeur incorrect",
			    "wrong value type");
		/* Languages are codes of the SOP's list too: free text here
		 * would be kept in clear and survive an erasure. */
		if ((f->type == SOP_CODES || f->type == SOP_LANGUAGES) &&
		    !sop_code_valid(s, f->category, json_string_value(x)))
			return bad(err, f, "code inconnu", "unknown code");
		if (f->type == SOP_COUNTRIES &&
		    !cases_country_valid(json_string_value(x)))
			return bad(err, f, "code de pays ISO 3166 inconnu",
			    "unknown ISO 3166 country code");
		for (j = 0; j < i; j++)
			if (json_equal(json_array_get(v, j), x))
				return bad(err, f, "valeur répétée",
				    "repeated value");
	}
	return PA_OK;
}

static enum pa_err
check_value(const struct sop *s, const struct sop_field *f, json_t *v,
    struct cases_err *err)
{
	char today[11];
	const char *str;
	json_int_t n;

	switch (f->type) {
	case SOP_TEXT:
		if (!json_is_string(v))
			break;
		str = json_string_value(v);
		if (str[strspn(str, " \t\r\n")] == '\0')
			return bad(err, f, "valeur vide", "empty value");
		if (f->max > 0 && jv_utf8_len(str) > (size_t)f->max)
			return bad(err, f, "valeur trop longue",
			    "value too long");
		if (!cases_text_clean(str))
			return bad(err, f, "caractères de contrôle refusés",
			    "control characters are refused");
		return PA_OK;
	case SOP_DATE:
		if (!json_is_string(v))
			break;
		if (!jv_date_valid(json_string_value(v)))
			return bad(err, f, "date invalide (AAAA-MM-JJ)",
			    "invalid date (YYYY-MM-DD)");
		cases_today(today);
		if (strcmp(json_string_value(v), today) > 0)
			return bad(err, f, "date dans le futur",
			    "date in the future");
		return PA_OK;
	case SOP_CODE:
		if (!json_is_string(v))
			break;
		if (!sop_code_valid(s, f->category, json_string_value(v)))
			return bad(err, f, "code inconnu", "unknown code");
		return PA_OK;
	case SOP_COUNTRY:
		if (!json_is_string(v))
			break;
		if (!cases_country_valid(json_string_value(v)))
			return bad(err, f, "code de pays ISO 3166 inconnu",
			    "unknown ISO 3166 country code");
		return PA_OK;
	case SOP_INTEGER:
		if (!json_is_integer(v))
			break;
		n = json_integer_value(v);
		if (n < f->min || n > f->max)
			return bad(err, f, "valeur hors limites",
			    "value out of range");
		return PA_OK;
	case SOP_CODES:
	case SOP_COUNTRIES:
	case SOP_LANGUAGES:
		return check_codes(s, f, v, err);
	case SOP_PHOTO:
		if (!json_is_string(v))
			break;
		if (!photo_valid(json_string_value(v),
			f->max > 0 ? f->max : PHOTO_MAX))
			return bad(err, f,
			    "photo PNG ou JPEG en base64 de 2 Mio au plus",
			    "a base64 PNG or JPEG photo of 2 MiB at most");
		return PA_OK;
	}
	return bad(err, f, "type de valeur incorrect", "wrong value type");
}

enum pa_err
cases_validate_section(const struct sop *s, const char *section, json_t *obj,
    int patch, struct cases_err *err)
{
	const struct sop_field *f;
	const char *key;
	json_t *v;
	enum pa_err rc;

	memset(err, 0, sizeof(*err));
	if (obj == NULL)
		return PA_OK;
	if (!json_is_object(obj)) {
		snprintf(err->field, sizeof(err->field), "%s", section);
		err->fr = "un objet est attendu";
		err->en = "an object is expected";
		return PA_INVALID;
	}
	json_object_foreach(obj, key, v) {
		if ((f = sop_field(s, section, key)) == NULL) {
			snprintf(err->field, sizeof(err->field), "%s", section);
			err->fr = "membre inconnu dans la requête";
			err->en = "unknown member in the request";
			return PA_BAD_INPUT;
		}
		if (json_is_null(v)) {
			if (patch)
				continue;	/* clears the field */
			return bad(err, f, "valeur nulle non permise",
			    "null is not allowed here");
		}
		if ((rc = check_value(s, f, v, err)) != PA_OK)
			return rc;
	}
	return PA_OK;
}
