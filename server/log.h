/*
 * Logging to stderr, one line per call, written with a single write(2) so
 * that lines from different threads never interleave. Callers must never pass
 * request bodies, query strings, cookies, header values, SQL parameters or
 * secrets: any of them may carry a victim's data.
 */
#ifndef PA_LOG_H
#define PA_LOG_H

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
