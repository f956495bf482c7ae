/* Private to crypto/. */
#ifndef PA_CRYPTO_INTERNAL_H
#define PA_CRYPTO_INTERNAL_H

struct sec_master {
	unsigned char *key;	/* SEC_KEY_BYTES, sodium_malloc */
};

#endif
