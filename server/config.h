/*
 * Settings: one table (config.c) gives each setting its environment variable,
 * its flag, its type, default and bounds. The environment is read first, then
 * flags override it. A bad value stops start-up with one line naming the
 * setting. The struct is filled once in main() and read-only afterwards.
 */
#ifndef PA_CONFIG_H
#define PA_CONFIG_H

#include <stddef.h>

struct config {
	char *database_url;
	char *replica_url;
	long replica_max_lag;	/* seconds */
	long replica_pool_size;	/* resolved: never 0 after config_load */
	char *listen;		/* as given, e.g. "127.0.0.1:8080" */
	char *listen_host;	/* parsed from listen */
	unsigned int listen_port;
	char *key_file;
	char *sop;
	char *web_root;
	char *lib_root;		/* NULL: <web_root>/../node_modules */
	char *tls_cert;
	char *tls_key;
	long threads;		/* resolved: never 0 after config_load */
	long db_pool_size;	/* resolved: never 0 after config_load */
	long db_timeout;	/* seconds */
	long max_body;		/* bytes */
	long connection_timeout; /* seconds */
	long request_timeout;	/* seconds to receive a whole request */
	long max_connections;
	long per_ip_connections;
	long json_max_depth;
	int secure_cookies;
	int trust_proxy;
	long session_idle;	/* seconds */
	long session_lifetime;	/* seconds */
	long argon2_ops;
	long argon2_mem_kib;
	long argon2_concurrency; /* resolved: never 0 after config_load */
	long throttle_account;
	long throttle_address;
	long throttle_window;	/* seconds */
	long stats_k;		/* smallest published count */
	long htcds_k;		/* k-anonymity of the HTCDS export */
	char *stats_freeze;	/* "month" (cases opened before it) or "none" */
};

/*
 * Fills c from the environment and argv. Arguments that are not settings are
 * copied, in order, into rest (which must hold argc entries) and counted in
 * *nrest, for the subcommand to parse. On error writes one line into err and
 * returns -1; c must still be passed to config_free.
 */
int config_load(struct config *c, int argc, char **argv, char **rest,
    int *nrest, char *err, size_t errlen);
void config_free(struct config *c);

/* Fails with a line naming the variable and the flag when name is unset. */
int config_require(const struct config *c, const char *name, char *err,
    size_t errlen);

/* Prints every setting with its variable, flag, default and help. */
void config_usage(void);

#endif
