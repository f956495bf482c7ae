/*
 * passerelle: one binary, one subcommand per job. Every subcommand reads the
 * same settings (config.c); a missing or bad one stops it at once with one
 * line naming the setting.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "crypto/crypto.h"
#include "db/db.h"
#include "http/http.h"
#include "log.h"

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

static int
cmd_serve(struct config *c, int argc, char **argv)
{
	struct sec_master *master = NULL;
	enum db_schema_state st;
	char err[512];
	int rc;

	if (unexpected(argc, argv, 0))
		return 1;
	if (config_require(c, "database_url", err, sizeof(err)) != 0 ||
	    config_require(c, "key_file", err, sizeof(err)) != 0)
		return fail(err);
	if (sec_master_load(c->key_file, &master, err, sizeof(err)) != 0)
		return fail(err);
	if (db_schema_check(c->database_url, (int)c->db_timeout, 0, &st, err,
		sizeof(err)) != PA_OK) {
		sec_master_free(master);
		return fail(err);
	}
	if (st != DB_SCHEMA_CURRENT) {
		sec_master_free(master);
		return fail(err);
	}
	if (db_pool_open(c->database_url, (int)c->db_pool_size,
		(int)c->db_timeout, 1) != PA_OK) {
		sec_master_free(master);
		return fail("PASSERELLE_DATABASE_URL (--database-url): cannot "
			    "connect to the database");
	}
	rc = http_serve(c);
	db_pool_close();
	sec_master_free(master);
	return rc;
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
