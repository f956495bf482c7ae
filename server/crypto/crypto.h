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

#endif
