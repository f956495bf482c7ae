/*
 * jv: declarative checks of JSON request objects. A spec lists the members
 * an object may have; anything else is refused, so that a client can never
 * set a member it does not own. Unknown members are PA_BAD_INPUT (400);
 * missing, mistyped or oversized members are PA_INVALID (422). The error
 * names the member, never its value.
 */
#ifndef PA_JV_H
#define PA_JV_H

#include <stddef.h>

#include <jansson.h>

#include "../err.h"

enum jv_type {
	JV_STRING,
	JV_INTEGER,
	JV_BOOLEAN,
	JV_OBJECT,
	JV_ARRAY,
	JV_ANY,
};

#define JV_REQUIRED 0x1
#define JV_NULLABLE 0x2
#define JV_NONEMPTY 0x4	/* strings: not empty nor only spaces */

struct jv_field {
	const char *name;	/* NULL ends a spec */
	enum jv_type type;
	unsigned int flags;
	size_t max;		/* strings: UTF-8 characters; arrays: items */
};

struct jv_error {
	const char *field;
	const char *fr;
	const char *en;
};

enum pa_err jv_check(json_t *obj, const struct jv_field *spec,
    struct jv_error *err);

/* 1 for a canonical lower-case UUID text (36 characters). */
int jv_uuid_valid(const char *s);
/* 1 for a real calendar date YYYY-MM-DD. */
int jv_date_valid(const char *s);

/* Number of UTF-8 characters in a valid UTF-8 string. */
size_t jv_utf8_len(const char *s);

/*
 * The same bytes as json_dumps(v, JSON_COMPACT) (malloc'd; NULL when out of
 * memory), written in one pass: jansson's dump writes through a callback a
 * few bytes at a time and formats a loop-check key per container, a sixth
 * of a case read's instructions.
 */
char *jv_dumps(json_t *v);

/*
 * Frees JSON text after wiping it (JSON text holds no NUL byte: strlen is
 * its length); for libmicrohttpd's free callbacks of answers that may hold
 * victim data.
 */
void jv_text_free(void *text);

/*
 * From now on, every block Jansson frees (parsed values, its lexer's
 * buffers, objects) is wiped first: decrypted values pass through them.
 * Called once at start, before any thread.
 */
void jv_wipe_jansson(void);

/*
 * The buffer jv_dumps writes into, for writers of JSON text (cases/'s text
 * renderer). Start it zeroed; wipe: 1 when it holds victim data, so that
 * growing and freeing leave no copy behind. After a failed allocation,
 * failed is set and nothing more is added.
 */
struct jv_buf {
	char *p;
	size_t len, cap;
	int failed, wipe;
};
/* Appends n bytes; after any add, p is a NUL-terminated string. */
void jv_buf_add(struct jv_buf *b, const char *s, size_t n);
/* A JSON string of n bytes, escaped as json_dumps(JSON_COMPACT) does. */
void jv_buf_string(struct jv_buf *b, const char *s, size_t n);
/* Any value, as json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY). */
void jv_buf_value(struct jv_buf *b, json_t *v);
void jv_buf_free(struct jv_buf *b);
/* 1 when s[0..n) is UTF-8 that json_stringn accepts. */
int jv_utf8_valid(const char *s, size_t n);

#endif
