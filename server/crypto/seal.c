/*
 * Case data keys and field sealing. All keys live in sodium_malloc memory;
 * every temporary copy is wiped with sodium_memzero on every exit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto.h"
#include "internal.h"

#define NONCE crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define ABYTES crypto_aead_xchacha20poly1305_ietf_ABYTES
#define KEYB crypto_aead_xchacha20poly1305_ietf_KEYBYTES
#define WRAP_LEN (1 + 4 + NONCE + KEYB + ABYTES)
#define SEAL_HDR (2 + NONCE)
#define FIELD_FORMAT 0x01
#define KEY_VERSION 0x01

struct sec_case_key {
	unsigned char k[KEYB];
};

/*
 * sodium_malloc costs a few system calls (guard pages, mlock): too much
 * for every case a request opens. Each thread keeps a few spare guarded
 * key slots, wiped when given back, and reuses them.
 */
#define SPARE_KEYS 4
static _Thread_local struct sec_case_key *spare[SPARE_KEYS];
static _Thread_local int nspare;

static struct sec_case_key *
key_alloc(void)
{
	if (nspare > 0)
		return spare[--nspare];
	return sodium_malloc(sizeof(struct sec_case_key));
}

static void
key_release(struct sec_case_key *k)
{
	sodium_memzero(k, sizeof(*k));
	if (nspare < SPARE_KEYS)
		spare[nspare++] = k;
	else
		sodium_free(k);
}

/* The wrapping subkey of a master key (not the ring's: rotation). */
static int
wrap_key(const struct sec_master *m, unsigned char out[KEYB])
{
	return crypto_kdf_derive_from_key(out, KEYB, SEC_KEY_WRAP, "passrlle",
	    m->key);
}

static void
key_id_bytes(const struct sec_master *m, unsigned char id[4])
{
	crypto_generichash(id, 4, (const unsigned char *)"key-id", 6, m->key,
	    SEC_KEY_BYTES);
}

void
sec_master_key_id(const struct sec_master *m, char out[9])
{
	unsigned char id[4];

	key_id_bytes(m, id);
	snprintf(out, 9, "%02x%02x%02x%02x", id[0], id[1], id[2], id[3]);
}

int
sec_wrapped_key_id(const unsigned char *w, size_t wlen, char out[9])
{
	if (wlen != WRAP_LEN || w[0] != 0x01)
		return -1;
	snprintf(out, 9, "%02x%02x%02x%02x", w[1], w[2], w[3], w[4]);
	return 0;
}

/*
 * Associated data is put together by hand: snprintf was a seventh of a
 * list page's instructions (three opens per case). Appends s at *at,
 * keeping room for the final NUL; *at becomes len (full) on overflow.
 */
static void
ad_put(char *ad, size_t len, size_t *at, const char *s, size_t n)
{
	if (*at >= len || n >= len - *at) {
		*at = len;
		return;
	}
	memcpy(ad + *at, s, n);
	*at += n;
	ad[*at] = '\0';
}

static void
ad_str(char *ad, size_t len, size_t *at, const char *s)
{
	ad_put(ad, len, at, s, strlen(s));
}

/* "case_key:v1:<case id>:<key id>" binds a wrapped key to its case. */
static size_t
wrap_ad(char *ad, size_t len, const char *case_id, const unsigned char id[4])
{
	static const char digits[] = "0123456789abcdef";
	char hex[8];
	size_t at = 0;
	int i;

	for (i = 0; i < 4; i++) {
		hex[2 * i] = digits[id[i] >> 4];
		hex[2 * i + 1] = digits[id[i] & 15];
	}
	ad_str(ad, len, &at, "case_key:v1:");
	ad_str(ad, len, &at, case_id);
	ad_put(ad, len, &at, ":", 1);
	ad_put(ad, len, &at, hex, sizeof(hex));
	return at < len ? at : 0;
}

static enum pa_err
wrap_with(const struct sec_master *m, const char *case_id,
    const unsigned char k[KEYB], unsigned char **out, size_t *outlen)
{
	unsigned char wk[KEYB], *w;
	char ad[96];
	size_t adl;

	if ((w = malloc(WRAP_LEN)) == NULL)
		return PA_INTERNAL;
	w[0] = 0x01;
	if (sec_ring_wrap(m, wk, w + 1) != 0) {
		if (wrap_key(m, wk) != 0) {
			free(w);
			return PA_INTERNAL;
		}
		key_id_bytes(m, w + 1);
	}
	randombytes_buf(w + 5, NONCE);
	if ((adl = wrap_ad(ad, sizeof(ad), case_id, w + 1)) == 0) {
		sodium_memzero(wk, sizeof(wk));
		free(w);
		return PA_INTERNAL;
	}
	crypto_aead_xchacha20poly1305_ietf_encrypt(w + 5 + NONCE, NULL, k,
	    KEYB, (const unsigned char *)ad, adl, NULL, w + 5, wk);
	sodium_memzero(wk, sizeof(wk));
	*out = w;
	*outlen = WRAP_LEN;
	return PA_OK;
}

static enum pa_err
unwrap_with(const struct sec_master *m, const char *case_id,
    const unsigned char *w, size_t wlen, unsigned char k[KEYB])
{
	unsigned char wk[KEYB], id[4];
	unsigned long long klen;
	char ad[96];
	size_t adl;
	int rc;

	if (wlen != WRAP_LEN || w[0] != 0x01)
		return PA_INTERNAL;
	/* The ring's master has both derived already (two hashes a key). */
	if (sec_ring_wrap(m, wk, id) != 0) {
		key_id_bytes(m, id);
		if (wrap_key(m, wk) != 0)
			return PA_INTERNAL;
	}
	if (memcmp(id, w + 1, 4) != 0) {
		sodium_memzero(wk, sizeof(wk));
		return PA_CONFLICT;	/* wrapped under another master key */
	}
	if ((adl = wrap_ad(ad, sizeof(ad), case_id, w + 1)) == 0) {
		sodium_memzero(wk, sizeof(wk));
		return PA_INTERNAL;
	}
	rc = crypto_aead_xchacha20poly1305_ietf_decrypt(k, &klen, NULL,
	    w + 5 + NONCE, KEYB + ABYTES, (const unsigned char *)ad, adl,
	    w + 5, wk);
	sodium_memzero(wk, sizeof(wk));
	if (rc != 0 || klen != KEYB) {
		sodium_memzero(k, KEYB);
		return PA_INTERNAL;
	}
	return PA_OK;
}

/*
 * Stored keys are wrapped like data keys; their "case id" in the associated
 * data is "stored:<name>", which no UUID can equal.
 */
const char *
sec_stored_name(enum sec_stored which)
{
	return which == SEC_STORED_BLIND ? "stored:blind" : "stored:audit";
}

enum pa_err
sec_stored_new(enum sec_stored which, unsigned char **wrapped, size_t *wlen)
{
	const struct sec_master *m = sec_ring_master();
	unsigned char *k;
	enum pa_err rc;

	if (m == NULL || (k = sodium_malloc(KEYB)) == NULL)
		return PA_INTERNAL;
	randombytes_buf(k, KEYB);
	rc = wrap_with(m, sec_stored_name(which), k, wrapped, wlen);
	sodium_free(k);
	return rc;
}

enum pa_err
sec_stored_install(enum sec_stored which, const unsigned char *wrapped,
    size_t wlen)
{
	const struct sec_master *m = sec_ring_master();
	unsigned char *k;
	enum pa_err rc;

	if (m == NULL || (k = sodium_malloc(KEYB)) == NULL)
		return PA_INTERNAL;
	rc = unwrap_with(m, sec_stored_name(which), wrapped, wlen, k);
	if (rc == PA_OK)
		rc = sec_ring_install(which == SEC_STORED_BLIND ?
		    SEC_KEY_BLIND : SEC_KEY_AUDIT, k) == 0 ? PA_OK :
		    PA_INTERNAL;
	sodium_free(k);
	return rc;
}

enum pa_err
sec_stored_rewrap(const struct sec_master *from, const struct sec_master *to,
    enum sec_stored which, const unsigned char *wrapped, size_t wlen,
    unsigned char **out, size_t *outlen)
{
	return sec_case_key_rewrap(from, to, sec_stored_name(which), wrapped,
	    wlen, out, outlen);
}

enum pa_err
sec_case_key_new(const char *case_id, struct sec_case_key **key,
    unsigned char **wrapped, size_t *wlen)
{
	const struct sec_master *m = sec_ring_master();
	struct sec_case_key *k;
	enum pa_err rc;

	*key = NULL;
	if (m == NULL || (k = key_alloc()) == NULL)
		return PA_INTERNAL;
	crypto_aead_xchacha20poly1305_ietf_keygen(k->k);
	if ((rc = wrap_with(m, case_id, k->k, wrapped, wlen)) != PA_OK) {
		key_release(k);
		return rc;
	}
	*key = k;
	return PA_OK;
}

enum pa_err
sec_case_key_open(const char *case_id, const unsigned char *wrapped,
    size_t wlen, struct sec_case_key **key)
{
	const struct sec_master *m = sec_ring_master();
	struct sec_case_key *k;
	enum pa_err rc;

	*key = NULL;
	if (m == NULL || (k = key_alloc()) == NULL)
		return PA_INTERNAL;
	if ((rc = unwrap_with(m, case_id, wrapped, wlen, k->k)) != PA_OK) {
		key_release(k);
		return rc;
	}
	*key = k;
	return PA_OK;
}

void
sec_case_key_free(struct sec_case_key *key)
{
	if (key != NULL)
		key_release(key);	/* wiped, then kept or freed */
}

enum pa_err
sec_case_key_rewrap(const struct sec_master *from, const struct sec_master *to,
    const char *case_id, const unsigned char *wrapped, size_t wlen,
    unsigned char **out, size_t *outlen)
{
	unsigned char *k;
	enum pa_err rc;

	if ((k = sodium_malloc(KEYB)) == NULL)
		return PA_INTERNAL;
	rc = unwrap_with(from, case_id, wrapped, wlen, k);
	if (rc == PA_OK)
		rc = wrap_with(to, case_id, k, out, outlen);
	sodium_free(k);
	return rc;
}

/* "table|column|row|version": where a ciphertext belongs. */
static size_t
field_ad(char *ad, size_t len, const char *table, const char *column,
    const char *row_id)
{
	char ver[4];
	size_t at = 0;

	_Static_assert(KEY_VERSION < 10, "one digit");
	ver[0] = '|';
	ver[1] = (char)('0' + KEY_VERSION);
	ad_str(ad, len, &at, "field:v1:");
	ad_str(ad, len, &at, table);
	ad_put(ad, len, &at, "|", 1);
	ad_str(ad, len, &at, column);
	ad_put(ad, len, &at, "|", 1);
	ad_str(ad, len, &at, row_id);
	ad_put(ad, len, &at, ver, 2);
	return at < len ? at : 0;
}

enum pa_err
sec_seal(const struct sec_case_key *key, const char *table,
    const char *column, const char *row_id, const void *plain, size_t len,
    unsigned char **out, size_t *outlen)
{
	unsigned char *s;
	char ad[256];
	size_t adl;

	*out = NULL;
	if ((adl = field_ad(ad, sizeof(ad), table, column, row_id)) == 0)
		return PA_INTERNAL;
	if ((s = malloc(SEAL_HDR + len + ABYTES)) == NULL)
		return PA_INTERNAL;
	s[0] = FIELD_FORMAT;
	s[1] = KEY_VERSION;
	randombytes_buf(s + 2, NONCE);
	crypto_aead_xchacha20poly1305_ietf_encrypt(s + SEAL_HDR, NULL, plain,
	    len, (const unsigned char *)ad, adl, NULL, s + 2, key->k);
	*out = s;
	*outlen = SEAL_HDR + len + ABYTES;
	return PA_OK;
}

enum pa_err
sec_open(const struct sec_case_key *key, const char *table,
    const char *column, const char *row_id, const unsigned char *sealed,
    size_t len, char **plain, size_t *plainlen)
{
	unsigned long long pl;
	char ad[256], *p;
	size_t adl;

	*plain = NULL;
	*plainlen = 0;
	if (len < SEAL_HDR + ABYTES || sealed[0] != FIELD_FORMAT ||
	    sealed[1] != KEY_VERSION)
		return PA_INTERNAL;
	if ((adl = field_ad(ad, sizeof(ad), table, column, row_id)) == 0)
		return PA_INTERNAL;
	/*
	 * Plaintexts live for the time of one request and are wiped by
	 * sec_plain_free; ordinary memory keeps reads cheap.
	 */
	if ((p = malloc(len - SEAL_HDR - ABYTES + 1)) == NULL)
		return PA_INTERNAL;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt((unsigned char *)p, &pl,
		NULL, sealed + SEAL_HDR, len - SEAL_HDR,
		(const unsigned char *)ad, adl, sealed + 2, key->k) != 0) {
		free(p);
		return PA_INTERNAL;
	}
	p[pl] = '\0';
	*plain = p;
	*plainlen = (size_t)pl;
	return PA_OK;
}

void
sec_plain_free(char *plain, size_t len)
{
	if (plain == NULL)
		return;
	sodium_memzero(plain, len + 1);
	free(plain);
}

int
sec_blind(const char *purpose, const char *normalised)
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;
	int v;

	if (sec_ring_blind_key() == NULL)
		return -1;
	crypto_auth_hmacsha256_init(&st, sec_ring_blind_key(), 32);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)purpose,
	    strlen(purpose) + 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)normalised,
	    strlen(normalised));
	crypto_auth_hmacsha256_final(&st, mac);
	v = ((mac[0] << 8) | mac[1]) >> (16 - SEC_BLIND_BITS);
	sodium_memzero(mac, sizeof(mac));
	sodium_memzero(&st, sizeof(st));
	return v;
}
