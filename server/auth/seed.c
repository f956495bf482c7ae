/*
 * passerelle seed --demo: fictional organisations of every kind and one
 * account per role, for trying Passerelle out. Idempotent: what exists is
 * kept as it is (a password changed since is not reset).
 */
#include <stdio.h>
#include <string.h>

#include "../db/db.h"
#include "auth.h"

#define DEMO_PASSWORD "Passerelle-Demo-2026"

static const struct db_stmt stmts[] = {
	{ "seed_org_by_name",
	    "SELECT id FROM organisations WHERE lower(name) = lower($1)" },
};

static const struct {
	const char *key, *name, *kind, *region;
	const char *services;	/* JSON array */
} orgs[] = {
	{ "police", "Police — bureau d'orientation de Bamako", "police",
	    "bamako", "[]" },
	{ "border", "Police des frontières — poste de Gao", "police", "gao",
	    "[]" },
	{ "labour", "Inspection du travail de Sikasso", "labour_inspection",
	    "sikasso", "[]" },
	{ "ngo", "ONG Kanuya Solidarité", "ngo", "bamako",
	    "[\"psychosocial\",\"family_tracing\",\"reintegration\"]" },
	{ "ngo2", "ONG Sahel Protection", "ngo", "mopti",
	    "[\"psychosocial\",\"return\",\"reintegration\"]" },
	{ "shelter_bko", "Centre d'hébergement de Bamako", "shelter", "bamako",
	    "[\"shelter\",\"psychosocial\"]" },
	{ "shelter_gao", "Centre d'hébergement de Gao", "shelter", "gao",
	    "[\"shelter\",\"psychosocial\"]" },
	{ "one_stop", "Centre de prise en charge intégrée (guichet unique)",
	    "one_stop_center", "bamako",
	    "[\"medical\",\"psychosocial\",\"legal_aid\",\"interpretation\"]" },
	{ "child", "Direction de la protection de l'enfant — Bamako",
	    "child_protection", "bamako", "[\"child_protection\"]" },
	{ "justice", "Tribunal de grande instance de la Commune III",
	    "judiciary", "bamako", "[]" },
	{ "committee", "Comité national de lutte contre la traite",
	    "committee", "bamako", "[]" },
	{ "admin", "Administration de Passerelle", "administration", "bamako",
	    "[]" },
};

static const struct {
	const char *username, *role, *org;
} users[] = {
	{ "police.agent", "caseworker", "police" },
	{ "police.chef", "supervisor", "police" },
	{ "frontiere.agent", "caseworker", "border" },
	{ "travail.agent", "caseworker", "labour" },
	{ "ong.agent", "caseworker", "ngo" },
	{ "ong.chef", "supervisor", "ngo" },
	{ "refuge.bamako", "caseworker", "shelter_bko" },
	{ "refuge.gao", "caseworker", "shelter_gao" },
	{ "guichet.agent", "caseworker", "one_stop" },
	{ "enfance.agent", "caseworker", "child" },
	{ "justice.agent", "caseworker", "justice" },
	{ "comite.analyste", "analyst", "committee" },
	{ "comite.audit", "auditor", "committee" },
	{ "admin", "admin", "admin" },
};

#define N(a) (sizeof(a) / sizeof(a[0]))

void
auth_seed_init(void)
{
	db_stmts_add(stmts, N(stmts));
}

static enum pa_err
org_id(struct db *db, const char *name, char out[37])
{
	struct db_res *res = NULL;
	enum pa_err rc;

	rc = db_exec(db, "seed_org_by_name", &DB_TEXT(name), 1, &res);
	if (rc == PA_OK && db_res_rows(res) == 1)
		snprintf(out, 37, "%s", db_res_get(res, 0, 0));
	else if (rc == PA_OK)
		rc = PA_NOT_FOUND;
	db_res_free(res);
	return rc;
}

int
auth_seed_demo(FILE *out)
{
	char ids[N(orgs)][37];
	const char *field;
	struct db *db;
	json_t *o, *svc;
	enum pa_err rc;
	size_t i, k;

	if (db_acquire(&db) != PA_OK)
		return -1;
	fprintf(out, "Demo organisations (fictional):\n");
	for (i = 0; i < N(orgs); i++) {
		svc = json_loads(orgs[i].services, 0, NULL);
		/* Under another country's SOP, keep only its own codes. */
		for (k = json_array_size(svc); k > 0; k--)
			if (!auth_service_valid(json_string_value(
			    json_array_get(svc, k - 1))))
				json_array_remove(svc, k - 1);
		rc = auth_org_create(db, NULL, orgs[i].name, orgs[i].kind,
		    auth_region_valid(orgs[i].region) ? orgs[i].region : NULL,
		    svc, &o);
		json_decref(svc);
		json_decref(o);
		if (rc != PA_OK && rc != PA_CONFLICT)
			goto fail;
		if (org_id(db, orgs[i].name, ids[i]) != PA_OK)
			goto fail;
		fprintf(out, "  %-17s %s%s\n", orgs[i].kind, orgs[i].name,
		    rc == PA_CONFLICT ? "" : " (new)");
	}
	db_release(db);
	fprintf(out, "\nDemo accounts (password for each: %s):\n",
	    DEMO_PASSWORD);
	for (i = 0; i < N(users); i++) {
		for (k = 0; k < N(orgs); k++)
			if (strcmp(orgs[k].key, users[i].org) == 0)
				break;
		rc = auth_user_create(NULL, users[i].username, DEMO_PASSWORD,
		    users[i].role, ids[k], 0, &o, &field);
		json_decref(o);
		if (rc != PA_OK && rc != PA_CONFLICT)
			return -1;
		fprintf(out, "  %-16s %-11s %s%s\n", users[i].username,
		    users[i].role, orgs[k].name,
		    rc == PA_CONFLICT ? "" : " (new)");
	}
	return 0;
fail:
	db_release(db);
	return -1;
}
