/*
 * crypto/: key files and the master key, the key ring and its subkeys,
 * cases' data keys (wrapping, binding to the case, rotation), field sealing
 * (associated data naming table, column and row), session and CSRF tokens,
 * blind indexes, the audit-chain hash, UUIDs and password hashing.
 *
 * Every test runs in its own process (Check forks), in a directory of its
 * own under one temporary directory per TCase; keys are made with
 * sec_keygen_file and loaded with sec_master_load, as the server does. The
 * ring is global: tests that switch masters call sec_ring_cleanup first.
 * The blind-index and audit keys are stored keys (sec_stored_*), installed
 * into the ring as the server does at start.
 *
 * The on-disk formats are a contract (docs/crypto.md: rows written today
 * must open after an upgrade), so some tests redo them with libsodium.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>
#include <sodium.h>

#include "crypto/crypto.h"

#define CASE_A "6f1c1e0e-4a57-4d8a-9a0c-1b2c3d4e5f60"
#define CASE_B "0b7e2f4a-93c1-4e55-8d2b-7a6c5e4d3f21"
#define ROW_A "3d9a8c7b-6e5f-4a3b-9c2d-1e0f9a8b7c6d"
#define ROW_B "3d9a8c7b-6e5f-4a3b-9c2d-1e0f9a8b7c6e"
#define TABLE "case_fields"
#define COLUMN "victim.given_name"
#define WRAP_LEN (1 + 4 + 24 + 32 + 16)
#define SEAL_OVERHEAD (2 + 24 + 16)

static char top[64];  /* one per TCase, made in the parent */
static char dir[128]; /* one per test, inside top */

/* Set up by ring_setup: two masters, the ring built from ma, and the
 * stored blind-index and audit keys, wrapped under ma and installed. */
static struct sec_master *ma, *mb;
static unsigned char *wblind, *waudit;
static size_t wblind_len, waudit_len;
/* Set up by case_setup: a case key of CASE_A and its wrapped form. */
static struct sec_case_key *ck;
static unsigned char *wrapped;
static size_t wlen;

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
top_setup(void)
{
	snprintf(top, sizeof(top), "/tmp/passerelle_crypto_XXXXXX");
	if (mkdtemp(top) == NULL) {
		perror("mkdtemp");
		abort();
	}
}

static void
top_teardown(void)
{
	(void)nftw(top, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
dir_setup(void)
{
	ck_assert_int_eq(sec_init(), 0);
	snprintf(dir, sizeof(dir), "%s/tXXXXXX", top);
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
path_in(char *out, size_t len, const char *name)
{
	int n = snprintf(out, len, "%s/%s", dir, name);

	ck_assert(n > 0 && (size_t)n < len);
}

/* A new key file named name, loaded. */
static struct sec_master *
master_new(const char *name)
{
	char p[256], err[256];
	struct sec_master *m = NULL;

	path_in(p, sizeof(p), name);
	ck_assert_msg(sec_keygen_file(p, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(sec_master_load(p, &m, err, sizeof(err)) == 0, "%s", err);
	ck_assert_ptr_nonnull(m);
	return m;
}

/* Reads a whole key file (at most len bytes); returns its size. */
static size_t
file_read(const char *p, unsigned char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(p, O_RDONLY);
	ck_assert_msg(fd >= 0, "%s: %s", p, strerror(errno));
	n = read(fd, buf, len);
	ck_assert_int_ge(n, 0);
	close(fd);
	return (size_t)n;
}

static void
file_put(const char *p, const void *buf, size_t len, mode_t mode)
{
	int fd;

	fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_msg(fd >= 0, "%s: %s", p, strerror(errno));
	ck_assert_int_eq(write(fd, buf, len), (ssize_t)len);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	ck_assert_int_eq(close(fd), 0);
}

static void
ring_use(const struct sec_master *m)
{
	sec_ring_cleanup();
	ck_assert_int_eq(sec_ring_init(m), 0);
}

static void
install(enum sec_stored which, const unsigned char *w, size_t len)
{
	ck_assert_int_eq(sec_stored_install(which, w, len), PA_OK);
}

static void
ring_setup(void)
{
	dir_setup();
	ma = master_new("a.key");
	mb = master_new("b.key");
	ring_use(ma);
	ck_assert_int_eq(sec_stored_new(SEC_STORED_BLIND, &wblind, &wblind_len),
	    PA_OK);
	ck_assert_int_eq(sec_stored_new(SEC_STORED_AUDIT, &waudit, &waudit_len),
	    PA_OK);
	install(SEC_STORED_BLIND, wblind, wblind_len);
	install(SEC_STORED_AUDIT, waudit, waudit_len);
}

static void
ring_teardown(void)
{
	sec_ring_cleanup(); /* the ring borrows its master */
	sec_master_free(ma);
	sec_master_free(mb);
	free(wblind);
	free(waudit);
	ma = mb = NULL;
	wblind = waudit = NULL;
}

/*
 * docs/crypto.md, by hand: the wrapping subkey is crypto_kdf id 1 of the
 * master key with context "passrlle"; a wrapped key is 0x01, key id (4),
 * nonce (24), XChaCha20-Poly1305-IETF of the key with associated data
 * "case_key:v1:<case id>:<key id>".
 */
static void
master_bytes(const char *name, unsigned char key[SEC_KEY_BYTES])
{
	unsigned char buf[64];
	char p[256];

	path_in(p, sizeof(p), name);
	ck_assert_uint_eq(file_read(p, buf, sizeof(buf)), SEC_KEY_BYTES);
	memcpy(key, buf, SEC_KEY_BYTES);
}

static void
unwrap_by_hand(const char *keyfile, const char *case_id, const unsigned char *w,
    size_t len, unsigned char out[32])
{
	unsigned char master[SEC_KEY_BYTES], wk[32];
	unsigned long long outlen;
	char ad[200];
	int n;

	ck_assert_uint_eq(len, WRAP_LEN);
	ck_assert_uint_eq(w[0], 0x01);
	master_bytes(keyfile, master);
	ck_assert_int_eq(
	    crypto_kdf_derive_from_key(wk, sizeof(wk), 1, "passrlle", master),
	    0);
	n = snprintf(ad, sizeof(ad), "case_key:v1:%s:%02x%02x%02x%02x", case_id,
	    w[1], w[2], w[3], w[4]);
	ck_assert(n > 0 && (size_t)n < sizeof(ad));
	ck_assert_int_eq(crypto_aead_xchacha20poly1305_ietf_decrypt(out,
	                     &outlen, NULL, w + 5 + 24, 32 + 16,
	                     (const unsigned char *)ad, (unsigned long long)n,
	                     w + 5, wk),
	    0);
	ck_assert_uint_eq(outlen, 32);
}

static void
case_setup(void)
{
	ring_setup();
	ck_assert_int_eq(sec_case_key_new(CASE_A, &ck, &wrapped, &wlen), PA_OK);
	ck_assert_ptr_nonnull(ck);
	ck_assert_ptr_nonnull(wrapped);
}

static void
case_teardown(void)
{
	sec_case_key_free(ck);
	free(wrapped);
	ck = NULL;
	wrapped = NULL;
	ring_teardown();
}

static int
is_hex8(const char *s)
{
	size_t i;

	if (strlen(s) != 8)
		return 0;
	for (i = 0; i < 8; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		        (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* ------------------------------------------------------------ key files */

START_TEST(test_keygen_writes_32_bytes_mode_0600)
{
	unsigned char buf[64];
	char p[256], err[256];
	struct stat st;

	path_in(p, sizeof(p), "master.key");
	ck_assert_msg(sec_keygen_file(p, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(lstat(p, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_int_eq(st.st_size, SEC_KEY_BYTES);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_uint_eq(file_read(p, buf, sizeof(buf)), SEC_KEY_BYTES);
}
END_TEST

START_TEST(test_keygen_makes_a_different_key_each_time)
{
	unsigned char a[64], b[64];
	char pa[256], pb[256], err[256];

	path_in(pa, sizeof(pa), "one.key");
	path_in(pb, sizeof(pb), "two.key");
	ck_assert_int_eq(sec_keygen_file(pa, err, sizeof(err)), 0);
	ck_assert_int_eq(sec_keygen_file(pb, err, sizeof(err)), 0);
	ck_assert_uint_eq(file_read(pa, a, sizeof(a)), SEC_KEY_BYTES);
	ck_assert_uint_eq(file_read(pb, b, sizeof(b)), SEC_KEY_BYTES);
	ck_assert(memcmp(a, b, SEC_KEY_BYTES) != 0);
}
END_TEST

START_TEST(test_keygen_refuses_to_overwrite_a_key)
{
	unsigned char before[64], after[64];
	char p[256], err[256];

	path_in(p, sizeof(p), "master.key");
	ck_assert_int_eq(sec_keygen_file(p, err, sizeof(err)), 0);
	ck_assert_uint_eq(file_read(p, before, sizeof(before)), SEC_KEY_BYTES);
	err[0] = '\0';
	ck_assert_int_eq(sec_keygen_file(p, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "overwrite") != NULL, "%s", err);
	ck_assert_uint_eq(file_read(p, after, sizeof(after)), SEC_KEY_BYTES);
	ck_assert_mem_eq(before, after, SEC_KEY_BYTES);
}
END_TEST

START_TEST(test_keygen_does_not_follow_a_symlink)
{
	char target[256], link[256], err[256];
	struct stat st;

	path_in(target, sizeof(target), "elsewhere");
	path_in(link, sizeof(link), "master.key");
	ck_assert_int_eq(symlink(target, link), 0);
	ck_assert_int_eq(sec_keygen_file(link, err, sizeof(err)), -1);
	ck_assert_int_eq(stat(target, &st), -1); /* nothing created */
}
END_TEST

/* What sec_master_load must say, and leave, when it refuses path. */
static void
assert_load_refused(const char *p, const char *why)
{
	static char sentinel;
	struct sec_master *m = (struct sec_master *)(void *)&sentinel;
	char err[512];

	err[0] = '\0';
	ck_assert_int_eq(sec_master_load(p, &m, err, sizeof(err)), -1);
	ck_assert_ptr_null(m);
	ck_assert_msg(strstr(err, "PASSERELLE_KEY_FILE") != NULL,
	    "error does not name the variable: %s", err);
	if (why != NULL)
		ck_assert_msg(strstr(err, why) != NULL, "%s lacks \"%s\"", err,
		    why);
}

START_TEST(test_master_load_accepts_a_keygen_file)
{
	struct sec_master *m = master_new("master.key");

	sec_master_free(m);
	sec_master_free(NULL);
}
END_TEST

static const mode_t owner_only_modes[] = { 0600, 0400 };

START_TEST(test_master_load_accepts_owner_only_modes)
{
	char p[256], err[256];
	struct sec_master *m = NULL;

	path_in(p, sizeof(p), "master.key");
	ck_assert_int_eq(sec_keygen_file(p, err, sizeof(err)), 0);
	ck_assert_int_eq(chmod(p, owner_only_modes[_i]), 0);
	ck_assert_msg(sec_master_load(p, &m, err, sizeof(err)) == 0,
	    "mode %o: %s", (unsigned int)owner_only_modes[_i], err);
	sec_master_free(m);
}
END_TEST

static const mode_t open_modes[] = { 0640, 0604, 0620, 0602, 0610, 0601, 0660,
	0644, 0666, 0704 };

START_TEST(test_master_load_refuses_group_or_other_access)
{
	char p[256], err[256];

	path_in(p, sizeof(p), "master.key");
	ck_assert_int_eq(sec_keygen_file(p, err, sizeof(err)), 0);
	ck_assert_int_eq(chmod(p, open_modes[_i]), 0);
	assert_load_refused(p, "chmod 600");
}
END_TEST

static const size_t wrong_sizes[] = { 0, 1, 31, 33, 64 };

START_TEST(test_master_load_refuses_wrong_size)
{
	unsigned char buf[64];
	char p[256];

	randombytes_buf(buf, sizeof(buf));
	path_in(p, sizeof(p), "master.key");
	file_put(p, buf, wrong_sizes[_i], 0600);
	assert_load_refused(p, "exactly 32 bytes");
}
END_TEST

START_TEST(test_master_load_refuses_missing_file)
{
	char p[256];

	path_in(p, sizeof(p), "nothing-here.key");
	assert_load_refused(p, "cannot open");
}
END_TEST

START_TEST(test_master_load_refuses_a_directory)
{
	char p[256];

	path_in(p, sizeof(p), "keydir");
	ck_assert_int_eq(mkdir(p, 0700), 0);
	assert_load_refused(p, "not a regular file");
}
END_TEST

START_TEST(test_master_load_refuses_a_symlink_to_a_good_key)
{
	char target[256], link[256], err[256];
	struct sec_master *m = NULL;

	path_in(target, sizeof(target), "real.key");
	path_in(link, sizeof(link), "link.key");
	ck_assert_int_eq(sec_keygen_file(target, err, sizeof(err)), 0);
	ck_assert_int_eq(symlink(target, link), 0);
	assert_load_refused(link, NULL);
	/* The target itself is fine: it is the link that is refused. */
	ck_assert_int_eq(sec_master_load(target, &m, err, sizeof(err)), 0);
	sec_master_free(m);
}
END_TEST

START_TEST(test_master_load_refuses_a_fifo)
{
	char p[256];

	path_in(p, sizeof(p), "fifo.key");
	ck_assert_int_eq(mkfifo(p, 0600), 0);
	/* O_RDONLY on a FIFO would block without a writer: keep one open. */
	{
		int w = open(p, O_RDWR | O_NONBLOCK);

		ck_assert_int_ge(w, 0);
		assert_load_refused(p, "not a regular file");
		close(w);
	}
}
END_TEST

START_TEST(test_key_id_names_the_master_key)
{
	char ida[9], idb[9];

	sec_master_key_id(ma, ida);
	sec_master_key_id(mb, idb);
	ck_assert_msg(is_hex8(ida), "%s", ida);
	ck_assert_msg(is_hex8(idb), "%s", idb);
	ck_assert_str_eq(sec_ring_key_id(), ida);
	ck_assert_str_ne(ida, idb);
	ring_use(mb);
	ck_assert_str_eq(sec_ring_key_id(), idb);
}
END_TEST

START_TEST(test_key_id_is_a_keyed_hash_not_the_key)
{
	unsigned char key[SEC_KEY_BYTES], id[4];
	char hex[65], want[9];

	master_bytes("a.key", key);
	sodium_bin2hex(hex, sizeof(hex), key, SEC_KEY_BYTES);
	ck_assert_ptr_null(strstr(hex, sec_ring_key_id()));
	/* docs/crypto.md: BLAKE2b(key = master, message "key-id"), 4 bytes. */
	ck_assert_int_eq(crypto_generichash(id, sizeof(id),
	                     (const unsigned char *)"key-id", 6, key,
	                     sizeof(key)),
	    0);
	snprintf(want, sizeof(want), "%02x%02x%02x%02x", id[0], id[1], id[2],
	    id[3]);
	ck_assert_str_eq(sec_ring_key_id(), want);
}
END_TEST

/* ------------------------------------------------------------- sealing */

static const char *
round_trip_text(int i, size_t *len, char **owned)
{
	static const char utf8[] = "Aminata Traoré, née à Kayes — "
	                           "\xe0\xa5\x90 \xf0\x9f\x98\x80 محمد";
	size_t k, n = 100 * 1024;
	char *big;

	*owned = NULL;
	switch (i) {
	case 0:
		*len = 0;
		return "";
	case 1:
		*len = strlen(utf8);
		return utf8;
	default:
		/* 100 KiB with every byte value, NULs included. */
		big = malloc(n);
		ck_assert_ptr_nonnull(big);
		for (k = 0; k < n; k++)
			big[k] = (char)(unsigned char)((k * 131 + 7) & 0xff);
		*owned = big;
		*len = n;
		return big;
	}
}

START_TEST(test_seal_open_round_trip)
{
	unsigned char *s = NULL;
	char *owned, *plain = NULL;
	size_t len, slen, plen;
	const char *text = round_trip_text(_i, &len, &owned);

	ck_assert_int_eq(
	    sec_seal(ck, TABLE, COLUMN, ROW_A, text, len, &s, &slen), PA_OK);
	ck_assert_uint_eq(slen, len + SEAL_OVERHEAD);
	ck_assert_int_eq(
	    sec_open(ck, TABLE, COLUMN, ROW_A, s, slen, &plain, &plen), PA_OK);
	ck_assert_ptr_nonnull(plain);
	ck_assert_uint_eq(plen, len);
	ck_assert(memcmp(plain, text, len) == 0);
	ck_assert_int_eq(plain[plen], '\0');
	sec_plain_free(plain, plen);
	free(s);
	free(owned);
}
END_TEST

START_TEST(test_seal_layout_is_format_version_nonce_ciphertext)
{
	static const char text[] = "Aminata Traore Aminata Traore";
	unsigned char *s = NULL;
	size_t slen;

	ck_assert_int_eq(
	    sec_seal(ck, TABLE, COLUMN, ROW_A, text, strlen(text), &s, &slen),
	    PA_OK);
	ck_assert_uint_eq(slen, 2 + 24 + strlen(text) + 16);
	ck_assert_uint_eq(s[0], 0x01); /* format */
	ck_assert_uint_eq(s[1], 0x01); /* key version */
	/* The clear text appears nowhere in what is stored. */
	ck_assert_ptr_null(memmem(s, slen, "Aminata", 7));
	ck_assert_ptr_null(memmem(s, slen, "Traore", 6));
	free(s);
}
END_TEST

START_TEST(test_seal_twice_gives_different_ciphertexts)
{
	static const char text[] = "Fatoumata Diallo";
	unsigned char *s1 = NULL, *s2 = NULL;
	size_t l1, l2;

	ck_assert_int_eq(
	    sec_seal(ck, TABLE, COLUMN, ROW_A, text, strlen(text), &s1, &l1),
	    PA_OK);
	ck_assert_int_eq(
	    sec_seal(ck, TABLE, COLUMN, ROW_A, text, strlen(text), &s2, &l2),
	    PA_OK);
	ck_assert_uint_eq(l1, l2);
	ck_assert_msg(memcmp(s1 + 2, s2 + 2, 24) != 0, "nonce reused");
	ck_assert(memcmp(s1 + 26, s2 + 26, l1 - 26) != 0);
	free(s1);
	free(s2);
}
END_TEST

/* Where a ciphertext sealed at (TABLE, COLUMN, ROW_A) is tried. */
static const struct {
	const char *table, *column, *row;
} wrong_place[] = {
	{ TABLE, "victim.family_name", ROW_A }, /* another column */
	{ TABLE, "victim.given_name ", ROW_A },
	{ "case_notes", COLUMN, ROW_A },                 /* another table */
	{ "", COLUMN, ROW_A }, { TABLE, COLUMN, ROW_B }, /* another row */
	{ TABLE, COLUMN, CASE_A },
	{ TABLE, COLUMN, "3D9A8C7B-6E5F-4A3B-9C2D-1E0F9A8B7C6D" },
	{ TABLE, COLUMN, "" }, { COLUMN, TABLE, ROW_A }, /* swapped */
};

START_TEST(test_open_in_another_place_fails)
{
	static const char text[] = "Mariam Coulibaly";
	unsigned char *s = NULL;
	char *plain = NULL;
	size_t slen, plen = 99;

	ck_assert_int_eq(
	    sec_seal(ck, TABLE, COLUMN, ROW_A, text, strlen(text), &s, &slen),
	    PA_OK);
	/* It opens where it belongs... */
	ck_assert_int_eq(
	    sec_open(ck, TABLE, COLUMN, ROW_A, s, slen, &plain, &plen), PA_OK);
	sec_plain_free(plain, plen);
	plain = NULL;
	/* ...and nowhere else. */
	ck_assert_int_eq(sec_open(ck, wrong_place[_i].table,
	                     wrong_place[_i].column, wrong_place[_i].row, s,
	                     slen, &plain, &plen),
	    PA_INTERNAL);
	ck_assert_ptr_null(plain);
	ck_assert_uint_eq(plen, 0);
	free(s);
}
END_TEST

START_TEST(test_open_with_another_case_key_fails)
{
	static const char text[] = "Mariam Coulibaly";
	struct sec_case_key *other = NULL;
	unsigned char *s = NULL, *w2 = NULL;
	char *plain = NULL;
	size_t slen, plen, w2len;

	ck_assert_int_eq(sec_case_key_new(CASE_B, &other, &w2, &w2len), PA_OK);
	ck_assert_int_eq(
	    sec_seal(ck, TABLE, COLUMN, ROW_A, text, strlen(text), &s, &slen),
	    PA_OK);
	ck_assert_int_eq(
	    sec_open(other, TABLE, COLUMN, ROW_A, s, slen, &plain, &plen),
	    PA_INTERNAL);
	ck_assert_ptr_null(plain);
	free(s);
	free(w2);
	sec_case_key_free(other);
}
END_TEST

START_TEST(test_open_fails_on_any_flipped_byte)
{
	static const unsigned char masks[] = { 0x01, 0x80, 0xff };
	static const char text[] = "Oumou Sangare";
	unsigned char *s = NULL, *t;
	char *plain = NULL;
	size_t slen, plen, i, m;

	ck_assert_int_eq(
	    sec_seal(ck, TABLE, COLUMN, ROW_A, text, strlen(text), &s, &slen),
	    PA_OK);
	t = malloc(slen);
	ck_assert_ptr_nonnull(t);
	/* Header, nonce, body and tag: every byte matters. */
	for (i = 0; i < slen; i++)
		for (m = 0; m < sizeof(masks); m++) {
			memcpy(t, s, slen);
			t[i] ^= masks[m];
			ck_assert_msg(sec_open(ck, TABLE, COLUMN, ROW_A, t,
			                  slen, &plain, &plen) != PA_OK,
			    "opened with byte %zu ^ 0x%02x", i, masks[m]);
			ck_assert_ptr_null(plain);
		}
	free(t);
	free(s);
}
END_TEST

START_TEST(test_open_fails_on_truncated_or_extended_input)
{
	static const char text[] = "Oumou Sangare";
	unsigned char *s = NULL, *t;
	char *plain = NULL;
	size_t slen, plen, n;

	ck_assert_int_eq(
	    sec_seal(ck, TABLE, COLUMN, ROW_A, text, strlen(text), &s, &slen),
	    PA_OK);
	for (n = 0; n < slen; n++) {
		ck_assert_msg(sec_open(ck, TABLE, COLUMN, ROW_A, s, n, &plain,
		                  &plen) != PA_OK,
		    "opened %zu of %zu bytes", n, slen);
		ck_assert_ptr_null(plain);
	}
	t = malloc(slen + 1);
	ck_assert_ptr_nonnull(t);
	memcpy(t, s, slen);
	t[slen] = 0;
	ck_assert(sec_open(ck, TABLE, COLUMN, ROW_A, t, slen + 1, &plain,
	              &plen) != PA_OK);
	ck_assert_ptr_null(plain);
	free(t);
	free(s);
}
END_TEST

START_TEST(test_seal_refuses_names_too_long_to_bind)
{
	char table[300];
	unsigned char *s = NULL;
	size_t slen = 0;

	/* Truncating the associated data would let rows share it. */
	memset(table, 't', sizeof(table) - 1);
	table[sizeof(table) - 1] = '\0';
	ck_assert_int_ne(sec_seal(ck, table, COLUMN, ROW_A, "x", 1, &s, &slen),
	    PA_OK);
	ck_assert_ptr_null(s);
}
END_TEST

START_TEST(test_plain_free_ignores_null)
{
	char *plain = NULL;
	size_t plen;
	unsigned char *s = NULL;
	size_t slen;

	sec_plain_free(NULL, 0);
	sec_plain_free(NULL, 12);
	ck_assert_int_eq(sec_seal(ck, TABLE, COLUMN, ROW_A, "ok", 2, &s, &slen),
	    PA_OK);
	ck_assert_int_eq(
	    sec_open(ck, TABLE, COLUMN, ROW_A, s, slen, &plain, &plen), PA_OK);
	ck_assert_str_eq(plain, "ok");
	sec_plain_free(plain, plen);
	free(s);
}
END_TEST

/* ----------------------------------------------------------- case keys */

/* Seals text with key at (TABLE, COLUMN, ROW_A); caller frees *s. */
static size_t
seal_text(const struct sec_case_key *key, const char *text, unsigned char **s)
{
	size_t slen;

	ck_assert_int_eq(
	    sec_seal(key, TABLE, COLUMN, ROW_A, text, strlen(text), s, &slen),
	    PA_OK);
	return slen;
}

static void
assert_opens_to(const struct sec_case_key *key, const unsigned char *s,
    size_t slen, const char *text)
{
	char *plain = NULL;
	size_t plen;

	ck_assert_int_eq(
	    sec_open(key, TABLE, COLUMN, ROW_A, s, slen, &plain, &plen), PA_OK);
	ck_assert_str_eq(plain, text);
	sec_plain_free(plain, plen);
}

START_TEST(test_case_key_reopens_under_the_same_case)
{
	struct sec_case_key *k2 = NULL;
	unsigned char *s = NULL;
	size_t slen = seal_text(ck, "Kadiatou Keita", &s);

	ck_assert_int_eq(sec_case_key_open(CASE_A, wrapped, wlen, &k2), PA_OK);
	ck_assert_ptr_nonnull(k2);
	assert_opens_to(k2, s, slen, "Kadiatou Keita");
	sec_case_key_free(k2);
	sec_case_key_free(NULL);
	free(s);
}
END_TEST

START_TEST(test_case_key_wrapped_form_names_the_master_key)
{
	char id[9], mid[9];

	ck_assert_uint_eq(wlen, WRAP_LEN);
	ck_assert_uint_eq(wrapped[0], 0x01);
	ck_assert_int_eq(sec_wrapped_key_id(wrapped, wlen, id), 0);
	ck_assert_str_eq(id, sec_ring_key_id());
	sec_master_key_id(ma, mid);
	ck_assert_str_eq(id, mid);
	ck_assert_int_eq(sec_wrapped_key_id(wrapped, wlen - 1, id), -1);
	ck_assert_int_eq(sec_wrapped_key_id(wrapped, 4, id), -1);
}
END_TEST

START_TEST(test_case_keys_are_random)
{
	struct sec_case_key *k2 = NULL;
	unsigned char *w2 = NULL, *s = NULL;
	char *plain = NULL;
	size_t w2len, slen, plen;

	ck_assert_int_eq(sec_case_key_new(CASE_A, &k2, &w2, &w2len), PA_OK);
	ck_assert(memcmp(wrapped + 5, w2 + 5, wlen - 5) != 0);
	slen = seal_text(ck, "Kadiatou Keita", &s);
	ck_assert_int_eq(
	    sec_open(k2, TABLE, COLUMN, ROW_A, s, slen, &plain, &plen),
	    PA_INTERNAL);
	free(s);
	free(w2);
	sec_case_key_free(k2);
}
END_TEST

START_TEST(test_case_key_does_not_open_under_another_case)
{
	static char sentinel;
	struct sec_case_key *k2 = (struct sec_case_key *)(void *)&sentinel;

	ck_assert_int_eq(sec_case_key_open(CASE_B, wrapped, wlen, &k2),
	    PA_INTERNAL);
	ck_assert_ptr_null(k2);
	ck_assert_int_eq(sec_case_key_open("", wrapped, wlen, &k2),
	    PA_INTERNAL);
	ck_assert_int_eq(sec_case_key_open(CASE_A "x", wrapped, wlen, &k2),
	    PA_INTERNAL);
}
END_TEST

START_TEST(test_case_key_under_another_master_is_a_conflict)
{
	struct sec_case_key *k2 = NULL;
	char id[9];

	ring_use(mb);
	ck_assert_int_eq(sec_wrapped_key_id(wrapped, wlen, id), 0);
	ck_assert_str_ne(id, sec_ring_key_id());
	ck_assert_int_eq(sec_case_key_open(CASE_A, wrapped, wlen, &k2),
	    PA_CONFLICT);
	ck_assert_ptr_null(k2);
	/* Back to the right master: it opens again. */
	ring_use(ma);
	ck_assert_int_eq(sec_case_key_open(CASE_A, wrapped, wlen, &k2), PA_OK);
	sec_case_key_free(k2);
}
END_TEST

START_TEST(test_case_key_tampered_does_not_open)
{
	struct sec_case_key *k2 = NULL;
	unsigned char t[WRAP_LEN];
	enum pa_err want, got;
	size_t i;

	ck_assert_uint_eq(wlen, sizeof(t));
	for (i = 0; i < wlen; i++) {
		memcpy(t, wrapped, wlen);
		t[i] ^= 0x01;
		/* The key id (bytes 1 to 4) names another master key. */
		want = i >= 1 && i <= 4 ? PA_CONFLICT : PA_INTERNAL;
		got = sec_case_key_open(CASE_A, t, wlen, &k2);
		ck_assert_msg(got == want, "byte %zu: %d, not %d", i, got,
		    want);
		ck_assert_ptr_null(k2);
	}
	ck_assert_int_eq(sec_case_key_open(CASE_A, wrapped, wlen - 1, &k2),
	    PA_INTERNAL);
	ck_assert_int_eq(sec_case_key_open(CASE_A, wrapped, 0, &k2),
	    PA_INTERNAL);
}
END_TEST

START_TEST(test_case_key_needs_the_ring)
{
	struct sec_case_key *k2 = NULL;
	unsigned char *w2 = NULL;
	size_t w2len = 0;

	sec_ring_cleanup();
	ck_assert_int_eq(sec_case_key_new(CASE_B, &k2, &w2, &w2len),
	    PA_INTERNAL);
	ck_assert_ptr_null(k2);
	ck_assert_int_eq(sec_case_key_open(CASE_A, wrapped, wlen, &k2),
	    PA_INTERNAL);
	ck_assert_ptr_null(k2);
}
END_TEST

START_TEST(test_rotation_rewraps_and_fields_still_open)
{
	struct sec_case_key *k2 = NULL;
	unsigned char *s = NULL, *w2 = NULL;
	size_t slen, w2len = 0;
	char id[9], idb[9];

	slen = seal_text(ck, "Awa Dembele", &s);
	ck_assert_int_eq(
	    sec_case_key_rewrap(ma, mb, CASE_A, wrapped, wlen, &w2, &w2len),
	    PA_OK);
	ck_assert_uint_eq(w2len, WRAP_LEN);
	ck_assert_int_eq(sec_wrapped_key_id(w2, w2len, id), 0);
	sec_master_key_id(mb, idb);
	ck_assert_str_eq(id, idb);
	/* Not yet: the ring still runs on the old master. */
	ck_assert_int_eq(sec_case_key_open(CASE_A, w2, w2len, &k2),
	    PA_CONFLICT);
	ring_use(mb);
	ck_assert_int_eq(sec_case_key_open(CASE_A, w2, w2len, &k2), PA_OK);
	/* The field sealed before rotation opens with the rewrapped key. */
	assert_opens_to(k2, s, slen, "Awa Dembele");
	sec_case_key_free(k2);
	k2 = NULL;
	/* The old wrapped form names the old master. */
	ck_assert_int_eq(sec_case_key_open(CASE_A, wrapped, wlen, &k2),
	    PA_CONFLICT);
	/* The rewrapped key stays bound to its case. */
	ck_assert_int_eq(sec_case_key_open(CASE_B, w2, w2len, &k2),
	    PA_INTERNAL);
	free(w2);
	free(s);
}
END_TEST

START_TEST(test_rewrap_with_the_wrong_from_fails)
{
	unsigned char *w2 = NULL;
	size_t w2len = 0;

	ck_assert_int_eq(
	    sec_case_key_rewrap(mb, ma, CASE_A, wrapped, wlen, &w2, &w2len),
	    PA_CONFLICT);
	ck_assert_ptr_null(w2);
	ck_assert_int_eq(
	    sec_case_key_rewrap(ma, mb, CASE_B, wrapped, wlen, &w2, &w2len),
	    PA_INTERNAL);
	ck_assert_ptr_null(w2);
}
END_TEST

START_TEST(test_case_key_and_field_formats_are_as_documented)
{
	static const char text[] = "Awa Dembele";
	unsigned char dk[32], *s = NULL, out[sizeof(text)];
	unsigned long long outlen;
	char ad[200];
	size_t slen;
	int n;

	unwrap_by_hand("a.key", CASE_A, wrapped, wlen, dk);
	slen = seal_text(ck, text, &s);
	ck_assert_uint_eq(slen, 2 + 24 + strlen(text) + 16);
	n = snprintf(ad, sizeof(ad), "field:v1:%s|%s|%s|%d", TABLE, COLUMN,
	    ROW_A, 1);
	ck_assert_int_eq(crypto_aead_xchacha20poly1305_ietf_decrypt(out,
	                     &outlen, NULL, s + 26, slen - 26,
	                     (const unsigned char *)ad, (unsigned long long)n,
	                     s + 2, dk),
	    0);
	ck_assert_uint_eq(outlen, strlen(text));
	ck_assert(memcmp(out, text, strlen(text)) == 0);
	sodium_memzero(dk, sizeof(dk));
	free(s);
}
END_TEST

START_TEST(test_case_key_long_case_ids_stay_bound)
{
	char a[101], b[101];
	struct sec_case_key *k = NULL, *k2 = NULL;
	unsigned char *w = NULL;
	size_t len = 0;
	enum pa_err rc;

	/* Two ids that differ only at their end. */
	memset(a, 'a', 100);
	a[100] = '\0';
	memcpy(b, a, sizeof(b));
	b[99] = 'b';
	rc = sec_case_key_new(a, &k, &w, &len);
	if (rc == PA_OK) {
		/* Accepted: then bound to the whole id, not a prefix. */
		ck_assert_int_eq(sec_case_key_open(a, w, len, &k2), PA_OK);
		sec_case_key_free(k2);
		k2 = NULL;
		ck_assert_int_eq(sec_case_key_open(b, w, len, &k2),
		    PA_INTERNAL);
	} else
		ck_assert_ptr_null(k);
	sec_case_key_free(k);
	free(w);
}
END_TEST

/* -------------------------------------------------------------- tokens */

static int
is_b64url(const char *s)
{
	for (; *s != '\0'; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		        (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return 0;
	return 1;
}

START_TEST(test_token_new_is_43_base64url_chars_and_distinct)
{
	char t[64][SEC_TOKEN_TEXT];
	unsigned char bin[64];
	size_t binlen, i, j;

	for (i = 0; i < 64; i++) {
		sec_token_new(t[i]);
		ck_assert_uint_eq(strlen(t[i]), 43);
		ck_assert_msg(is_b64url(t[i]), "%s", t[i]);
		ck_assert_int_eq(sodium_base642bin(bin, sizeof(bin), t[i], 43,
		                     NULL, &binlen, NULL,
		                     sodium_base64_VARIANT_URLSAFE_NO_PADDING),
		    0);
		ck_assert_uint_eq(binlen, 32);
		for (j = 0; j < i; j++)
			ck_assert_str_ne(t[i], t[j]);
	}
}
END_TEST

START_TEST(test_token_hash_is_deterministic_and_depends_on_the_token)
{
	unsigned char h1[SEC_HASH_BYTES], h2[SEC_HASH_BYTES],
	    h3[SEC_HASH_BYTES];
	char t1[SEC_TOKEN_TEXT], t2[SEC_TOKEN_TEXT];

	sec_token_new(t1);
	sec_token_new(t2);
	ck_assert_int_eq(sec_token_hash(t1, h1), 0);
	ck_assert_int_eq(sec_token_hash(t1, h2), 0);
	ck_assert_int_eq(sec_token_hash(t2, h3), 0);
	ck_assert_mem_eq(h1, h2, SEC_HASH_BYTES);
	ck_assert(memcmp(h1, h3, SEC_HASH_BYTES) != 0);
	/* Not a plain hash: the key matters (checked below), and not the
	 * token itself. */
	ck_assert(memcmp(h1, t1, SEC_HASH_BYTES) != 0);
}
END_TEST

START_TEST(test_token_hash_depends_on_the_master_key)
{
	unsigned char ha[SEC_HASH_BYTES], hb[SEC_HASH_BYTES],
	    again[SEC_HASH_BYTES];
	char t[SEC_TOKEN_TEXT];

	sec_token_new(t);
	ck_assert_int_eq(sec_token_hash(t, ha), 0);
	ring_use(mb);
	ck_assert_int_eq(sec_token_hash(t, hb), 0);
	ck_assert(memcmp(ha, hb, SEC_HASH_BYTES) != 0);
	/* Rebuilt from the same master: the same hash (other servers). */
	ring_use(ma);
	ck_assert_int_eq(sec_token_hash(t, again), 0);
	ck_assert_mem_eq(ha, again, SEC_HASH_BYTES);
}
END_TEST

START_TEST(test_keyed_hashes_need_the_ring)
{
	unsigned char h[SEC_HASH_BYTES];
	char out[SEC_TOKEN_TEXT];

	sec_ring_cleanup();
	ck_assert_int_eq(sec_token_hash("abc", h), -1);
	ck_assert_int_eq(sec_csrf_token("abc", out), -1);
	ck_assert_int_eq(sec_throttle_hash('a', "abc", h), -1);
	ck_assert_int_eq(sec_audit_hash(h, 0, (const unsigned char *)"x", 1, h),
	    -1);
	ck_assert_int_eq(sec_blind("name", "abc"), -1);
}
END_TEST

START_TEST(test_blind_and_audit_need_their_stored_keys)
{
	unsigned char h[SEC_HASH_BYTES];

	/* A ring without its stored keys: derived subkeys work, the stored
	 * ones are not silently replaced by anything. */
	ring_use(ma);
	ck_assert_int_eq(sec_token_hash("abc", h), 0);
	ck_assert_int_eq(sec_blind("name", "abc"), -1);
	ck_assert_int_eq(
	    sec_audit_hash(h, sizeof(h), (const unsigned char *)"x", 1, h), -1);
	install(SEC_STORED_BLIND, wblind, wblind_len);
	ck_assert_int_ge(sec_blind("name", "abc"), 0);
	ck_assert_int_eq(
	    sec_audit_hash(h, sizeof(h), (const unsigned char *)"x", 1, h), -1);
	install(SEC_STORED_AUDIT, waudit, waudit_len);
	ck_assert_int_eq(
	    sec_audit_hash(h, sizeof(h), (const unsigned char *)"x", 1, h), 0);
}
END_TEST

START_TEST(test_stored_keys_are_bound_to_purpose_and_master)
{
	unsigned char t[WRAP_LEN];

	ring_use(ma);
	/* The blind-index key does not install as the audit key. */
	ck_assert_int_eq(
	    sec_stored_install(SEC_STORED_AUDIT, wblind, wblind_len),
	    PA_INTERNAL);
	ck_assert_int_eq(
	    sec_stored_install(SEC_STORED_BLIND, waudit, waudit_len),
	    PA_INTERNAL);
	ck_assert_int_eq(sec_blind("name", "abc"), -1);
	/* Nor under another master key. */
	ring_use(mb);
	ck_assert_int_eq(
	    sec_stored_install(SEC_STORED_BLIND, wblind, wblind_len),
	    PA_CONFLICT);
	ck_assert_int_eq(sec_blind("name", "abc"), -1);
	/* Nor tampered with. */
	ring_use(ma);
	ck_assert_uint_eq(wblind_len, sizeof(t));
	memcpy(t, wblind, sizeof(t));
	t[sizeof(t) - 1] ^= 1;
	ck_assert_int_eq(sec_stored_install(SEC_STORED_BLIND, t, sizeof(t)),
	    PA_INTERNAL);
	ck_assert_int_eq(sec_blind("name", "abc"), -1);
	ck_assert_str_ne(sec_stored_name(SEC_STORED_BLIND),
	    sec_stored_name(SEC_STORED_AUDIT));
}
END_TEST

START_TEST(test_csrf_token_is_neither_the_token_nor_its_hash)
{
	unsigned char h[SEC_HASH_BYTES];
	char t[SEC_TOKEN_TEXT], t2[SEC_TOKEN_TEXT], c[SEC_TOKEN_TEXT],
	    c2[SEC_TOKEN_TEXT], hb64[SEC_TOKEN_TEXT], cb[SEC_TOKEN_TEXT];

	sec_token_new(t);
	sec_token_new(t2);
	ck_assert_int_eq(sec_csrf_token(t, c), 0);
	ck_assert_uint_eq(strlen(c), 43);
	ck_assert(is_b64url(c));
	ck_assert_str_ne(c, t);
	ck_assert_int_eq(sec_token_hash(t, h), 0);
	sodium_bin2base64(hb64, sizeof(hb64), h, sizeof(h),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	ck_assert_str_ne(c, hb64); /* the database's value gives no CSRF */
	ck_assert_int_eq(sec_csrf_token(t, c2), 0);
	ck_assert_str_eq(c, c2);
	ck_assert_int_eq(sec_csrf_token(t2, c2), 0);
	ck_assert_str_ne(c, c2);
	ring_use(mb);
	ck_assert_int_eq(sec_csrf_token(t, cb), 0);
	ck_assert_str_ne(c, cb);
}
END_TEST

START_TEST(test_throttle_hash_separates_kinds_and_subjects)
{
	unsigned char a[SEC_HASH_BYTES], a2[SEC_HASH_BYTES], i[SEC_HASH_BYTES],
	    o[SEC_HASH_BYTES], t[SEC_HASH_BYTES];

	ck_assert_int_eq(sec_throttle_hash('a', "amadou", a), 0);
	ck_assert_int_eq(sec_throttle_hash('a', "amadou", a2), 0);
	ck_assert_int_eq(sec_throttle_hash('i', "amadou", i), 0);
	ck_assert_int_eq(sec_throttle_hash('a', "amadoU", o), 0);
	ck_assert_int_eq(sec_token_hash("amadou", t), 0);
	ck_assert_mem_eq(a, a2, SEC_HASH_BYTES);
	ck_assert(memcmp(a, i, SEC_HASH_BYTES) != 0);
	ck_assert(memcmp(a, o, SEC_HASH_BYTES) != 0);
	ck_assert(memcmp(a, t, SEC_HASH_BYTES) != 0);
}
END_TEST

static const struct {
	const char *a, *b;
	int equal;
} equal_text[] = {
	{ "abc", "abc", 1 },
	{ "abc", "abd", 0 },
	{ "abd", "abc", 0 },
	{ "abc", "abcd", 0 },
	{ "abcd", "abc", 0 },
	{ "abc", "ABC", 0 },
	{ "", "", 0 },
	{ "", "a", 0 },
	{ "a", "", 0 },
	{ "Xk3_-9aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    "Xk3_-9aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1 },
	{ "Xk3_-9aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    "Xk3_-9aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", 0 },
};

START_TEST(test_equal_text_table)
{
	ck_assert_int_eq(sec_equal_text(equal_text[_i].a, equal_text[_i].b),
	    equal_text[_i].equal);
}
END_TEST

/* ------------------------------------------------------- blind indexes */

#define NNAMES 200

static void
make_names(char names[NNAMES][48])
{
	static const char *const given[] = { "aminata", "fatoumata", "mariam",
		"kadiatou", "awa", "oumou", "moussa", "ibrahim", "seydou",
		"bakary", "hawa", "salif", "adama", "djeneba", "boubacar",
		"assetou", "mamadou", "rokia", "sekou", "nana" };
	static const char *const family[] = { "traore", "diallo", "diarra",
		"keita", "coulibaly", "kone", "sangare", "dembele", "toure",
		"maiga" };
	size_t i;

	for (i = 0; i < NNAMES; i++)
		snprintf(names[i], 48, "%s%s", given[i % 20], family[i / 20]);
}

START_TEST(test_blind_is_deterministic_and_in_range)
{
	char names[NNAMES][48];
	size_t i;
	int v;

	make_names(names);
	for (i = 0; i < NNAMES; i++) {
		v = sec_blind("name", names[i]);
		ck_assert_int_ge(v, 0);
		ck_assert_int_lt(v, 1 << SEC_BLIND_BITS);
		ck_assert_int_eq(sec_blind("name", names[i]), v);
	}
	v = sec_blind("name", "");
	ck_assert_int_ge(v, 0);
	ck_assert_int_lt(v, 1 << SEC_BLIND_BITS);
}
END_TEST

START_TEST(test_blind_spreads_names_over_its_range)
{
	static unsigned char seen[1 << SEC_BLIND_BITS];
	char names[NNAMES][48];
	size_t i, distinct = 0;
	int v;

	make_names(names);
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < NNAMES; i++) {
		v = sec_blind("name", names[i]);
		ck_assert_int_ge(v, 0);
		if (!seen[v]++)
			distinct++;
	}
	/* 200 values in 4096 buckets: about 195 distinct. */
	ck_assert_uint_ge(distinct, 170);
}
END_TEST

START_TEST(test_blind_depends_on_the_purpose)
{
	char names[NNAMES][48], shifted[64];
	size_t i, differ = 0, split = 0;

	make_names(names);
	for (i = 0; i < NNAMES; i++) {
		if (sec_blind("name", names[i]) !=
		    sec_blind("name_dob", names[i]))
			differ++;
		/* The purpose is delimited: "na" + "me..." is not "name". */
		memcpy(shifted, "me", 2);
		memcpy(shifted + 2, names[i], strlen(names[i]) + 1);
		if (sec_blind("name", names[i]) != sec_blind("na", shifted))
			split++;
	}
	ck_assert_uint_ge(differ, NNAMES * 9 / 10);
	ck_assert_uint_ge(split, NNAMES * 9 / 10);
}
END_TEST

START_TEST(test_blind_depends_on_the_key)
{
	char names[NNAMES][48];
	int va[NNAMES];
	size_t i, differ = 0, wlen2;
	unsigned char *w2 = NULL;

	make_names(names);
	for (i = 0; i < NNAMES; i++)
		va[i] = sec_blind("name", names[i]);
	/* Another deployment: another random blind-index key. */
	ring_use(mb);
	ck_assert_int_eq(sec_stored_new(SEC_STORED_BLIND, &w2, &wlen2), PA_OK);
	install(SEC_STORED_BLIND, w2, wlen2);
	for (i = 0; i < NNAMES; i++)
		if (sec_blind("name", names[i]) != va[i])
			differ++;
	ck_assert_uint_ge(differ, NNAMES * 9 / 10);
	free(w2);
}
END_TEST

START_TEST(test_blind_and_audit_survive_master_key_rotation)
{
	unsigned char prev[SEC_HASH_BYTES], h[SEC_HASH_BYTES],
	    after[SEC_HASH_BYTES], *wb = NULL, *wa = NULL;
	static const unsigned char rec[] = "1|2026-01-01|case.create";
	char names[NNAMES][48];
	int va[NNAMES];
	size_t i, wbl, wal;

	make_names(names);
	randombytes_buf(prev, sizeof(prev));
	for (i = 0; i < NNAMES; i++)
		va[i] = sec_blind("name", names[i]);
	ck_assert_int_eq(
	    sec_audit_hash(prev, sizeof(prev), rec, sizeof(rec) - 1, h), 0);
	ck_assert_int_eq(sec_stored_rewrap(ma, mb, SEC_STORED_BLIND, wblind,
	                     wblind_len, &wb, &wbl),
	    PA_OK);
	ck_assert_int_eq(sec_stored_rewrap(ma, mb, SEC_STORED_AUDIT, waudit,
	                     waudit_len, &wa, &wal),
	    PA_OK);
	ring_use(mb);
	install(SEC_STORED_BLIND, wb, wbl);
	install(SEC_STORED_AUDIT, wa, wal);
	for (i = 0; i < NNAMES; i++)
		ck_assert_int_eq(sec_blind("name", names[i]), va[i]);
	ck_assert_int_eq(
	    sec_audit_hash(prev, sizeof(prev), rec, sizeof(rec) - 1, after), 0);
	ck_assert_mem_eq(h, after, SEC_HASH_BYTES);
	/* Rewrapping under the wrong old key is refused. */
	free(wb);
	wb = NULL;
	ck_assert_int_eq(sec_stored_rewrap(mb, ma, SEC_STORED_BLIND, wblind,
	                     wblind_len, &wb, &wbl),
	    PA_CONFLICT);
	ck_assert_ptr_null(wb);
	free(wa);
}
END_TEST

/*
 * Blind indexes are stored: their construction is a contract
 * (docs/crypto.md). HMAC-SHA-256 under the stored blind-index key of the
 * purpose, a NUL, and the value; the first SEC_BLIND_BITS bits.
 */
START_TEST(test_blind_is_truncated_hmac_sha256_under_its_key)
{
	unsigned char sub[32], mac[32];
	crypto_auth_hmacsha256_state st;
	char names[NNAMES][48];
	size_t i;
	int want;

	unwrap_by_hand("a.key", "stored:blind", wblind, wblind_len, sub);
	make_names(names);
	for (i = 0; i < 20; i++) {
		crypto_auth_hmacsha256_init(&st, sub, sizeof(sub));
		crypto_auth_hmacsha256_update(&st,
		    (const unsigned char *)"name", 5);
		crypto_auth_hmacsha256_update(&st,
		    (const unsigned char *)names[i], strlen(names[i]));
		crypto_auth_hmacsha256_final(&st, mac);
		want = ((mac[0] << 8) | mac[1]) >> (16 - SEC_BLIND_BITS);
		ck_assert_int_eq(sec_blind("name", names[i]), want);
	}
}
END_TEST

/* ---------------------------------------------------- audit, uuid */

START_TEST(test_audit_hash_is_keyed_blake2b_of_prev_and_record)
{
	unsigned char prev[SEC_HASH_BYTES], prev2[SEC_HASH_BYTES],
	    h[SEC_HASH_BYTES], again[SEC_HASH_BYTES], other[SEC_HASH_BYTES];
	static const unsigned char content[] = "42|case.read|victim.name";
	static const unsigned char content2[] = "42|case.read|victim.nama";
	crypto_generichash_state st;
	unsigned char k[32], *w2 = NULL;
	size_t w2len;

	randombytes_buf(prev, sizeof(prev));
	memcpy(prev2, prev, sizeof(prev));
	prev2[31] ^= 1;
	ck_assert_int_eq(
	    sec_audit_hash(prev, sizeof(prev), content, sizeof(content) - 1, h),
	    0);
	ck_assert_int_eq(sec_audit_hash(prev, sizeof(prev), content,
	                     sizeof(content) - 1, again),
	    0);
	ck_assert_mem_eq(h, again, SEC_HASH_BYTES);
	ck_assert_int_eq(sec_audit_hash(prev2, sizeof(prev2), content,
	                     sizeof(content) - 1, other),
	    0);
	ck_assert(memcmp(h, other, SEC_HASH_BYTES) != 0);
	ck_assert_int_eq(sec_audit_hash(prev, sizeof(prev), content2,
	                     sizeof(content2) - 1, other),
	    0);
	ck_assert(memcmp(h, other, SEC_HASH_BYTES) != 0);
	ck_assert_int_eq(
	    sec_audit_hash(prev, 0, content, sizeof(content) - 1, other), 0);
	ck_assert(memcmp(h, other, SEC_HASH_BYTES) != 0);
	/* docs/crypto.md: BLAKE2b-256(key = audit key, prev || record). */
	unwrap_by_hand("a.key", "stored:audit", waudit, waudit_len, k);
	ck_assert_int_eq(
	    crypto_generichash_init(&st, k, sizeof(k), SEC_HASH_BYTES), 0);
	crypto_generichash_update(&st, prev, sizeof(prev));
	crypto_generichash_update(&st, content, sizeof(content) - 1);
	crypto_generichash_final(&st, other, SEC_HASH_BYTES);
	ck_assert_mem_eq(h, other, SEC_HASH_BYTES);
	/* Another audit key: another chain. */
	ck_assert_int_eq(sec_stored_new(SEC_STORED_AUDIT, &w2, &w2len), PA_OK);
	install(SEC_STORED_AUDIT, w2, w2len);
	ck_assert_int_eq(sec_audit_hash(prev, sizeof(prev), content,
	                     sizeof(content) - 1, other),
	    0);
	ck_assert(memcmp(h, other, SEC_HASH_BYTES) != 0);
	free(w2);
}
END_TEST

START_TEST(test_uuid_new_is_version_4_and_distinct)
{
	char u[100][37];
	size_t i, j, k;

	for (i = 0; i < 100; i++) {
		sec_uuid_new(u[i]);
		ck_assert_uint_eq(strlen(u[i]), 36);
		for (k = 0; k < 36; k++) {
			if (k == 8 || k == 13 || k == 18 || k == 23)
				ck_assert_int_eq(u[i][k], '-');
			else
				ck_assert_msg(
				    (u[i][k] >= '0' && u[i][k] <= '9') ||
				        (u[i][k] >= 'a' && u[i][k] <= 'f'),
				    "%s", u[i]);
		}
		ck_assert_int_eq(u[i][14], '4');
		ck_assert_ptr_nonnull(strchr("89ab", u[i][19]));
		for (j = 0; j < i; j++)
			ck_assert_str_ne(u[i], u[j]);
	}
}
END_TEST

/* ----------------------------------------------------------- passwords */

static void
pw_setup(void)
{
	dir_setup();
	ck_assert_int_eq(sec_pw_init(2, 19456, 1), 0);
}

START_TEST(test_pw_hash_then_verify)
{
	char h[SEC_PW_HASH_MAX];

	ck_assert_int_eq(
	    sec_pw_hash("correct horse battery", h, sizeof(h), 1000), PA_OK);
	ck_assert_msg(strncmp(h, "$argon2id$", 10) == 0, "%s", h);
	ck_assert_msg(strstr(h, "m=19456,t=2,p=1") != NULL, "%s", h);
	ck_assert_int_eq(sec_pw_verify(h, "correct horse battery", 1000),
	    PA_OK);
	ck_assert_int_eq(sec_pw_verify(h, "correct horse batterY", 1000),
	    PA_NO_SESSION);
	ck_assert_int_eq(sec_pw_verify(h, "", 1000), PA_NO_SESSION);
}
END_TEST

START_TEST(test_pw_hash_is_salted)
{
	char h1[SEC_PW_HASH_MAX], h2[SEC_PW_HASH_MAX];

	ck_assert_int_eq(sec_pw_hash("same password!", h1, sizeof(h1), 1000),
	    PA_OK);
	ck_assert_int_eq(sec_pw_hash("same password!", h2, sizeof(h2), 1000),
	    PA_OK);
	ck_assert_str_ne(h1, h2);
}
END_TEST

START_TEST(test_pw_hash_refuses_a_short_buffer)
{
	char h[32];

	ck_assert_int_eq(
	    sec_pw_hash("correct horse battery", h, sizeof(h), 1000),
	    PA_INTERNAL);
}
END_TEST

START_TEST(test_pw_verify_refuses_a_malformed_hash)
{
	ck_assert_int_eq(sec_pw_verify("", "x", 1000), PA_NO_SESSION);
	ck_assert_int_eq(sec_pw_verify("$argon2id$garbage", "x", 1000),
	    PA_NO_SESSION);
	ck_assert_int_eq(sec_pw_verify("plaintext", "plaintext", 1000),
	    PA_NO_SESSION);
}
END_TEST

START_TEST(test_pw_dummy_is_a_current_hash_nobody_knows)
{
	const char *d = sec_pw_dummy();
	char pw[SEC_TOKEN_TEXT];

	ck_assert_ptr_nonnull(d);
	ck_assert_msg(strncmp(d, "$argon2id$", 10) == 0, "%s", d);
	ck_assert_int_eq(sec_pw_needs_rehash(d), 0);
	sec_token_new(pw);
	ck_assert_int_eq(sec_pw_verify(d, pw, 1000), PA_NO_SESSION);
	ck_assert_int_eq(sec_pw_verify(d, "", 1000), PA_NO_SESSION);
}
END_TEST

START_TEST(test_pw_needs_rehash_when_parameters_change)
{
	char h[SEC_PW_HASH_MAX], old_ops[crypto_pwhash_STRBYTES],
	    old_mem[crypto_pwhash_STRBYTES];

	ck_assert_int_eq(
	    sec_pw_hash("correct horse battery", h, sizeof(h), 1000), PA_OK);
	ck_assert_int_eq(sec_pw_needs_rehash(h), 0);
	ck_assert_int_eq(crypto_pwhash_str(old_ops, "correct horse battery", 21,
	                     3, 19456 * 1024),
	    0);
	ck_assert_int_eq(sec_pw_needs_rehash(old_ops), 1);
	ck_assert_int_eq(crypto_pwhash_str(old_mem, "correct horse battery", 21,
	                     2, 8192 * 1024),
	    0);
	ck_assert_int_eq(sec_pw_needs_rehash(old_mem), 1);
	/* An old hash still verifies: the login that rehashes needs it. */
	ck_assert_int_eq(sec_pw_verify(old_ops, "correct horse battery", 1000),
	    PA_OK);
	/* New parameters: the hash of a moment ago is now old. */
	ck_assert_int_eq(sec_pw_init(3, 19456, 1), 0);
	ck_assert_int_eq(sec_pw_needs_rehash(h), 1);
	ck_assert_int_eq(sec_pw_needs_rehash(old_ops), 0);
}
END_TEST

struct hasher {
	enum pa_err rc;
	atomic_int done;
	char out[SEC_PW_HASH_MAX];
};

static void *
hash_thread(void *arg)
{
	struct hasher *h = arg;

	h->rc = sec_pw_hash("a long and slow password", h->out, sizeof(h->out),
	    30000);
	atomic_store(&h->done, 1);
	return NULL;
}

START_TEST(test_pw_busy_when_no_slot_is_free)
{
	char cheap[crypto_pwhash_STRBYTES];
	struct hasher h;
	pthread_t t;
	enum pa_err rc;
	int busy = 0;

	/* A cheap hash to verify from the main thread: quick when it gets
	 * the slot, so that the slow one in the thread can take it. */
	ck_assert_int_eq(crypto_pwhash_str(cheap, "pw", 2,
	                     crypto_pwhash_OPSLIMIT_MIN,
	                     crypto_pwhash_MEMLIMIT_MIN),
	    0);
	/* One slot, and a hash slow enough to be caught holding it. */
	ck_assert_int_eq(sec_pw_init(8, 65536, 1), 0);
	memset(&h, 0, sizeof(h));
	atomic_init(&h.done, 0);
	ck_assert_int_eq(pthread_create(&t, NULL, hash_thread, &h), 0);
	while (!atomic_load(&h.done)) {
		rc = sec_pw_verify(cheap, "pw", 1);
		if (rc == PA_BUSY) {
			busy = 1;
			break;
		}
		ck_assert_int_eq(rc, PA_OK);
		usleep(2000);
	}
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_msg(busy, "never found the only slot taken");
	ck_assert_int_eq(h.rc, PA_OK);
	/* The slot came back. */
	ck_assert_int_eq(sec_pw_verify(cheap, "pw", 1), PA_OK);
	ck_assert_int_eq(sec_pw_verify(h.out, "a long and slow password", 1),
	    PA_OK);
}
END_TEST

/* --------------------------------------------------------------- suite */

static Suite *
crypto_suite(void)
{
	Suite *s = suite_create("crypto");
	TCase *tc;

	tc = tcase_create("keyfile");
	tcase_add_unchecked_fixture(tc, top_setup, top_teardown);
	tcase_add_checked_fixture(tc, dir_setup, NULL);
	tcase_add_test(tc, test_keygen_writes_32_bytes_mode_0600);
	tcase_add_test(tc, test_keygen_makes_a_different_key_each_time);
	tcase_add_test(tc, test_keygen_refuses_to_overwrite_a_key);
	tcase_add_test(tc, test_keygen_does_not_follow_a_symlink);
	tcase_add_test(tc, test_master_load_accepts_a_keygen_file);
	tcase_add_loop_test(tc, test_master_load_accepts_owner_only_modes, 0,
	    (int)(sizeof(owner_only_modes) / sizeof(owner_only_modes[0])));
	tcase_add_loop_test(tc, test_master_load_refuses_group_or_other_access,
	    0, (int)(sizeof(open_modes) / sizeof(open_modes[0])));
	tcase_add_loop_test(tc, test_master_load_refuses_wrong_size, 0,
	    (int)(sizeof(wrong_sizes) / sizeof(wrong_sizes[0])));
	tcase_add_test(tc, test_master_load_refuses_missing_file);
	tcase_add_test(tc, test_master_load_refuses_a_directory);
	tcase_add_test(tc, test_master_load_refuses_a_symlink_to_a_good_key);
	tcase_add_test(tc, test_master_load_refuses_a_fifo);
	suite_add_tcase(s, tc);

	tc = tcase_create("ring");
	tcase_add_unchecked_fixture(tc, top_setup, top_teardown);
	tcase_add_checked_fixture(tc, ring_setup, ring_teardown);
	tcase_add_test(tc, test_key_id_names_the_master_key);
	tcase_add_test(tc, test_key_id_is_a_keyed_hash_not_the_key);
	tcase_add_test(tc, test_token_new_is_43_base64url_chars_and_distinct);
	tcase_add_test(tc,
	    test_token_hash_is_deterministic_and_depends_on_the_token);
	tcase_add_test(tc, test_token_hash_depends_on_the_master_key);
	tcase_add_test(tc, test_keyed_hashes_need_the_ring);
	tcase_add_test(tc, test_blind_and_audit_need_their_stored_keys);
	tcase_add_test(tc, test_stored_keys_are_bound_to_purpose_and_master);
	tcase_add_test(tc, test_csrf_token_is_neither_the_token_nor_its_hash);
	tcase_add_test(tc, test_throttle_hash_separates_kinds_and_subjects);
	tcase_add_loop_test(tc, test_equal_text_table, 0,
	    (int)(sizeof(equal_text) / sizeof(equal_text[0])));
	tcase_add_test(tc, test_blind_is_deterministic_and_in_range);
	tcase_add_test(tc, test_blind_spreads_names_over_its_range);
	tcase_add_test(tc, test_blind_depends_on_the_purpose);
	tcase_add_test(tc, test_blind_depends_on_the_key);
	tcase_add_test(tc, test_blind_and_audit_survive_master_key_rotation);
	tcase_add_test(tc, test_blind_is_truncated_hmac_sha256_under_its_key);
	tcase_add_test(tc, test_audit_hash_is_keyed_blake2b_of_prev_and_record);
	tcase_add_test(tc, test_uuid_new_is_version_4_and_distinct);
	suite_add_tcase(s, tc);

	tc = tcase_create("seal");
	tcase_add_unchecked_fixture(tc, top_setup, top_teardown);
	tcase_add_checked_fixture(tc, case_setup, case_teardown);
	tcase_add_loop_test(tc, test_seal_open_round_trip, 0, 3);
	tcase_add_test(tc, test_seal_layout_is_format_version_nonce_ciphertext);
	tcase_add_test(tc, test_seal_twice_gives_different_ciphertexts);
	tcase_add_loop_test(tc, test_open_in_another_place_fails, 0,
	    (int)(sizeof(wrong_place) / sizeof(wrong_place[0])));
	tcase_add_test(tc, test_open_with_another_case_key_fails);
	tcase_add_test(tc, test_open_fails_on_any_flipped_byte);
	tcase_add_test(tc, test_open_fails_on_truncated_or_extended_input);
	tcase_add_test(tc, test_seal_refuses_names_too_long_to_bind);
	tcase_add_test(tc, test_plain_free_ignores_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("case_key");
	tcase_add_unchecked_fixture(tc, top_setup, top_teardown);
	tcase_add_checked_fixture(tc, case_setup, case_teardown);
	tcase_add_test(tc, test_case_key_reopens_under_the_same_case);
	tcase_add_test(tc, test_case_key_wrapped_form_names_the_master_key);
	tcase_add_test(tc, test_case_keys_are_random);
	tcase_add_test(tc, test_case_key_does_not_open_under_another_case);
	tcase_add_test(tc, test_case_key_under_another_master_is_a_conflict);
	tcase_add_test(tc, test_case_key_tampered_does_not_open);
	tcase_add_test(tc, test_case_key_needs_the_ring);
	tcase_add_test(tc, test_rotation_rewraps_and_fields_still_open);
	tcase_add_test(tc, test_rewrap_with_the_wrong_from_fails);
	tcase_add_test(tc, test_case_key_and_field_formats_are_as_documented);
	tcase_add_test(tc, test_case_key_long_case_ids_stay_bound);
	suite_add_tcase(s, tc);

	tc = tcase_create("password");
	tcase_add_unchecked_fixture(tc, top_setup, top_teardown);
	tcase_add_checked_fixture(tc, pw_setup, NULL);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_pw_hash_then_verify);
	tcase_add_test(tc, test_pw_hash_is_salted);
	tcase_add_test(tc, test_pw_hash_refuses_a_short_buffer);
	tcase_add_test(tc, test_pw_verify_refuses_a_malformed_hash);
	tcase_add_test(tc, test_pw_dummy_is_a_current_hash_nobody_knows);
	tcase_add_test(tc, test_pw_needs_rehash_when_parameters_change);
	tcase_add_test(tc, test_pw_busy_when_no_slot_is_free);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	if (sec_init() != 0) {
		fprintf(stderr, "sodium_init failed\n");
		return EXIT_FAILURE;
	}
	sr = srunner_create(crypto_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
