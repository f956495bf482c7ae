/*
 * http: the libmicrohttpd glue. The only module that includes microhttpd.h.
 */
#ifndef PA_HTTP_H
#define PA_HTTP_H

#include "../config.h"

/*
 * Serves until SIGTERM or SIGINT, then stops accepting, lets requests in
 * flight finish and returns 0; returns 1 when the server cannot start (the
 * reason logged in one line). The caller has opened the database pool.
 */
int http_serve(const struct config *c);

#endif
