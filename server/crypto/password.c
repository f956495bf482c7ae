/*
 * Password hashing with Argon2id (crypto_pwhash_str). At most `slots'
 * hashes run at once, guarded by a counting semaphore: each takes mem_kib of
 * memory and a core for a few hundred milliseconds, so an unbounded number
 * would let a burst of logins exhaust memory and starve every other request.
 */
#include <errno.h>
#include <semaphore.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "crypto.h"

static sem_t slots_sem;
static unsigned long long pw_ops;
static size_t pw_mem;
static char dummy[crypto_pwhash_STRBYTES];

int
sec_pw_init(unsigned long long ops, size_t mem_kib, unsigned int slots)
{
	char pw[SEC_TOKEN_TEXT];

	pw_ops = ops;
	pw_mem = mem_kib * 1024;
	if (sem_init(&slots_sem, 0, slots == 0 ? 1 : slots) != 0)
		return -1;
	sec_token_new(pw);	/* a random password nobody knows */
	if (crypto_pwhash_str(dummy, pw, strlen(pw), pw_ops, pw_mem) != 0) {
		sodium_memzero(pw, sizeof(pw));
		return -1;
	}
	sodium_memzero(pw, sizeof(pw));
	return 0;
}

const char *
sec_pw_dummy(void)
{
	return dummy;
}

static int
slot_take(int wait_ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += wait_ms / 1000;
	ts.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	while (sem_timedwait(&slots_sem, &ts) != 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

enum pa_err
sec_pw_hash(const char *pw, char *out, size_t outlen, int wait_ms)
{
	int rc;

	if (outlen < crypto_pwhash_STRBYTES)
		return PA_INTERNAL;
	if (slot_take(wait_ms) != 0)
		return PA_BUSY;
	rc = crypto_pwhash_str(out, pw, strlen(pw), pw_ops, pw_mem);
	sem_post(&slots_sem);
	return rc == 0 ? PA_OK : PA_INTERNAL;
}

enum pa_err
sec_pw_verify(const char *hash, const char *pw, int wait_ms)
{
	int rc;

	if (slot_take(wait_ms) != 0)
		return PA_BUSY;
	rc = crypto_pwhash_str_verify(hash, pw, strlen(pw));
	sem_post(&slots_sem);
	return rc == 0 ? PA_OK : PA_NO_SESSION;
}

int
sec_pw_needs_rehash(const char *hash)
{
	return crypto_pwhash_str_needs_rehash(hash, pw_ops, pw_mem) != 0;
}
