/*
 * Static files of the browser application. The path is resolved one
 * segment at a time with openat(2) and O_NOFOLLOW from a descriptor of the
 * web root, so neither "..", an encoded slash nor a symbolic link can lead
 * outside it. Dot files are never served.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "internal.h"

static const struct {
	const char *ext;
	const char *type;
} types[] = {
	{ "html", "text/html; charset=utf-8" },
	{ "js", "text/javascript; charset=utf-8" },
	{ "mjs", "text/javascript; charset=utf-8" },
	{ "css", "text/css; charset=utf-8" },
	{ "json", "application/json; charset=utf-8" },
	{ "map", "application/json; charset=utf-8" },
	{ "webmanifest", "application/manifest+json" },
	{ "svg", "image/svg+xml" },
	{ "png", "image/png" },
	{ "jpg", "image/jpeg" },
	{ "jpeg", "image/jpeg" },
	{ "ico", "image/x-icon" },
	{ "woff2", "font/woff2" },
	{ "txt", "text/plain; charset=utf-8" },
};

const char *
static_content_type(const char *name)
{
	const char *dot = strrchr(name, '.');
	size_t i;

	if (dot != NULL)
		for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (strcasecmp(dot + 1, types[i].ext) == 0)
				return types[i].type;
	return "application/octet-stream";
}

void
static_etag(const struct stat *st, char *buf, size_t len)
{
	snprintf(buf, len, "\"%llx-%llx-%llx-%lx\"",
	    (unsigned long long)st->st_ino, (unsigned long long)st->st_size,
	    (unsigned long long)st->st_mtim.tv_sec,
	    (unsigned long)st->st_mtim.tv_nsec);
}

int
static_open(int rootfd, const char *path, int *fd, struct stat *st,
    const char **ctype)
{
	char seg[256], last[256];
	const char *p, *e;
	int dfd, nfd;
	size_t len;

	*fd = -1;
	if (path == NULL || path[0] != '/' || strlen(path) > ROUTER_MAX_PATH)
		return -1;
	if (strcmp(path, "/") == 0)
		path = "/index.html";
	if ((dfd = dup(rootfd)) < 0)
		return -1;
	p = path + 1;
	for (;;) {
		e = p + strcspn(p, "/");
		len = (size_t)(e - p);
		if (len == 0 || router_segment_decode(p, len, seg,
		    sizeof(seg)) != 0 || seg[0] == '.')
			goto fail;
		if (*e == '\0')
			break;
		nfd = openat(dfd, seg, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		close(dfd);
		if ((dfd = nfd) < 0)
			return -1;
		p = e + 1;
	}
	memcpy(last, seg, sizeof(last));
	nfd = openat(dfd, last, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	close(dfd);
	if (nfd < 0)
		return -1;
	if (fstat(nfd, st) != 0 || !S_ISREG(st->st_mode)) {
		close(nfd);
		return -1;
	}
	*fd = nfd;
	*ctype = static_content_type(last);
	return 0;
fail:
	close(dfd);
	return -1;
}

/*
 * Files of the npm packages the application uses, served from the library
 * root (PASSERELLE_LIB_ROOT: the installed node_modules), so that nothing is
 * copied into web/ by hand. Only this list: every other path under /lib/ is
 * refused, so no other file of node_modules can be asked for.
 */
static const struct {
	const char *path;		/* the request path, exactly */
	const char *const seg[3];	/* its place under the library root */
} libs[] = {
	{ "/lib/uplot/uPlot.iife.min.js",
	    { "uplot", "dist", "uPlot.iife.min.js" } },
	{ "/lib/uplot/uPlot.esm.js", { "uplot", "dist", "uPlot.esm.js" } },
	{ "/lib/uplot/uPlot.min.css", { "uplot", "dist", "uPlot.min.css" } },
};

int
static_lib_path(const char *path)
{
	return path != NULL && strncmp(path, "/lib/", 5) == 0;
}

int
static_lib_open(int libfd, const char *path, int *fd, struct stat *st,
    const char **ctype)
{
	size_t i, s, nseg = sizeof(libs[0].seg) / sizeof(libs[0].seg[0]);
	int dfd, nfd;

	*fd = -1;
	if (libfd < 0 || path == NULL)
		return -1;
	for (i = 0; i < sizeof(libs) / sizeof(libs[0]); i++)
		if (strcmp(path, libs[i].path) == 0)
			break;
	if (i == sizeof(libs) / sizeof(libs[0]))
		return -1;
	if ((dfd = dup(libfd)) < 0)
		return -1;
	/* The same care as the web root: no symbolic link on the way. */
	for (s = 0; s + 1 < nseg; s++) {
		nfd = openat(dfd, libs[i].seg[s], O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC);
		close(dfd);
		if ((dfd = nfd) < 0)
			return -1;
	}
	nfd = openat(dfd, libs[i].seg[nseg - 1], O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC | O_NONBLOCK);
	close(dfd);
	if (nfd < 0)
		return -1;
	if (fstat(nfd, st) != 0 || !S_ISREG(st->st_mode)) {
		close(nfd);
		return -1;
	}
	*fd = nfd;
	*ctype = static_content_type(libs[i].seg[nseg - 1]);
	return 0;
}
