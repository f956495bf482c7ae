/*
 * Key files and the master key. The key is read straight into
 * sodium_malloc() memory (guard pages, mlock, wiped by sodium_free), never
 * into a stack or heap buffer of our own.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto.h"
#include "internal.h"


int
sec_init(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

int
sec_keygen_file(const char *path, char *err, size_t errlen)
{
	unsigned char *key;
	ssize_t n;
	int fd;

	if ((key = sodium_malloc(SEC_KEY_BYTES)) == NULL) {
		snprintf(err, errlen, "keygen: out of memory");
		return -1;
	}
	randombytes_buf(key, SEC_KEY_BYTES);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd < 0) {
		snprintf(err, errlen, "keygen: cannot create %s: %s%s", path,
		    strerror(errno),
		    errno == EEXIST ? " (refusing to overwrite a key)" : "");
		sodium_free(key);
		return -1;
	}
	n = write(fd, key, SEC_KEY_BYTES);
	sodium_free(key);
	if (n != SEC_KEY_BYTES || fsync(fd) != 0 || close(fd) != 0) {
		snprintf(err, errlen, "keygen: cannot write %s", path);
		unlink(path);
		return -1;
	}
	return 0;
}

int
sec_master_load(const char *path, struct sec_master **out, char *err,
    size_t errlen)
{
	struct sec_master *m = NULL;
	unsigned char extra;
	struct stat st;
	ssize_t n;
	int fd;

	*out = NULL;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen,
		    "PASSERELLE_KEY_FILE (--key-file): cannot open %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen,
		    "PASSERELLE_KEY_FILE (--key-file): %s is not a regular file",
		    path);
		goto fail;
	}
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		snprintf(err, errlen,
		    "PASSERELLE_KEY_FILE (--key-file): %s is accessible by group "
		    "or others (mode %03o): chmod 600 it",
		    path, (unsigned int)(st.st_mode & 0777));
		goto fail;
	}
	if ((m = sodium_malloc(sizeof(*m))) != NULL)
		m->key = NULL;	/* sodium_malloc fills with garbage */
	if (m == NULL || (m->key = sodium_malloc(SEC_KEY_BYTES)) == NULL) {
		snprintf(err, errlen, "PASSERELLE_KEY_FILE: out of memory");
		goto fail;
	}
	n = read(fd, m->key, SEC_KEY_BYTES);
	if (n != SEC_KEY_BYTES || read(fd, &extra, 1) != 0) {
		snprintf(err, errlen,
		    "PASSERELLE_KEY_FILE (--key-file): %s must hold exactly %d "
		    "bytes (make one with passerelle keygen)", path,
		    SEC_KEY_BYTES);
		goto fail;
	}
	close(fd);
	sodium_mprotect_readonly(m->key);
	*out = m;
	return 0;
fail:
	close(fd);
	sec_master_free(m);
	return -1;
}

void
sec_master_free(struct sec_master *m)
{
	if (m == NULL)
		return;
	if (m->key != NULL)
		sodium_free(m->key);	/* zeroes before unmapping */
	sodium_free(m);
}
