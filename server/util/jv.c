/* Checks of request objects against a spec of allowed members. */
#include <string.h>

#include "jv.h"

int
jv_uuid_valid(const char *s)
{
	size_t i;

	if (s == NULL || strlen(s) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	}
	return 1;
}

int
jv_date_valid(const char *s)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
		30, 31 };
	int y, m, d, i;

	if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return 0;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
	    (s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1900 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return 0;
	if (m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return 0;
	return 1;
}

size_t
jv_utf8_len(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

static int
type_ok(const json_t *v, enum jv_type t)
{
	switch (t) {
	case JV_STRING:
		return json_is_string(v);
	case JV_INTEGER:
		return json_is_integer(v);
	case JV_BOOLEAN:
		return json_is_boolean(v);
	case JV_OBJECT:
		return json_is_object(v);
	case JV_ARRAY:
		return json_is_array(v);
	case JV_ANY:
		return 1;
	}
	return 0;
}

static int
blank(const char *s)
{
	return s[strspn(s, " \t\r\n")] == '\0';
}

enum pa_err
jv_check(json_t *obj, const struct jv_field *spec, struct jv_error *err)
{
	const struct jv_field *f;
	const char *key;
	json_t *v;

	err->field = NULL;
	if (!json_is_object(obj)) {
		err->fr = "un objet JSON est attendu";
		err->en = "a JSON object is expected";
		return PA_BAD_INPUT;
	}
	json_object_foreach(obj, key, v) {
		for (f = spec; f->name != NULL; f++)
			if (strcmp(f->name, key) == 0)
				break;
		if (f->name == NULL) {
			/* Do not echo an unknown key: it is client text. */
			err->fr = "membre inconnu dans la requête";
			err->en = "unknown member in the request";
			return PA_BAD_INPUT;
		}
	}
	for (f = spec; f->name != NULL; f++) {
		v = json_object_get(obj, f->name);
		err->field = f->name;
		if (v == NULL) {
			if (f->flags & JV_REQUIRED) {
				err->fr = "champ obligatoire manquant";
				err->en = "required field missing";
				return PA_INVALID;
			}
			continue;
		}
		if (json_is_null(v)) {
			if (f->flags & JV_NULLABLE)
				continue;
			err->fr = "valeur nulle non permise";
			err->en = "null is not allowed here";
			return PA_INVALID;
		}
		if (!type_ok(v, f->type)) {
			err->fr = "type de valeur incorrect";
			err->en = "wrong value type";
			return PA_INVALID;
		}
		if (f->type == JV_STRING) {
			if ((f->flags & JV_NONEMPTY) &&
			    blank(json_string_value(v))) {
				err->fr = "valeur vide";
				err->en = "empty value";
				return PA_INVALID;
			}
			if (f->max > 0 &&
			    jv_utf8_len(json_string_value(v)) > f->max) {
				err->fr = "valeur trop longue";
				err->en = "value too long";
				return PA_INVALID;
			}
		}
		if (f->type == JV_ARRAY && f->max > 0 &&
		    json_array_size(v) > f->max) {
			err->fr = "trop d'éléments";
			err->en = "too many items";
			return PA_INVALID;
		}
	}
	err->field = NULL;
	return PA_OK;
}
