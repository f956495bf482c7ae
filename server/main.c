/*
 * passerelle: one binary, one subcommand per job. Every subcommand reads the
 * same settings (config.c); a missing or bad one stops it at once with one
 * line naming the setting.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "auth/auth.h"
#include "cases/cases.h"
#include "config.h"
#include "crypto/crypto.h"
#include "db/db.h"
#include "http/http.h"
#include "log.h"
#include "sop/cli.h"
#include "stats/stats.h"
#include "sop/sop.h"
#include "util/jv.h"

#ifndef PASSERELLE_VERSION
#define PASSERELLE_VERSION "0.0.0"
#endif

struct cmd {
	const char *name;
	int (*fn)(struct config *c, int argc, char **argv);
	const char *usage;
	const char *help;
};

static int has_flag(int argc, char **argv, const char *flag);

/* The SOP this process runs with, loaded once by boot(). */
static struct sop *loaded_sop;

static int
fail(const char *line)
{
	fprintf(stderr, "passerelle: %s\n", line);
	return 1;
}

static int
unexpected(int argc, char **argv, int from)
{
	char line[256];

	if (from >= argc)
		return 0;
	snprintf(line, sizeof(line), "unexpected argument %s (see --help)",
	    argv[from]);
	return fail(line);
}

/* The modules' settings and prepared statements. */
static void
modules_init(const struct auth_settings *as)
{
	auth_init(as);
	cases_init();
	stats_init();
}

/*
 * Everything a command that touches data needs: the key ring, password
 * hashing, the modules' statements, a current schema and the pool.
 */
static int
boot(struct config *c, struct sec_master **master, long pool, int check_key)
{
	struct auth_settings as;
	enum db_schema_state st;
	char err[512];

	*master = NULL;
	if (config_require(c, "database_url", err, sizeof(err)) != 0 ||
	    config_require(c, "key_file", err, sizeof(err)) != 0)
		return fail(err);
	if (sec_master_load(c->key_file, master, err, sizeof(err)) != 0)
		return fail(err);
	if (sec_ring_init(*master) != 0 ||
	    sec_pw_init((unsigned long long)c->argon2_ops,
		(size_t)c->argon2_mem_kib,
		(unsigned int)c->argon2_concurrency) != 0) {
		sec_master_free(*master);
		return fail("cannot set up the key ring");
	}
	as.session_idle = c->session_idle;
	as.session_lifetime = c->session_lifetime;
	as.throttle_account = c->throttle_account;
	as.throttle_address = c->throttle_address;
	as.throttle_window = c->throttle_window;
	modules_init(&as);
	/* The SOP is checked before anything is served; problems on stderr. */
	if (loaded_sop == NULL) {
		if (sop_load_file(c->sop, &loaded_sop, stderr) != PA_OK) {
			snprintf(err, sizeof(err), "PASSERELLE_SOP (--sop): %s is "
			    "not a valid SOP file (problems above)", c->sop);
			goto bad;
		}
		sop_set_current(loaded_sop);
	}
	if (db_schema_check(c->database_url, (int)c->db_timeout, 0, &st, err,
		sizeof(err)) != PA_OK || st != DB_SCHEMA_CURRENT)
		goto bad;
	if (db_pool_open(c->database_url, (int)pool, (int)c->db_timeout, 1) !=
	    PA_OK) {
		snprintf(err, sizeof(err), "PASSERELLE_DATABASE_URL "
		    "(--database-url): cannot connect to the database");
		goto bad;
	}
	if (check_key) {
		struct db *db;

		if (db_acquire(&db) != PA_OK) {
			db_pool_close();
			snprintf(err, sizeof(err), "cannot reach the database");
			goto bad;
		}
		if (cases_key_check(db, err, sizeof(err)) != PA_OK) {
			db_release(db);
			db_pool_close();
			goto bad;
		}
		db_release(db);
	}
	return 0;
bad:
	sop_set_current(NULL);
	sop_free(loaded_sop);
	loaded_sop = NULL;
	sec_ring_cleanup();
	sec_master_free(*master);
	*master = NULL;
	return fail(err);
}

static void
unboot(struct sec_master *master)
{
	db_pool_close();
	sop_set_current(NULL);
	sop_free(loaded_sop);
	loaded_sop = NULL;
	sec_ring_cleanup();
	sec_master_free(master);
}

static const char *
opt(int argc, char **argv, const char *name)
{
	int i;

	for (i = 0; i + 1 < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return argv[i + 1];
	return NULL;
}

static int
cmd_serve(struct config *c, int argc, char **argv)
{
	struct sec_master *master;
	int rc;

	if (unexpected(argc, argv, 0))
		return 1;
	if (boot(c, &master, c->db_pool_size, 1))
		return 1;
	/* A replica that is down now is no reason not to serve. */
	if (c->replica_url != NULL && *c->replica_url != '\0' &&
	    db_replica_open(c->replica_url, (int)c->replica_pool_size,
		(int)c->db_timeout, (int)c->replica_max_lag) != PA_OK) {
		unboot(master);
		return fail("cannot set up the replica pool");
	}
	rc = http_serve(c);
	db_replica_close();
	unboot(master);
	return rc;
}

static int
cmd_org(struct config *c, int argc, char **argv)
{
	const char *name = opt(argc, argv, "--name");
	const char *kind = opt(argc, argv, "--kind");
	const char *region = opt(argc, argv, "--region");
	struct sec_master *master;
	struct db *db;
	json_t *out = NULL;
	enum pa_err rc;

	if (argc < 1 || strcmp(argv[0], "add") != 0 || name == NULL ||
	    kind == NULL)
		return fail("usage: passerelle org add --name NAME --kind KIND "
			    "[--region CODE]");
	if (!auth_kind_valid(kind))
		return fail("org add: unknown --kind");
	if (region != NULL && !auth_region_valid(region))
		return fail("org add: unknown --region");
	if (boot(c, &master, 1, 1))
		return 1;
	if ((rc = db_acquire(&db)) == PA_OK) {
		rc = auth_org_create(db, NULL, name, kind, region, NULL, &out);
		db_release(db);
	}
	if (rc == PA_OK)
		printf("%s\n", json_string_value(json_object_get(out, "id")));
	json_decref(out);
	unboot(master);
	if (rc == PA_CONFLICT)
		return fail("org add: an organisation has this name already");
	return rc == PA_OK ? 0 : fail("org add: failed");
}

static int
cmd_user(struct config *c, int argc, char **argv)
{
	const char *username = opt(argc, argv, "--username");
	const char *role = opt(argc, argv, "--role");
	const char *org = opt(argc, argv, "--organisation");
	struct sec_master *master;
	const char *field = NULL;
	char pw[1100], line[256];
	json_t *out = NULL;
	enum pa_err rc;
	size_t n;

	if (argc < 1 || strcmp(argv[0], "add") != 0 || username == NULL ||
	    role == NULL || org == NULL)
		return fail("usage: passerelle user add --username NAME --role "
			    "ROLE --organisation ID < password");
	if (fgets(pw, sizeof(pw), stdin) == NULL)
		return fail("user add: no password on standard input");
	n = strcspn(pw, "\r\n");
	pw[n] = '\0';
	if (boot(c, &master, 1, 1)) {
		explicit_bzero(pw, sizeof(pw));
		return 1;
	}
	rc = auth_user_create(NULL, username, pw, role, org, 0, &out, &field);
	explicit_bzero(pw, sizeof(pw));
	if (rc == PA_OK)
		printf("%s\n", json_string_value(json_object_get(out, "id")));
	json_decref(out);
	unboot(master);
	if (rc == PA_OK)
		return 0;
	snprintf(line, sizeof(line), "user add: %s %s",
	    field ? field : "request",
	    rc == PA_CONFLICT ? "is taken" :
	    (field && strcmp(field, "password") == 0) ?
		"refused: 12 to 256 characters, without the user name" :
		"is invalid");
	return fail(line);
}

static int
cmd_audit(struct config *c, int argc, char **argv)
{
	struct sec_master *master;
	struct audit_verdict v;
	struct db *db;
	enum pa_err rc;

	const char *cpfile = opt(argc, argv, "--checkpoints");
	long checked = 0, bad = 0;
	FILE *cp = NULL;

	if (argc == 1 && strcmp(argv[0], "checkpoint") == 0) {
		if (boot(c, &master, 1, 1))
			return 1;
		if ((rc = db_acquire(&db)) == PA_OK) {
			rc = audit_checkpoint(db, stdout);
			db_release(db);
		}
		unboot(master);
		return rc == PA_OK ? 0 : fail("audit checkpoint: failed");
	}
	if (argc < 1 || strcmp(argv[0], "verify") != 0 ||
	    (argc != 1 && (argc != 3 || cpfile == NULL)))
		return fail("usage: passerelle audit verify [--checkpoints "
			    "FILE] | passerelle audit checkpoint");
	if (cpfile != NULL && (cp = fopen(cpfile, "r")) == NULL)
		return fail("audit verify: cannot read the checkpoint file");
	if (boot(c, &master, 1, 1)) {
		if (cp != NULL)
			fclose(cp);
		return 1;
	}
	if ((rc = db_acquire(&db)) == PA_OK) {
		rc = audit_verify(db, &v);
		if (rc == PA_OK && cp != NULL)
			rc = audit_checkpoint_check(db, cp, stdout, &checked,
			    &bad);
		db_release(db);
	}
	if (cp != NULL)
		fclose(cp);
	unboot(master);
	if (rc == PA_INVALID)
		return fail("audit verify: malformed checkpoint file");
	if (rc != PA_OK)
		return fail("audit verify: cannot read the audit trail");
	if (bad > 0) {
		printf("audit trail BROKEN: %ld of %ld checkpointed records are "
		       "gone or changed\n", bad, checked);
		return 1;
	}
	if (!v.ok) {
		printf("audit trail BROKEN: chain %s, first bad record seq %lld "
		       "(id %lld), after %lld good records\n", v.chain,
		    (long long)v.first_bad, (long long)v.first_bad_id,
		    (long long)v.records);
		return 1;
	}
	printf("audit trail intact: %lld records\n", (long long)v.records);
	return 0;
}

static int
cmd_sop(struct config *c, int argc, char **argv)
{
	(void)c;
	if (argc != 2 || strcmp(argv[0], "check") != 0)
		return fail("usage: passerelle sop check FILE");
	return sop_check_main(argv[1]);
}

static int
cmd_rotate(struct config *c, int argc, char **argv)
{
	const char *file = opt(argc, argv, "--new-key-file");
	struct sec_master *master, *next = NULL;
	char err[512];
	struct db *db;
	int rc;

	if (file == NULL || argc != 2)
		return fail("usage: passerelle rotate-master-key --new-key-file "
			    "FILE");
	if (boot(c, &master, 1, 1))
		return 1;
	if (sec_master_load(file, &next, err, sizeof(err)) != 0) {
		unboot(master);
		return fail(err);
	}
	if (db_acquire(&db) != PA_OK) {
		sec_master_free(next);
		unboot(master);
		return fail("rotate-master-key: cannot reach the database");
	}
	rc = cases_rotate_master_key(db, master, next, err, sizeof(err));
	db_release(db);
	sec_master_free(next);
	unboot(master);
	if (rc != 0)
		return fail(err);
	printf("%s\nnow make %s the key file (PASSERELLE_KEY_FILE) and restart "
	       "every server; keep the old key until a backup under the new "
	       "key exists\n", err, file);
	return 0;
}

static int
cmd_seed(struct config *c, int argc, char **argv)
{
	struct sec_master *master;
	int rc;

	long n = 0;
	char *end;

	if (argc == 2 && strcmp(argv[0], "--synthetic") == 0) {
		n = strtol(argv[1], &end, 10);
		if (*end != '\0' || n < 1 || n > 10000000)
			return fail("seed --synthetic: N from 1 to 10000000");
	} else if (argc != 1 || strcmp(argv[0], "--demo") != 0)
		return fail("usage: passerelle seed --demo | --synthetic N");
	if (boot(c, &master, 2, 1))
		return 1;
	if (n > 0) {
		struct db *db;

		rc = -1;
		if (db_acquire(&db) == PA_OK) {
			rc = cases_seed_synthetic(db, n, stdout);
			db_release(db);
		}
		unboot(master);
		return rc == 0 ? 0 : fail("seed: failed");
	}
	rc = auth_seed_demo(stdout);
	unboot(master);
	return rc == 0 ? 0 : fail("seed: failed");
}

static int
cmd_retention(struct config *c, int argc, char **argv)
{
	int dry = argc == 2 && strcmp(argv[1], "--dry-run") == 0;
	struct cases_retention r;
	struct sec_master *master;
	struct db *db;
	enum pa_err rc;

	if (argc < 1 || strcmp(argv[0], "run") != 0 || (argc != 1 && !dry))
		return fail("usage: passerelle retention run [--dry-run]");
	if (boot(c, &master, 1, 1))
		return 1;
	if ((rc = db_acquire(&db)) == PA_OK) {
		rc = cases_retention_run(db, sop_current(), dry, stdout, &r);
		db_release(db);
	}
	unboot(master);
	return rc == PA_OK ? 0 : fail("retention run: failed (see above)");
}

static int
cmd_migrate(struct config *c, int argc, char **argv)
{
	enum db_schema_state st;
	char err[512] = "";
	int status = has_flag(argc, argv, "--status");

	if (unexpected(argc, argv, status))
		return 1;
	if (config_require(c, "database_url", err, sizeof(err)) != 0)
		return fail(err);
	if (status) {
		if (db_schema_check(c->database_url, (int)c->db_timeout, 1, &st,
			err, sizeof(err)) != PA_OK)
			return fail(err);
		if (st != DB_SCHEMA_CURRENT)
			return fail(err);
		printf("schema is current\n");
		return 0;
	}
	if (db_migrate(c->database_url, (int)c->db_timeout, err,
		sizeof(err)) != PA_OK)
		return fail(err);
	return 0;
}

static int
cmd_keygen(struct config *c, int argc, char **argv)
{
	char err[512];

	(void)c;
	if (argc != 2 || strcmp(argv[0], "--out") != 0)
		return fail("keygen: usage: passerelle keygen --out FILE");
	if (sec_keygen_file(argv[1], err, sizeof(err)) != 0)
		return fail(err);
	printf("wrote a new master key to %s (mode 0600); keep a copy apart "
	       "from the database backups\n", argv[1]);
	return 0;
}

/*
 * The SQL of one of the server's statements, as it prepares it: the
 * benchmark runs the case read's own statements under pgbench, beside the
 * read's row, to show the read's database work alone.
 */
static int
cmd_statement(struct config *c, int argc, char **argv)
{
	struct auth_settings as;
	const char *sql;

	(void)c;
	if (argc != 1)
		return fail("usage: passerelle statement NAME");
	memset(&as, 0, sizeof(as));	/* statements only: no session runs */
	modules_init(&as);
	if ((sql = db_stmt_sql(argv[0])) == NULL)
		return fail("no statement of that name");
	printf("%s\n", sql);
	return 0;
}

static const struct cmd cmds[] = {
	{ "serve", cmd_serve, "passerelle serve [settings]",
	    "Serves the API and the browser application until SIGTERM or "
	    "SIGINT.\nNeeds PASSERELLE_DATABASE_URL and PASSERELLE_KEY_FILE; "
	    "refuses to start on a\nschema that is not current." },
	{ "migrate", cmd_migrate, "passerelle migrate [--status] [settings]",
	    "Applies pending migrations (idempotent; safe while other servers "
	    "start).\n--status lists applied and pending migrations and exits "
	    "1 unless current." },
	{ "keygen", cmd_keygen, "passerelle keygen --out FILE",
	    "Writes a new random 32-byte master key to FILE with mode 0600; "
	    "never\noverwrites an existing file." },
	{ "org", cmd_org,
	    "passerelle org add --name NAME --kind KIND [--region CODE]",
	    "Creates an organisation and prints its id." },
	{ "user", cmd_user,
	    "passerelle user add --username NAME --role ROLE --organisation ID",
	    "Creates an account; reads its password from standard input "
	    "(one line)\nand prints the new id." },
	{ "audit", cmd_audit,
	    "passerelle audit verify [--checkpoints FILE] | audit checkpoint",
	    "verify recomputes every audit chain; exits 0 when intact, 1 "
	    "naming the\nfirst bad record. checkpoint prints every chain's "
	    "head, to keep away from\nthe database; verify --checkpoints "
	    "FILE then also fails when a chain was\ncut back since." },
	{ "sop", cmd_sop, "passerelle sop check FILE",
	    "Validates a SOP file; prints each problem with its JSON path and "
	    "exits 1\nwhen there is any." },
	{ "rotate-master-key", cmd_rotate,
	    "passerelle rotate-master-key --new-key-file FILE",
	    "Rewraps every case's data key under the key in FILE, in one "
	    "transaction\n(servers keep serving; writes of new keys wait). "
	    "Then restart every\nserver with FILE as PASSERELLE_KEY_FILE." },
	{ "retention", cmd_retention, "passerelle retention run [--dry-run]",
	    "Crypto-shreds the identity of every case closed for longer than "
	    "the SOP's\nretention_days_after_close (as an erasure: data key, "
	    "sealed fields and\nblind indexes go; clear categories stay for "
	    "statistics), each in its own\ntransaction with its audit record. "
	    "--dry-run lists the cases (id and\nclosing date) and changes "
	    "nothing. Idempotent: run it daily." },
	{ "statement", cmd_statement, "passerelle statement NAME",
	    "Prints the SQL of the server's prepared statement NAME (for "
	    "benchmarks:\nscripts/bench runs the case read's own statements "
	    "under pgbench)." },
	{ "seed", cmd_seed, "passerelle seed --demo | --synthetic N",
	    "--demo creates fictional organisations of every kind and one "
	    "account per\nrole, and prints them with their password "
	    "(idempotent). --synthetic N\nadds N fictional cases, encrypted "
	    "like real ones, for benchmarks." },
};

#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

static int
has_flag(int argc, char **argv, const char *flag)
{
	int i;

	for (i = 0; i < argc; i++)
		if (strcmp(argv[i], flag) == 0)
			return 1;
	return 0;
}

static void
usage(void)
{
	size_t i;

	printf("usage: passerelle COMMAND [options]\n\nCommands:\n");
	for (i = 0; i < NCMDS; i++)
		printf("  %-10s %s\n", cmds[i].name, cmds[i].usage);
	printf("\n  passerelle COMMAND --help   help on one command\n"
	       "  passerelle --version\n\n");
	config_usage();
}

int
main(int argc, char **argv)
{
	const struct cmd *cmd = NULL;
	struct config c;
	char err[512], **rest;
	int nrest, rc;
	size_t i;

	signal(SIGPIPE, SIG_IGN);
	if (sec_init() != 0)
		return fail("libsodium cannot start");
	jv_wipe_jansson();
	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		usage();
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("passerelle %s\n", PASSERELLE_VERSION);
		return 0;
	}
	for (i = 0; i < NCMDS; i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			cmd = &cmds[i];
	if (cmd == NULL) {
		snprintf(err, sizeof(err), "unknown command %s (see --help)",
		    argv[1]);
		return fail(err);
	}
	if (has_flag(argc - 2, argv + 2, "--help")) {
		printf("usage: %s\n\n%s\n\n", cmd->usage, cmd->help);
		config_usage();
		return 0;
	}
	if (has_flag(argc - 2, argv + 2, "--version")) {
		printf("passerelle %s\n", PASSERELLE_VERSION);
		return 0;
	}
	if ((rest = calloc((size_t)argc, sizeof(*rest))) == NULL)
		return fail("out of memory");
	if (config_load(&c, argc - 2, argv + 2, rest, &nrest, err,
		sizeof(err)) != 0) {
		config_free(&c);
		free(rest);
		return fail(err);
	}
	rc = cmd->fn(&c, nrest, rest);
	config_free(&c);
	free(rest);
	return rc;
}
