/*
 * The key ring, tokens, CSRF tokens, audit-chain hashes and UUIDs. Subkeys
 * come from crypto_kdf_derive_from_key with context "passrlle" and one id
 * per purpose; they live in one sodium_malloc block, read-only once set.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "crypto.h"
#include "internal.h"

#define NPURPOSE 7
#define KDF_CONTEXT "passrlle"


static unsigned char *ring;	/* NPURPOSE * 32 bytes, sodium_malloc */
static const struct sec_master *ring_master;	/* borrowed, see init */
static int installed[NPURPOSE];	/* stored keys put in place */
static char key_id[9];
static unsigned char key_id_raw[4];

static const unsigned char *
subkey(enum sec_purpose p)
{
	return ring + (size_t)p * crypto_kdf_KEYBYTES;
}

int
sec_ring_init(const struct sec_master *m)
{
	unsigned char id[4];
	int p;

	/* Set up once; a second call with another master is a bug. */
	if (ring != NULL)
		return ring_master == m ? 0 : -1;
	if ((ring = sodium_malloc(NPURPOSE * crypto_kdf_KEYBYTES)) == NULL)
		return -1;
	memset(ring, 0, NPURPOSE * crypto_kdf_KEYBYTES);
	for (p = 1; p < NPURPOSE; p++)
		if (p != SEC_KEY_BLIND && p != SEC_KEY_AUDIT &&
		    crypto_kdf_derive_from_key(ring + (size_t)p *
			crypto_kdf_KEYBYTES, crypto_kdf_KEYBYTES, (uint64_t)p,
			KDF_CONTEXT, m->key) != 0) {
			sec_ring_cleanup();
			return -1;
		}
	/* A public name for the key: a hash under a fixed, separate id. */
	crypto_generichash(id, sizeof(id), (const unsigned char *)"key-id", 6,
	    m->key, SEC_KEY_BYTES);
	snprintf(key_id, sizeof(key_id), "%02x%02x%02x%02x", id[0], id[1],
	    id[2], id[3]);
	memcpy(key_id_raw, id, sizeof(key_id_raw));
	sodium_mprotect_readonly(ring);
	ring_master = m;
	return 0;
}

int
sec_ring_install(int purpose, const unsigned char key[32])
{
	if (ring == NULL || purpose <= 0 || purpose >= NPURPOSE)
		return -1;
	sodium_mprotect_readwrite(ring);
	memcpy(ring + (size_t)purpose * crypto_kdf_KEYBYTES, key,
	    crypto_kdf_KEYBYTES);
	sodium_mprotect_readonly(ring);
	installed[purpose] = 1;
	return 0;
}

const struct sec_master *
sec_ring_master(void)
{
	return ring_master;
}

int
sec_ring_wrap(const struct sec_master *m, unsigned char key[32],
    unsigned char id[4])
{
	if (ring == NULL || m != ring_master)
		return -1;
	memcpy(key, subkey(SEC_KEY_WRAP), crypto_kdf_KEYBYTES);
	memcpy(id, key_id_raw, sizeof(key_id_raw));
	return 0;
}

const unsigned char *
sec_ring_blind_key(void)
{
	return ring && installed[SEC_KEY_BLIND] ? subkey(SEC_KEY_BLIND) : NULL;
}

void
sec_ring_cleanup(void)
{
	if (ring != NULL)
		sodium_free(ring);
	ring = NULL;
	ring_master = NULL;
	memset(installed, 0, sizeof(installed));
}

const char *
sec_ring_key_id(void)
{
	return key_id;
}

static void
b64(const unsigned char *bin, size_t len, char out[SEC_TOKEN_TEXT])
{
	sodium_bin2base64(out, SEC_TOKEN_TEXT, bin, len,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

void
sec_token_new(char out[SEC_TOKEN_TEXT])
{
	unsigned char t[32];

	randombytes_buf(t, sizeof(t));
	b64(t, sizeof(t), out);
	sodium_memzero(t, sizeof(t));
}

static int
keyed(enum sec_purpose p, const char *text, unsigned char out[32])
{
	if (ring == NULL)
		return -1;
	return crypto_generichash(out, 32, (const unsigned char *)text,
	    strlen(text), subkey(p), crypto_kdf_KEYBYTES);
}

int
sec_token_hash(const char *token, unsigned char out[SEC_HASH_BYTES])
{
	return keyed(SEC_KEY_SESSION, token, out);
}

int
sec_throttle_hash(char kind, const char *subject,
    unsigned char out[SEC_HASH_BYTES])
{
	crypto_generichash_state st;

	if (ring == NULL)
		return -1;
	if (crypto_generichash_init(&st, subkey(SEC_KEY_THROTTLE),
		crypto_kdf_KEYBYTES, SEC_HASH_BYTES) != 0 ||
	    crypto_generichash_update(&st, (const unsigned char *)&kind, 1) ||
	    crypto_generichash_update(&st, (const unsigned char *)subject,
		strlen(subject)) != 0 ||
	    crypto_generichash_final(&st, out, SEC_HASH_BYTES) != 0)
		return -1;
	return 0;
}

int
sec_csrf_token(const char *token, char out[SEC_TOKEN_TEXT])
{
	unsigned char h[32];

	if (keyed(SEC_KEY_CSRF, token, h) != 0)
		return -1;
	b64(h, sizeof(h), out);
	sodium_memzero(h, sizeof(h));
	return 0;
}

int
sec_equal_bytes(const void *a, size_t alen, const void *b, size_t blen)
{
	if (alen != blen)
		return 0;
	return alen == 0 || sodium_memcmp(a, b, alen) == 0;
}

int
sec_equal_text(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la != lb || la == 0)
		return 0;
	return sodium_memcmp(a, b, la) == 0;
}

int
sec_audit_hash(const unsigned char *prev, size_t prevlen,
    const unsigned char *content, size_t len,
    unsigned char out[SEC_HASH_BYTES])
{
	crypto_generichash_state st;

	if (ring == NULL || !installed[SEC_KEY_AUDIT])
		return -1;
	if (crypto_generichash_init(&st, subkey(SEC_KEY_AUDIT),
		crypto_kdf_KEYBYTES, SEC_HASH_BYTES) != 0 ||
	    crypto_generichash_update(&st, prev, prevlen) != 0 ||
	    crypto_generichash_update(&st, content, len) != 0 ||
	    crypto_generichash_final(&st, out, SEC_HASH_BYTES) != 0)
		return -1;
	return 0;
}

void
sec_uuid_new(char out[37])
{
	unsigned char u[16];

	randombytes_buf(u, sizeof(u));
	u[6] = (unsigned char)((u[6] & 0x0f) | 0x40);
	u[8] = (unsigned char)((u[8] & 0x3f) | 0x80);
	snprintf(out, 37,
	    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x",
	    u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10],
	    u[11], u[12], u[13], u[14], u[15]);
}
