/* Private to crypto/. */
#ifndef PA_CRYPTO_INTERNAL_H
#define PA_CRYPTO_INTERNAL_H

struct sec_master {
	unsigned char *key;	/* SEC_KEY_BYTES, sodium_malloc */
};

/* The ring's master key (for wrapping) and blind-index subkey. */
const struct sec_master *sec_ring_master(void);
const unsigned char *sec_ring_blind_key(void);
/*
 * When m is the ring's master: copies its wrapping subkey (derived once at
 * start) and its 4-byte id, and returns 0; -1 for any other master key.
 */
int sec_ring_wrap(const struct sec_master *m, unsigned char key[32],
    unsigned char id[4]);

/* Puts a stored key into its ring slot (copied); 0 or -1. */
int sec_ring_install(int purpose, const unsigned char key[32]);

#endif
