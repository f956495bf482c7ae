/*
 * Static files: static_open on a web root of our own, built in a private
 * temporary directory with traps around it (dot files, symbolic links out
 * and in, a symlinked directory, a FIFO, a secret next to the root), media
 * types, and strong ETags.
 *
 *   top/secret.txt            next to the root
 *   top/outside/other.txt
 *   top/web/index.html        the root
 *   top/web/app.js, style.css, data.json, logo.svg, pic.PNG, noext, x.bin
 *   top/web/sub/page.css, sub/deeper/file.txt
 *   top/web/.env, .git/config
 *   top/web/passwd.txt     -> /etc/passwd
 *   top/web/alias.html     -> index.html
 *   top/web/outlink        -> top/outside
 *   top/web/fifo            (a named pipe)
 *   top/web/emptydir/
 *
 * The library files (TCase "lib"), under a library root of our own:
 *   top/lib/uplot/dist/uPlot.iife.min.js, uPlot.min.css
 *   top/lib/uplot/dist/uPlot.esm.js  -> /etc/passwd
 *   top/lib/uplot/package.json, top/lib/other/dist/uPlot.min.css
 *   top/linked/uplot                 -> top/lib/uplot (a linked package)
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "http/internal.h"

static char top[64];
static int rootfd = -1;

static void
put(const char *rel, const char *text)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", top, rel);
	f = fopen(p, "w");
	ck_assert_msg(f != NULL, "%s: %s", p, strerror(errno));
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

static void
dir(const char *rel)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", top, rel);
	ck_assert_msg(mkdir(p, 0755) == 0, "%s: %s", p, strerror(errno));
}

static void
link_to(const char *target, const char *rel)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", top, rel);
	ck_assert_msg(symlink(target, p) == 0, "%s: %s", p, strerror(errno));
}

static void
tree_setup(void)
{
	char p[256];

	snprintf(top, sizeof(top), "/tmp/passerelle_static_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(top));
	put("secret.txt", "SECRET-NEXT-TO-ROOT\n");
	dir("outside");
	put("outside/other.txt", "SECRET-OUTSIDE\n");
	dir("web");
	put("web/index.html", "<!doctype html><p>index</p>\n");
	put("web/app.js", "export {};\n");
	put("web/style.css", "p {}\n");
	put("web/data.json", "{}\n");
	put("web/logo.svg", "<svg/>\n");
	put("web/pic.PNG", "png\n");
	put("web/noext", "plain\n");
	put("web/x.bin", "bin\n");
	dir("web/sub");
	put("web/sub/page.css", "/* page */\n");
	dir("web/sub/deeper");
	put("web/sub/deeper/file.txt", "deep\n");
	put("web/.env", "SECRET-ENV\n");
	dir("web/.git");
	put("web/.git/config", "SECRET-GIT\n");
	link_to("/etc/passwd", "web/passwd.txt");
	link_to("index.html", "web/alias.html");
	snprintf(p, sizeof(p), "%s/outside", top);
	link_to(p, "web/outlink");
	snprintf(p, sizeof(p), "%s/web/fifo", top);
	ck_assert_int_eq(mkfifo(p, 0644), 0);
	dir("web/emptydir");
	snprintf(p, sizeof(p), "%s/web", top);
	rootfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(rootfd, 0);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		(void)rmdir(path);
	else
		(void)unlink(path);
	return 0;
}

static void
tree_teardown(void)
{
	if (rootfd >= 0)
		close(rootfd);
	rootfd = -1;
	(void)nftw(top, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Reads an open file whole into buf (NUL-terminated); closes fd. */
static void
slurp(int fd, char *buf, size_t len)
{
	ssize_t n = read(fd, buf, len - 1);

	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
	close(fd);
}

static const struct {
	const char *path;
	const char *content; /* NULL: refused */
	const char *ctype;   /* prefix of the media type */
} opens[] = {
	{ "/", "<!doctype html><p>index</p>\n", "text/html" },
	{ "/index.html", "<!doctype html><p>index</p>\n", "text/html" },
	{ "/app.js", "export {};\n", "text/javascript" },
	{ "/style.css", "p {}\n", "text/css" },
	{ "/data.json", "{}\n", "application/json" },
	{ "/logo.svg", "<svg/>\n", "image/svg+xml" },
	{ "/pic.PNG", "png\n", "image/png" },
	{ "/noext", "plain\n", "application/octet-stream" },
	{ "/x.bin", "bin\n", "application/octet-stream" },
	{ "/sub/page.css", "/* page */\n", "text/css" },
	{ "/sub/deeper/file.txt", "deep\n", "text/plain" },
	{ "/ind%65x.html", "<!doctype html><p>index</p>\n", "text/html" },
	{ "/sub%2Fpage.css", NULL, NULL },
	{ "/sub%2fpage.css", NULL, NULL },
	{ "/sub%5Cpage.css", NULL, NULL },
	{ "/../secret.txt", NULL, NULL },
	{ "/..", NULL, NULL },
	{ "/%2e%2e/secret.txt", NULL, NULL },
	{ "/%2E%2E/secret.txt", NULL, NULL },
	{ "/.%2e/secret.txt", NULL, NULL },
	{ "/%2e%2e%2fsecret.txt", NULL, NULL },
	{ "/sub/../index.html", NULL, NULL },
	{ "/sub/../../secret.txt", NULL, NULL },
	{ "/sub/%2e%2e/%2e%2e/secret.txt", NULL, NULL },
	{ "/./index.html", NULL, NULL },
	{ "/.env", NULL, NULL },
	{ "/%2eenv", NULL, NULL },
	{ "/.git/config", NULL, NULL },
	{ "/.git", NULL, NULL },
	{ "/passwd.txt", NULL, NULL },
	{ "/alias.html", NULL, NULL },
	{ "/outlink/other.txt", NULL, NULL },
	{ "/outlink", NULL, NULL },
	{ "/fifo", NULL, NULL },
	{ "/sub", NULL, NULL },
	{ "/sub/", NULL, NULL },
	{ "/emptydir", NULL, NULL },
	{ "/emptydir/", NULL, NULL },
	{ "//index.html", NULL, NULL },
	{ "/sub//page.css", NULL, NULL },
	{ "/index.html/", NULL, NULL },
	{ "/index.html%00", NULL, NULL },
	{ "/index.html%00.css", NULL, NULL },
	{ "/%00", NULL, NULL },
	{ "/index%zz.html", NULL, NULL },
	{ "/index.html%", NULL, NULL },
	{ "/missing.html", NULL, NULL },
	{ "/sub/missing.css", NULL, NULL },
	{ "/missing/file.css", NULL, NULL },
	{ "index.html", NULL, NULL },
	{ "", NULL, NULL },
};

START_TEST(test_static_open_table)
{
	const char *ctype = NULL;
	struct stat st;
	char buf[256];
	int fd = -2, rc;

	rc = static_open(rootfd, opens[_i].path, &fd, &st, &ctype);
	if (opens[_i].content == NULL) {
		ck_assert_msg(rc == -1, "%s: served", opens[_i].path);
		ck_assert_msg(fd == -1, "%s: fd %d left", opens[_i].path, fd);
		return;
	}
	ck_assert_msg(rc == 0, "%s: refused", opens[_i].path);
	ck_assert_int_ge(fd, 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_int_eq(st.st_size, (off_t)strlen(opens[_i].content));
	ck_assert_ptr_nonnull(ctype);
	ck_assert_msg(
	    strncmp(ctype, opens[_i].ctype, strlen(opens[_i].ctype)) == 0,
	    "%s: %s", opens[_i].path, ctype);
	slurp(fd, buf, sizeof(buf));
	ck_assert_str_eq(buf, opens[_i].content);
}
END_TEST

START_TEST(test_static_open_refuses_long_paths)
{
	char *path = malloc(ROUTER_MAX_PATH + 2);
	const char *ctype;
	struct stat st;
	int fd;

	ck_assert_ptr_nonnull(path);
	path[0] = '/';
	memset(path + 1, 'a', ROUTER_MAX_PATH);
	path[ROUTER_MAX_PATH + 1] = '\0';
	ck_assert_int_eq(static_open(rootfd, path, &fd, &st, &ctype), -1);
	/* One segment longer than any file name. */
	path[300] = '\0';
	ck_assert_int_eq(static_open(rootfd, path, &fd, &st, &ctype), -1);
	ck_assert_int_eq(static_open(rootfd, NULL, &fd, &st, &ctype), -1);
	free(path);
}
END_TEST

START_TEST(test_static_open_leaks_no_descriptor)
{
	const char *ctype;
	struct stat st;
	int fd, probe, before, i;

	before = open("/dev/null", O_RDONLY);
	ck_assert_int_ge(before, 0);
	close(before);
	for (i = 0; i < (int)(sizeof(opens) / sizeof(opens[0])); i++)
		if (static_open(rootfd, opens[i].path, &fd, &st, &ctype) == 0)
			close(fd);
	probe = open("/dev/null", O_RDONLY);
	ck_assert_int_eq(probe, before); /* the lowest free slot again */
	close(probe);
}
END_TEST

static const struct {
	const char *name;
	const char *type;
} types[] = {
	{ "a.html", "text/html; charset=utf-8" },
	{ "a.HTML", "text/html; charset=utf-8" },
	{ "a.js", "text/javascript; charset=utf-8" },
	{ "a.mjs", "text/javascript; charset=utf-8" },
	{ "a.css", "text/css; charset=utf-8" },
	{ "a.json", "application/json; charset=utf-8" },
	{ "a.svg", "image/svg+xml" },
	{ "a.png", "image/png" },
	{ "a.jpg", "image/jpeg" },
	{ "a.woff2", "font/woff2" },
	{ "a.txt", "text/plain; charset=utf-8" },
	{ "a.tar.gz", "application/octet-stream" },
	{ "a.html.exe", "application/octet-stream" },
	{ "noext", "application/octet-stream" },
	{ "a.", "application/octet-stream" },
	{ "a.htm", "application/octet-stream" },
	{ "a.xhtml", "application/octet-stream" },
};

START_TEST(test_static_content_type_table)
{
	ck_assert_str_eq(static_content_type(types[_i].name), types[_i].type);
}
END_TEST

START_TEST(test_static_etag_changes_when_file_changes)
{
	char p[256], e1[96], e2[96], e3[96], e4[96];
	struct timespec times[2];
	struct stat st;
	int fd;

	snprintf(p, sizeof(p), "%s/web/etag.txt", top);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "one\n", 4), 4);
	times[0].tv_sec = times[1].tv_sec = 1700000000;
	times[0].tv_nsec = times[1].tv_nsec = 0;
	ck_assert_int_eq(futimens(fd, times), 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	static_etag(&st, e1, sizeof(e1));
	ck_assert_msg(e1[0] == '"' && e1[strlen(e1) - 1] == '"' &&
	                  strlen(e1) > 2,
	    "not a strong ETag: %s", e1);
	static_etag(&st, e2, sizeof(e2));
	ck_assert_str_eq(e1, e2); /* the same file, the same tag */

	/* Same size, same time, other content: a new mtime at least. */
	ck_assert_int_eq(pwrite(fd, "two\n", 4, 0), 4);
	times[0].tv_sec = times[1].tv_sec = 1700000001;
	ck_assert_int_eq(futimens(fd, times), 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	static_etag(&st, e2, sizeof(e2));
	ck_assert_str_ne(e1, e2);

	/* Another size, the time put back. */
	ck_assert_int_eq(write(fd, "three\n", 6), 6);
	times[0].tv_sec = times[1].tv_sec = 1700000000;
	ck_assert_int_eq(futimens(fd, times), 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	static_etag(&st, e3, sizeof(e3));
	ck_assert_str_ne(e1, e3);
	ck_assert_str_ne(e2, e3);

	/* A change within the same second. */
	times[0].tv_nsec = times[1].tv_nsec = 500000000;
	ck_assert_int_eq(futimens(fd, times), 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	static_etag(&st, e4, sizeof(e4));
	ck_assert_str_ne(e3, e4);
	close(fd);
	unlink(p);
}
END_TEST

START_TEST(test_static_etag_differs_between_files)
{
	const char *ctype;
	struct stat a, b;
	char ea[96], eb[96];
	int fa, fb;

	ck_assert_int_eq(static_open(rootfd, "/app.js", &fa, &a, &ctype), 0);
	ck_assert_int_eq(static_open(rootfd, "/style.css", &fb, &b, &ctype), 0);
	static_etag(&a, ea, sizeof(ea));
	static_etag(&b, eb, sizeof(eb));
	ck_assert_str_ne(ea, eb);
	close(fa);
	close(fb);
}
END_TEST

static int libfd = -1, linkedfd = -1;

static void
lib_setup(void)
{
	char p[256];

	snprintf(top, sizeof(top), "/tmp/passerelle_lib_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(top));
	dir("lib");
	dir("lib/uplot");
	dir("lib/uplot/dist");
	put("lib/uplot/dist/uPlot.iife.min.js", "var uPlot=1;\n");
	put("lib/uplot/dist/uPlot.min.css", ".uplot{}\n");
	link_to("/etc/passwd", "lib/uplot/dist/uPlot.esm.js");
	put("lib/uplot/package.json", "{\"name\":\"uplot\"}\n");
	dir("lib/other");
	dir("lib/other/dist");
	put("lib/other/dist/uPlot.min.css", "SECRET-OTHER\n");
	dir("linked");
	snprintf(p, sizeof(p), "%s/lib/uplot", top);
	link_to(p, "linked/uplot");
	snprintf(p, sizeof(p), "%s/lib", top);
	libfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(libfd, 0);
	snprintf(p, sizeof(p), "%s/linked", top);
	linkedfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(linkedfd, 0);
}

static void
lib_teardown(void)
{
	if (libfd >= 0)
		close(libfd);
	if (linkedfd >= 0)
		close(linkedfd);
	libfd = linkedfd = -1;
	(void)nftw(top, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static const struct {
	const char *path;
	const char *content; /* NULL: refused */
	const char *ctype;
} lib_opens[] = {
	{ "/lib/uplot/uPlot.iife.min.js", "var uPlot=1;\n", "text/javascript" },
	{ "/lib/uplot/uPlot.min.css", ".uplot{}\n", "text/css" },
	{ "/lib/uplot/uPlot.esm.js", NULL, NULL },	/* a symbolic link */
	{ "/lib/uplot/package.json", NULL, NULL },	/* not on the list */
	{ "/lib/uplot/dist/uPlot.min.css", NULL, NULL },
	{ "/lib/other/uPlot.min.css", NULL, NULL },
	{ "/lib/other/dist/uPlot.min.css", NULL, NULL },
	{ "/lib/uplot/uPlot%2emin.css", NULL, NULL },
	{ "/lib/uplot/uPlot.min.css/", NULL, NULL },
	{ "/lib/uplot/uPlot.min.css%00", NULL, NULL },
	{ "/lib/uplot/../uplot/uPlot.min.css", NULL, NULL },
	{ "/lib/../lib/uplot/uPlot.min.css", NULL, NULL },
	{ "/lib/UPLOT/uPlot.min.css", NULL, NULL },
	{ "/lib//uplot/uPlot.min.css", NULL, NULL },
	{ "/lib/", NULL, NULL },
	{ "/lib/uplot", NULL, NULL },
	{ "/uplot/dist/uPlot.min.css", NULL, NULL },
	{ "lib/uplot/uPlot.min.css", NULL, NULL },
	{ "", NULL, NULL },
};

START_TEST(test_static_lib_open_table)
{
	const char *ctype = NULL;
	struct stat st;
	char buf[256];
	int fd = -2, rc;

	rc = static_lib_open(libfd, lib_opens[_i].path, &fd, &st, &ctype);
	if (lib_opens[_i].content == NULL) {
		ck_assert_msg(rc == -1, "%s: served", lib_opens[_i].path);
		ck_assert_msg(fd == -1, "%s: fd %d left", lib_opens[_i].path,
		    fd);
		return;
	}
	ck_assert_msg(rc == 0, "%s: refused", lib_opens[_i].path);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_msg(strncmp(ctype, lib_opens[_i].ctype,
	                  strlen(lib_opens[_i].ctype)) == 0,
	    "%s: %s", lib_opens[_i].path, ctype);
	slurp(fd, buf, sizeof(buf));
	ck_assert_str_eq(buf, lib_opens[_i].content);
}
END_TEST

START_TEST(test_static_lib_refuses_a_linked_package_and_no_root)
{
	const char *ctype;
	struct stat st;
	int fd = -2, probe, before;

	before = open("/dev/null", O_RDONLY);
	ck_assert_int_ge(before, 0);
	close(before);
	ck_assert_int_eq(static_lib_open(linkedfd,
	    "/lib/uplot/uPlot.min.css", &fd, &st, &ctype), -1);
	ck_assert_int_eq(fd, -1);
	ck_assert_int_eq(static_lib_open(-1, "/lib/uplot/uPlot.min.css", &fd,
	    &st, &ctype), -1);
	ck_assert_int_eq(static_lib_open(libfd, NULL, &fd, &st, &ctype), -1);
	probe = open("/dev/null", O_RDONLY);
	ck_assert_int_eq(probe, before);	/* nothing left open */
	close(probe);
	/* The folder the list lives in, and only it. */
	ck_assert_int_eq(static_lib_path("/lib/uplot/uPlot.min.css"), 1);
	ck_assert_int_eq(static_lib_path("/lib/anything"), 1);
	ck_assert_int_eq(static_lib_path("/lib"), 0);
	ck_assert_int_eq(static_lib_path("/library.js"), 0);
	ck_assert_int_eq(static_lib_path("/app.js"), 0);
	ck_assert_int_eq(static_lib_path(NULL), 0);
}
END_TEST

static Suite *
static_suite(void)
{
	Suite *s = suite_create("static");
	TCase *tc;

	tc = tcase_create("open");
	tcase_add_unchecked_fixture(tc, tree_setup, tree_teardown);
	tcase_add_loop_test(tc, test_static_open_table, 0,
	    (int)(sizeof(opens) / sizeof(opens[0])));
	tcase_add_test(tc, test_static_open_refuses_long_paths);
	tcase_add_test(tc, test_static_open_leaks_no_descriptor);
	tcase_add_test(tc, test_static_etag_changes_when_file_changes);
	tcase_add_test(tc, test_static_etag_differs_between_files);
	suite_add_tcase(s, tc);

	tc = tcase_create("lib");
	tcase_add_unchecked_fixture(tc, lib_setup, lib_teardown);
	tcase_add_loop_test(tc, test_static_lib_open_table, 0,
	    (int)(sizeof(lib_opens) / sizeof(lib_opens[0])));
	tcase_add_test(tc, test_static_lib_refuses_a_linked_package_and_no_root);
	suite_add_tcase(s, tc);

	tc = tcase_create("types");
	tcase_add_loop_test(tc, test_static_content_type_table, 0,
	    (int)(sizeof(types) / sizeof(types[0])));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(static_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
