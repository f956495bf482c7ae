/*
 * The settings table and its parser. Every setting is a row: name, variable,
 * flag, type, default, bounds, help. Adding a setting is adding a row and a
 * member of struct config.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

enum cfg_type { CFG_STR, CFG_INT, CFG_BOOL, CFG_LISTEN };

struct cfg_row {
	const char *name;	/* also the flag, with '_' as '-' */
	const char *env;
	enum cfg_type type;
	size_t off;
	const char *def;
	long min, max;
	const char *help;
};

#define OFF(m) offsetof(struct config, m)

static const struct cfg_row cfg_rows[] = {
	{ "database_url", "PASSERELLE_DATABASE_URL", CFG_STR, OFF(database_url),
	    NULL, 0, 0, "libpq connection string or URI of the primary" },
	{ "replica_url", "PASSERELLE_REPLICA_URL", CFG_STR, OFF(replica_url),
	    NULL, 0, 0, "optional replica for statistics and exports" },
	{ "replica_max_lag", "PASSERELLE_REPLICA_MAX_LAG", CFG_INT,
	    OFF(replica_max_lag), "30", 1, 86400,
	    "seconds behind the primary beyond which the replica is not read" },
	{ "replica_pool_size", "PASSERELLE_REPLICA_POOL_SIZE", CFG_INT,
	    OFF(replica_pool_size), "0", 0, 1024,
	    "replica connections (0: a quarter of db_pool_size, at least 2)" },
	{ "listen", "PASSERELLE_LISTEN", CFG_LISTEN, OFF(listen),
	    "127.0.0.1:8080", 0, 0, "address and port to serve on (host:port)" },
	{ "key_file", "PASSERELLE_KEY_FILE", CFG_STR, OFF(key_file), NULL, 0, 0,
	    "master key file (32 bytes, mode 0600)" },
	{ "sop", "PASSERELLE_SOP", CFG_STR, OFF(sop), "sop/mali.json", 0, 0,
	    "SOP definition file" },
	{ "web_root", "PASSERELLE_WEB_ROOT", CFG_STR, OFF(web_root), "web", 0, 0,
	    "folder of the browser application" },
	{ "lib_root", "PASSERELLE_LIB_ROOT", CFG_STR, OFF(lib_root), NULL, 0, 0,
	    "installed npm packages the application uses (a fixed list of "
	    "their files is served under /lib/; default: node_modules next to "
	    "the web root)" },
	{ "tls_cert", "PASSERELLE_TLS_CERT", CFG_STR, OFF(tls_cert), NULL, 0, 0,
	    "PEM certificate chain: serve HTTPS (with tls_key)" },
	{ "tls_key", "PASSERELLE_TLS_KEY", CFG_STR, OFF(tls_key), NULL, 0, 0,
	    "PEM private key for tls_cert" },
	{ "threads", "PASSERELLE_THREADS", CFG_INT, OFF(threads), "0", 0, 1024,
	    "HTTP worker threads (0: four per core)" },
	{ "db_pool_size", "PASSERELLE_DB_POOL_SIZE", CFG_INT, OFF(db_pool_size),
	    "0", 0, 1024, "database connections (0: threads + 2)" },
	{ "db_timeout", "PASSERELLE_DB_TIMEOUT", CFG_INT, OFF(db_timeout), "10",
	    1, 600, "seconds to wait for a connection or a statement" },
	{ "max_body", "PASSERELLE_MAX_BODY", CFG_INT, OFF(max_body), "1048576",
	    1024, 64L * 1024 * 1024, "largest request body in bytes" },
	{ "connection_timeout", "PASSERELLE_CONNECTION_TIMEOUT", CFG_INT,
	    OFF(connection_timeout), "30", 1, 3600,
	    "seconds of client inactivity before a connection is closed" },
	{ "request_timeout", "PASSERELLE_REQUEST_TIMEOUT", CFG_INT,
	    OFF(request_timeout), "30", 1, 3600,
	    "seconds to receive a whole request, however slowly it comes" },
	{ "max_connections", "PASSERELLE_MAX_CONNECTIONS", CFG_INT,
	    OFF(max_connections), "1024", 16, 65535,
	    "open client connections at most" },
	{ "per_ip_connections", "PASSERELLE_PER_IP_CONNECTIONS", CFG_INT,
	    OFF(per_ip_connections), "64", 1, 65535,
	    "open connections from one client address at most" },
	{ "json_max_depth", "PASSERELLE_JSON_MAX_DEPTH", CFG_INT,
	    OFF(json_max_depth), "16", 2, 256, "deepest JSON nesting accepted" },
	{ "secure_cookies", "PASSERELLE_SECURE_COOKIES", CFG_BOOL,
	    OFF(secure_cookies), "false", 0, 1,
	    "mark cookies Secure (always on with TLS; set behind a TLS proxy)" },
	{ "trust_proxy", "PASSERELLE_TRUST_PROXY", CFG_BOOL, OFF(trust_proxy),
	    "false", 0, 1,
	    "take the client address from X-Forwarded-For (behind a proxy)" },
	{ "session_idle", "PASSERELLE_SESSION_IDLE", CFG_INT, OFF(session_idle),
	    "1800", 60, 86400, "seconds of inactivity that end a session" },
	{ "session_lifetime", "PASSERELLE_SESSION_LIFETIME", CFG_INT,
	    OFF(session_lifetime), "43200", 300, 604800,
	    "seconds after which a session ends whatever its use" },
	{ "argon2_ops", "PASSERELLE_ARGON2_OPS", CFG_INT, OFF(argon2_ops), "3",
	    2, 20, "Argon2id passes (time cost) for passwords" },
	{ "argon2_mem_kib", "PASSERELLE_ARGON2_MEM_KIB", CFG_INT,
	    OFF(argon2_mem_kib), "65536", 19456, 4194304,
	    "Argon2id memory per hash, in KiB" },
	{ "argon2_concurrency", "PASSERELLE_ARGON2_CONCURRENCY", CFG_INT,
	    OFF(argon2_concurrency), "0", 0, 256,
	    "password hashes running at once at most (0: cores - 1)" },
	{ "throttle_account", "PASSERELLE_THROTTLE_ACCOUNT", CFG_INT,
	    OFF(throttle_account), "10", 1, 10000,
	    "failed logins of one account name per window before 429" },
	{ "throttle_address", "PASSERELLE_THROTTLE_ADDRESS", CFG_INT,
	    OFF(throttle_address), "100", 1, 100000,
	    "failed logins from one client address per window before 429" },
	{ "throttle_window", "PASSERELLE_THROTTLE_WINDOW", CFG_INT,
	    OFF(throttle_window), "900", 10, 86400,
	    "seconds over which failed logins are counted" },
	{ "stats_k", "PASSERELLE_STATS_K", CFG_INT, OFF(stats_k), "5", 3, 100,
	    "statistics: counts from 1 to k-1 are suppressed" },
	{ "stats_freeze", "PASSERELLE_STATS_FREEZE", CFG_STR, OFF(stats_freeze),
	    "month", 0, 0,
	    "statistics count the cases opened before the current month "
	    "(month) or every case at once (none: tests only)" },
	{ "htcds_k", "PASSERELLE_HTCDS_K", CFG_INT, OFF(htcds_k), "11", 3, 1000,
	    "HTCDS export: rows shared by fewer cases are generalised or "
	    "dropped" },
};

#define NROWS (sizeof(cfg_rows) / sizeof(cfg_rows[0]))

static void
flag_of(const struct cfg_row *r, char *buf, size_t len)
{
	size_t i;

	snprintf(buf, len, "--%s", r->name);
	for (i = 2; buf[i] != '\0'; i++)
		if (buf[i] == '_')
			buf[i] = '-';
}

static int
parse_listen(struct config *c, const char *v, char *err, size_t errlen)
{
	const char *colon = strrchr(v, ':');
	char *end;
	long port;
	size_t hl;

	if (colon == NULL || colon == v)
		goto bad;
	if (colon[1] < '0' || colon[1] > '9')
		goto bad;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0' || colon[1] == '\0' || port < 0 ||
	    port > 65535)
		goto bad;
	hl = (size_t)(colon - v);
	if (v[0] == '[') {	/* [::1]:8080 */
		if (hl < 3 || v[hl - 1] != ']')
			goto bad;
		v++;
		hl -= 2;
	}
	free(c->listen_host);
	if ((c->listen_host = strndup(v, hl)) == NULL)
		goto bad;
	c->listen_port = (unsigned int)port;
	return 0;
bad:
	snprintf(err, errlen,
	    "PASSERELLE_LISTEN (--listen): expected host:port, e.g. 127.0.0.1:8080");
	return -1;
}

static int
set_value(struct config *c, const struct cfg_row *r, const char *v,
    char *err, size_t errlen)
{
	char flag[64];
	char *p = (char *)c + r->off;
	char *end;
	long n;

	flag_of(r, flag, sizeof(flag));
	switch (r->type) {
	case CFG_STR:
	case CFG_LISTEN:
		if (*v == '\0' && r->type == CFG_LISTEN)
			goto bad;
		free(*(char **)(void *)p);
		if ((*(char **)(void *)p = strdup(v)) == NULL)
			goto bad;
		if (r->type == CFG_LISTEN)
			return parse_listen(c, v, err, errlen);
		return 0;
	case CFG_INT:
		errno = 0;
		n = strtol(v, &end, 10);
		if (errno != 0 || end == v || *end != '\0' || n < r->min ||
		    n > r->max) {
			snprintf(err, errlen,
			    "%s (%s): expected a whole number from %ld to %ld",
			    r->env, flag, r->min, r->max);
			return -1;
		}
		*(long *)(void *)p = n;
		return 0;
	case CFG_BOOL:
		if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0 ||
		    strcmp(v, "yes") == 0 || strcmp(v, "on") == 0)
			*(int *)(void *)p = 1;
		else if (strcmp(v, "0") == 0 || strcmp(v, "false") == 0 ||
		    strcmp(v, "no") == 0 || strcmp(v, "off") == 0)
			*(int *)(void *)p = 0;
		else {
			snprintf(err, errlen, "%s (%s): expected true or false",
			    r->env, flag);
			return -1;
		}
		return 0;
	}
bad:
	snprintf(err, errlen, "%s (%s): invalid value", r->env, flag);
	return -1;
}

static const struct cfg_row *
row_by_flag(const char *arg, const char **value)
{
	char flag[64];
	size_t i, fl;

	for (i = 0; i < NROWS; i++) {
		flag_of(&cfg_rows[i], flag, sizeof(flag));
		fl = strlen(flag);
		if (strncmp(arg, flag, fl) != 0)
			continue;
		if (arg[fl] == '\0') {
			*value = NULL;
			return &cfg_rows[i];
		}
		if (arg[fl] == '=') {
			*value = arg + fl + 1;
			return &cfg_rows[i];
		}
	}
	return NULL;
}

int
config_load(struct config *c, int argc, char **argv, char **rest,
    int *nrest, char *err, size_t errlen)
{
	const struct cfg_row *r;
	const char *v;
	size_t i;
	long cores;
	int a;

	memset(c, 0, sizeof(*c));
	*nrest = 0;
	for (i = 0; i < NROWS; i++) {
		r = &cfg_rows[i];
		if ((v = getenv(r->env)) != NULL && *v != '\0') {
			if (set_value(c, r, v, err, errlen) != 0)
				return -1;
		} else if (r->def != NULL &&
		    set_value(c, r, r->def, err, errlen) != 0)
			return -1;
	}
	for (a = 0; a < argc; a++) {
		if ((r = row_by_flag(argv[a], &v)) == NULL) {
			rest[(*nrest)++] = argv[a];
			continue;
		}
		if (v == NULL && r->type == CFG_BOOL)
			v = "true";
		else if (v == NULL) {
			if (a + 1 >= argc) {
				snprintf(err, errlen, "%s needs a value",
				    argv[a]);
				return -1;
			}
			v = argv[++a];
		}
		if (set_value(c, r, v, err, errlen) != 0)
			return -1;
	}
	if ((c->tls_cert == NULL) != (c->tls_key == NULL)) {
		snprintf(err, errlen, "PASSERELLE_TLS_CERT and "
		    "PASSERELLE_TLS_KEY (--tls-cert, --tls-key) go together");
		return -1;
	}
	if (c->stats_freeze == NULL || (strcmp(c->stats_freeze, "month") != 0 &&
	    strcmp(c->stats_freeze, "none") != 0)) {
		snprintf(err, errlen, "PASSERELLE_STATS_FREEZE (--stats-freeze) "
		    "is month or none");
		return -1;
	}
	if (c->tls_cert != NULL)
		c->secure_cookies = 1;
	cores = sysconf(_SC_NPROCESSORS_ONLN);
	if (c->threads == 0) {
		c->threads = cores > 0 ? (cores > 64 ? 256 : cores * 4) : 4;
	}
	/* Leave a core to everything else: logins must not starve reads. */
	if (c->argon2_concurrency == 0)
		c->argon2_concurrency = cores > 1 ? cores - 1 : 1;
	if (c->db_pool_size == 0)
		c->db_pool_size = c->threads + 2;
	if (c->replica_pool_size == 0)
		c->replica_pool_size = c->db_pool_size / 4 < 2 ? 2 :
		    c->db_pool_size / 4;
	return 0;
}

void
config_free(struct config *c)
{
	size_t i;

	for (i = 0; i < NROWS; i++)
		if (cfg_rows[i].type == CFG_STR ||
		    cfg_rows[i].type == CFG_LISTEN) {
			free(*(char **)(void *)((char *)c + cfg_rows[i].off));
			*(char **)(void *)((char *)c + cfg_rows[i].off) = NULL;
		}
	free(c->listen_host);
	c->listen_host = NULL;
}

int
config_require(const struct config *c, const char *name, char *err,
    size_t errlen)
{
	char flag[64];
	size_t i;

	for (i = 0; i < NROWS; i++) {
		if (strcmp(cfg_rows[i].name, name) != 0 ||
		    (cfg_rows[i].type != CFG_STR &&
			cfg_rows[i].type != CFG_LISTEN))
			continue;
		if (*(char *const *)(const void *)((const char *)c +
		    cfg_rows[i].off) != NULL)
			return 0;
		flag_of(&cfg_rows[i], flag, sizeof(flag));
		snprintf(err, errlen, "%s (%s) is not set: %s", cfg_rows[i].env,
		    flag, cfg_rows[i].help);
		return -1;
	}
	snprintf(err, errlen, "unknown setting %s", name);
	return -1;
}

void
config_usage(void)
{
	char flag[64];
	size_t i;

	printf("Settings (environment variable, or flag; flags win):\n");
	for (i = 0; i < NROWS; i++) {
		flag_of(&cfg_rows[i], flag, sizeof(flag));
		printf("  %-30s %-24s %s%s%s%s\n", cfg_rows[i].env, flag,
		    cfg_rows[i].help, cfg_rows[i].def ? " [default: " : "",
		    cfg_rows[i].def ? cfg_rows[i].def : "",
		    cfg_rows[i].def ? "]" : "");
	}
}
