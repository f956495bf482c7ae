/*
 * Fuzz target: JSON request bodies, as the server takes them.
 *
 * body_json_parse with the default depth limit (16); when it gives an
 * object, jv_check against the body spec of every route that takes one,
 * then the case sections ("victim", "identification") against the field
 * catalogue of the real SOP (sop/mali.json, loaded once), as a creation and
 * as a patch, and the password policy where a body carries a username and a
 * password. None of it needs a database.
 *
 * The SOP is found under $PASSERELLE_SOURCE_DIR, else the current folder,
 * else the source folder this target was built from.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "auth/auth.h"
#include "cases/internal.h"
#include "http/internal.h"
#include "sop/sop.h"
#include "util/jv.h"

#ifndef PASSERELLE_SOURCE_DIR
#define PASSERELLE_SOURCE_DIR "."
#endif

#define JSON_MAX_DEPTH 16	/* PASSERELLE_JSON_MAX_DEPTH's default */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

static struct sop *sop;

static void
sop_release(void)
{
	sop_free(sop);
	sop = NULL;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("PASSERELLE_SOURCE_DIR");
	char path[4096];

	(void)argc;
	(void)argv;
	if (dir == NULL || *dir == '\0')
		dir = access("sop/mali.json", R_OK) == 0 ? "." :
		    PASSERELLE_SOURCE_DIR;
	snprintf(path, sizeof(path), "%s/sop/mali.json", dir);
	if (sop_load_file(path, &sop, stderr) != PA_OK) {
		fprintf(stderr, "fuzz_json: cannot load %s (set "
		    "PASSERELLE_SOURCE_DIR to the repository)\n", path);
		abort();
	}
	atexit(sop_release);
	return 0;
}

/* An error's message pair must be set whenever the answer is not PA_OK. */
static void
check_jv(json_t *j, const struct route *rt)
{
	struct jv_error err;
	enum pa_err rc;

	memset(&err, 0, sizeof(err));
	rc = jv_check(j, rt->body, &err);
	if (rc != PA_OK && (err.fr == NULL || err.en == NULL))
		abort();
	if (rc != PA_OK && rc != PA_BAD_INPUT && rc != PA_INVALID)
		abort();
	if (rc == PA_OK && rt->body == h_login_body)
		(void)auth_password_policy(
		    json_string_value(json_object_get(j, "username")),
		    json_string_value(json_object_get(j, "password")));
	if (rc == PA_OK && rt->body == h_user_body)
		(void)auth_password_policy(
		    json_string_value(json_object_get(j, "username")),
		    json_string_value(json_object_get(j, "password")));
}

static void
check_section(json_t *j, const char *section)
{
	struct cases_err err;
	json_t *v = json_object_get(j, section);
	enum pa_err rc;
	int patch;

	for (patch = 0; patch <= 1; patch++) {
		rc = cases_validate_section(sop, section, v, patch, &err);
		if (rc == PA_OK)
			continue;
		if (err.fr == NULL || err.en == NULL ||
		    memchr(err.field, '\0', sizeof(err.field)) == NULL)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const char *why_fr = NULL, *why_en = NULL;
	json_t *j = NULL;
	size_t i;

	if (body_json_parse((const char *)data, len, JSON_MAX_DEPTH, &j,
	    &why_fr, &why_en) != PA_OK) {
		if (j != NULL || why_fr == NULL || why_en == NULL)
			abort();
		return 0;
	}
	if (!json_is_object(j))
		abort();
	/* Every answer is written by jv_dumps: the bytes of jansson's own
	 * compact dump, whatever the body held. */
	{
		char *mine = jv_dumps(j), *theirs = json_dumps(j, JSON_COMPACT);

		if (mine == NULL || theirs == NULL || strcmp(mine, theirs) != 0)
			abort();
		free(mine);
		free(theirs);
	}
	for (i = 0; i < http_nroutes; i++)
		if (http_routes[i].body != NULL)
			check_jv(j, &http_routes[i]);
	check_section(j, "victim");
	check_section(j, "identification");
	json_decref(j);
	return 0;
}
