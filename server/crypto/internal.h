/* Private to crypto/. */
#ifndef PA_CRYPTO_INTERNAL_H
#define PA_CRYPTO_INTERNAL_H

struct sec_master {
	unsigned char *key;	/* SEC_KEY_BYTES, sodium_malloc */
};

/* The ring's master key (for wrapping) and blind-index subkey. */
const struct sec_master *sec_ring_master(void);
const unsigned char *sec_ring_blind_key(void);

/* Puts a stored key into its ring slot (copied); 0 or -1. */
int sec_ring_install(int purpose, const unsigned char key[32]);

#endif
