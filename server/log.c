/* Timestamped log lines on stderr. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static void log_line(const char *level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
log_line(const char *level, const char *fmt, va_list ap)
{
	char buf[1024];
	struct timespec ts;
	struct tm tm;
	size_t n;
	int k;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	k = snprintf(buf + n, sizeof(buf) - n, ".%03ldZ %s ",
	    ts.tv_nsec / 1000000, level);
	if (k > 0)
		n += (size_t)k;
	k = vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	if (k > 0)
		n += (size_t)k;
	if (n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	/* One write: a line never mixes with another thread's. */
	if (write(STDERR_FILENO, buf, n) < 0)
		return;
}

#define LOG_FN(fn, level)                      \
	void fn(const char *fmt, ...)          \
	{                                      \
		va_list ap;                    \
		va_start(ap, fmt);             \
		log_line(level, fmt, ap);      \
		va_end(ap);                    \
	}

LOG_FN(log_info, "info")
LOG_FN(log_warn, "warn")
LOG_FN(log_error, "error")
