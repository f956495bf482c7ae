/*
 * crypto: the only module that calls libsodium (prefix sec_, since libsodium
 * owns crypto_). Key files, the master key held in guarded memory, and (in
 * later modules) field sealing, blind indexes and password hashing.
 */
#ifndef PA_CRYPTO_H
#define PA_CRYPTO_H

#include <stddef.h>

#include "../err.h"

#define SEC_KEY_BYTES 32

/* sodium_init(); 0 on success. Call first in main. */
int sec_init(void);

/*
 * Writes SEC_KEY_BYTES random bytes to path, created with mode 0600;
 * refuses to overwrite an existing file. Returns 0, or -1 with err set.
 */
int sec_keygen_file(const char *path, char *err, size_t errlen);

struct sec_master;

/*
 * Loads the master key from path into guarded memory. Refuses a file that is
 * not a regular file, is readable or writable by group or others, or does not
 * hold exactly SEC_KEY_BYTES bytes. Returns 0, or -1 with err set.
 */
int sec_master_load(const char *path, struct sec_master **out, char *err,
    size_t errlen);
/* Wipes and frees the key. NULL is ignored. */
void sec_master_free(struct sec_master *m);

/*
 * The key ring: subkeys derived once from the master key (crypto_kdf), one
 * per purpose, so that no key serves two. Set up once at start; read-only
 * afterwards. sec_ring_init keeps a pointer to m (to wrap cases' keys): m
 * must outlive the ring (sec_ring_cleanup before sec_master_free).
 */
enum sec_purpose {
	SEC_KEY_WRAP = 1,	/* wraps cases' data keys */
	SEC_KEY_BLIND = 2,	/* blind indexes (a stored key, see below) */
	SEC_KEY_SESSION = 3,	/* keyed hashes of session tokens */
	SEC_KEY_AUDIT = 4,	/* the audit hash chain (a stored key) */
	SEC_KEY_CSRF = 5,	/* CSRF tokens bound to a session */
	SEC_KEY_THROTTLE = 6,	/* hashes of login names and addresses */
};
int sec_ring_init(const struct sec_master *m);
void sec_ring_cleanup(void);
/* 8 hex characters naming the master key (not secret: a hash of it). */
const char *sec_ring_key_id(void);

/* Session tokens: 32 random bytes, as 43 base64url characters. */
#define SEC_TOKEN_TEXT 44	/* with the NUL */
#define SEC_HASH_BYTES 32
void sec_token_new(char out[SEC_TOKEN_TEXT]);
/* Keyed hash of a token text, the only form the database keeps. */
int sec_token_hash(const char *token, unsigned char out[SEC_HASH_BYTES]);
/* Keyed hash of a throttling subject (kind: 'a' account, 'i' address). */
int sec_throttle_hash(char kind, const char *subject,
    unsigned char out[SEC_HASH_BYTES]);
/* The CSRF token bound to a session token (base64url). */
int sec_csrf_token(const char *token, char out[SEC_TOKEN_TEXT]);
/* Constant-time comparison of two byte strings; 1 when equal. */
int sec_equal_bytes(const void *a, size_t alen, const void *b, size_t blen);
/* Constant-time comparison of two NUL-terminated texts; 1 when equal. */
int sec_equal_text(const char *a, const char *b);

/* Keyed BLAKE2b of prev || content for the audit chain. */
int sec_audit_hash(const unsigned char *prev, size_t prevlen,
    const unsigned char *content, size_t len,
    unsigned char out[SEC_HASH_BYTES]);

/* A random (version 4) UUID in its 36-character text form. */
void sec_uuid_new(char out[37]);

/*
 * Passwords: Argon2id through crypto_pwhash_str. sec_pw_init sets the cost
 * (opslimit, memlimit in KiB) and how many hashes may run at once; a caller
 * that cannot get a slot within wait_ms gets PA_BUSY, so that logins never
 * starve the server of CPU or memory.
 */
int sec_pw_init(unsigned long long ops, size_t mem_kib, unsigned int slots);
enum pa_err sec_pw_hash(const char *pw, char *out, size_t outlen, int wait_ms);
/* PA_OK when pw matches, PA_NO_SESSION when not, PA_BUSY when no slot. */
enum pa_err sec_pw_verify(const char *hash, const char *pw, int wait_ms);
/* 1 when hash was made with other parameters than the current ones. */
int sec_pw_needs_rehash(const char *hash);
/* A hash of a random password, for verifying unknown users against. */
const char *sec_pw_dummy(void);
#define SEC_PW_HASH_MAX 128

/*
 * Cases' data keys. Each case has its own random key, stored only wrapped
 * (XChaCha20-Poly1305 under the wrapping subkey, associated data naming the
 * case and the master key id), so that rotating the master key rewraps keys
 * and never touches field ciphertexts.
 *
 * Wrapped form: 0x01, 4-byte master key id, 24-byte nonce, ciphertext.
 */
struct sec_case_key;
enum pa_err sec_case_key_new(const char *case_id, struct sec_case_key **key,
    unsigned char **wrapped, size_t *wlen);
/* PA_CONFLICT when wrapped under another master key; PA_INTERNAL when it
 * does not open (tampered, or moved to another case). */
enum pa_err sec_case_key_open(const char *case_id,
    const unsigned char *wrapped, size_t wlen, struct sec_case_key **key);
void sec_case_key_free(struct sec_case_key *key);
/* The master key id a wrapped key names (8 hex characters into out). */
int sec_wrapped_key_id(const unsigned char *wrapped, size_t wlen,
    char out[9]);
/* Unwraps under from's subkey and wraps again under to's (rotation). */
enum pa_err sec_case_key_rewrap(const struct sec_master *from,
    const struct sec_master *to, const char *case_id,
    const unsigned char *wrapped, size_t wlen, unsigned char **out,
    size_t *outlen);
/* The id of a master key that is not the ring's (for rotation). */
void sec_master_key_id(const struct sec_master *m, char out[9]);

/*
 * Keys that must outlive a rotation of the master key (the blind-index key,
 * or every index would change; the audit key, or old records could not be
 * verified) are random, kept in the database wrapped like data keys, and
 * installed into the ring at start. Until installed, sec_blind and
 * sec_audit_hash fail.
 */
enum sec_stored { SEC_STORED_BLIND, SEC_STORED_AUDIT };
const char *sec_stored_name(enum sec_stored which);
enum pa_err sec_stored_new(enum sec_stored which, unsigned char **wrapped,
    size_t *wlen);
enum pa_err sec_stored_install(enum sec_stored which,
    const unsigned char *wrapped, size_t wlen);
enum pa_err sec_stored_rewrap(const struct sec_master *from,
    const struct sec_master *to, enum sec_stored which,
    const unsigned char *wrapped, size_t wlen, unsigned char **out,
    size_t *outlen);

/*
 * Fields. A value is sealed with XChaCha20-Poly1305 under the case key, a
 * fresh random nonce, and associated data naming table, column and row, so
 * that a ciphertext copied to another row or column does not open.
 * Sealed form: 0x01 format, 0x01 key version, 24-byte nonce, ciphertext.
 */
enum pa_err sec_seal(const struct sec_case_key *key, const char *table,
    const char *column, const char *row_id, const void *plain, size_t len,
    unsigned char **out, size_t *outlen);
/* *plain is NUL-terminated (plainlen bytes before the NUL); the caller
 * wipes and frees it with sec_plain_free(plain, plainlen). */
enum pa_err sec_open(const struct sec_case_key *key, const char *table,
    const char *column, const char *row_id, const unsigned char *sealed,
    size_t len, char **plain, size_t *plainlen);
void sec_plain_free(char *plain, size_t len);

/*
 * Blind index: HMAC-SHA-256 (blind-index subkey) of a normalised value and
 * a purpose, truncated to SEC_BLIND_BITS so that each value matches several
 * people; candidates are confirmed by decrypting.
 */
#define SEC_BLIND_BITS 12
int sec_blind(const char *purpose, const char *normalised);

#endif
