/*
 * Fuzz target: the router, path segment decoding and static files.
 *
 * The input is "METHOD PATH" (no space: the whole input is a GET's path).
 * router_match on the application's routes, router_segment_decode of the
 * whole path into buffers of exact sizes, and static_open on a web root made
 * once in a private temporary folder, with traps around it:
 *
 *   top/secret.txt           next to the root
 *   top/web/index.html       the root
 *   top/web/app.js, sub/page.html, sub/deeper/file.txt
 *   top/web/.env, sub/.hidden
 *   top/web/passwd.txt    -> /etc/passwd
 *   top/web/up            -> top (a directory outside, through a link)
 *   top/web/fifo             (a named pipe: must not block)
 *
 * Aborts when static_open opens anything whose real path is not under the
 * root, anything but a regular file, a dot file, or leaks a descriptor;
 * when the router answers something inconsistent; or when a decoded
 * segment holds '/', '\\' or NUL.
 */
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http/internal.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

static char top[PATH_MAX];
static char root[PATH_MAX];	/* real path of top/web, with a final '/' */
static size_t rootlen;
static int rootfd = -1;

static void
die(const char *what)
{
	perror(what);
	abort();
}

static void
put(const char *rel, const char *text)
{
	char p[PATH_MAX];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", top, rel);
	if ((f = fopen(p, "w")) == NULL)
		die(p);
	fputs(text, f);
	fclose(f);
}

static void
dir(const char *rel)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", top, rel);
	if (mkdir(p, 0700) != 0)
		die(p);
}

static void
link_to(const char *target, const char *rel)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", top, rel);
	if (symlink(target, p) != 0)
		die(p);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
cleanup(void)
{
	if (rootfd >= 0)
		close(rootfd);
	rootfd = -1;
	if (top[0] != '\0')
		nftw(top, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	top[0] = '\0';
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");
	char p[PATH_MAX];

	(void)argc;
	(void)argv;
	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	snprintf(top, sizeof(top), "%s/passerelle_fuzz_router.XXXXXX", tmp);
	if (mkdtemp(top) == NULL)
		die(top);
	atexit(cleanup);
	put("secret.txt", "outside the root\n");
	dir("web");
	put("web/index.html", "<!doctype html><title>t</title>\n");
	put("web/app.js", "\"use strict\";\n");
	dir("web/sub");
	put("web/sub/page.html", "<p>sub</p>\n");
	dir("web/sub/deeper");
	put("web/sub/deeper/file.txt", "deeper\n");
	put("web/.env", "SECRET=1\n");
	put("web/sub/.hidden", "hidden\n");
	link_to("/etc/passwd", "web/passwd.txt");
	link_to(top, "web/up");
	snprintf(p, sizeof(p), "%s/web/fifo", top);
	if (mkfifo(p, 0600) != 0)
		die(p);

	snprintf(p, sizeof(p), "%s/web", top);
	if (realpath(p, root) == NULL)
		die(p);
	rootlen = strlen(root);
	if (rootlen + 1 >= sizeof(root))
		abort();
	root[rootlen++] = '/';
	root[rootlen] = '\0';
	if ((rootfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		die(p);
	return 0;
}

/* The lowest free descriptor: it moves when a call leaks one. */
static int
lowest_free_fd(void)
{
	int fd = dup(0);

	if (fd < 0)
		die("dup");
	close(fd);
	return fd;
}

static void
check_static(const char *path)
{
	char link[64], real[PATH_MAX];
	const char *ctype = NULL;
	const char *base;
	struct stat st;
	int fd = -1, before, rc;
	ssize_t n;

	before = lowest_free_fd();
	rc = static_open(rootfd, path, &fd, &st, &ctype);
	if (rc == 0) {
		if (fd < 0 || ctype == NULL || !S_ISREG(st.st_mode))
			abort();
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		if ((n = readlink(link, real, sizeof(real) - 1)) < 0)
			die(link);
		real[n] = '\0';
		if (strncmp(real, root, rootlen) != 0) {
			fprintf(stderr, "fuzz_router: static_open(\"%s\") "
			    "opened %s, outside %s\n", path, real, root);
			abort();
		}
		base = strrchr(real, '/') + 1;
		if (base[0] == '.' || strstr(real + rootlen, "/.") != NULL) {
			fprintf(stderr, "fuzz_router: static_open(\"%s\") "
			    "opened a dot file %s\n", path, real);
			abort();
		}
		close(fd);
	} else if (rc != -1 || fd != -1)
		abort();
	if (lowest_free_fd() != before) {
		fprintf(stderr, "fuzz_router: static_open(\"%s\") leaked a "
		    "descriptor\n", path);
		abort();
	}
}

static void
check_route(const char *method, const char *path)
{
	const struct route *rt = NULL;
	const char *params[ROUTER_MAX_PARAMS];
	char buf[512], allow[64];	/* as in struct req */
	enum router_match m;
	int np = -1, i;

	m = router_match(http_routes, http_nroutes, method, path, &rt, params,
	    &np, buf, sizeof(buf), allow, sizeof(allow));
	switch (m) {
	case ROUTER_FOUND:
		if (rt == NULL || rt < http_routes ||
		    rt >= http_routes + http_nroutes ||
		    np < 0 || np > ROUTER_MAX_PARAMS)
			abort();
		if (strcmp(rt->method, method) != 0 &&
		    !(strcmp(method, "HEAD") == 0 &&
			strcmp(rt->method, "GET") == 0))
			abort();
		for (i = 0; i < np; i++) {
			if (params[i] < buf || params[i] >= buf + sizeof(buf) ||
			    memchr(params[i], '\0',
				(size_t)(buf + sizeof(buf) - params[i])) ==
				NULL)
				abort();
			if (params[i][0] == '\0' ||
			    strpbrk(params[i], "/\\") != NULL)
				abort();
		}
		break;
	case ROUTER_NO_METHOD:
		if (rt != NULL || memchr(allow, '\0', sizeof(allow)) == NULL ||
		    allow[0] == '\0')
			abort();
		break;
	case ROUTER_NO_PATH:
	case ROUTER_BAD_PATH:
		if (rt != NULL)
			abort();
		break;
	default:
		abort();
	}
	(void)router_method_known(method);
}

/* Decodes s into a heap buffer of exactly outlen bytes (ASan bounds it). */
static void
check_decode(const char *s, size_t len, size_t outlen)
{
	char *out = malloc(outlen);

	if (out == NULL)
		abort();
	if (router_segment_decode(s, len, out, outlen) == 0) {
		if (memchr(out, '\0', outlen) == NULL ||
		    strpbrk(out, "/\\") != NULL)
			abort();
		if (strlen(out) > len)
			abort();
	}
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const char *method;
	char *text, *path, *sp;
	size_t plen;

	if ((text = malloc(len + 1)) == NULL)
		return 0;
	memcpy(text, data, len);
	text[len] = '\0';
	if ((sp = strchr(text, ' ')) != NULL) {
		*sp = '\0';
		method = text;
		path = sp + 1;
	} else {
		method = "GET";
		path = text;
	}
	plen = strlen(path);

	check_route(method, path);
	check_decode(path, plen, 1);
	check_decode(path, plen, plen / 2 + 1);
	check_decode(path, plen, plen + 1);
	check_static(path);
	free(text);
	return 0;
}
