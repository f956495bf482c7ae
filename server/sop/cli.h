/*
 * sop: the command line part, private to sop/ and main.c.
 */
#ifndef PA_SOP_CLI_H
#define PA_SOP_CLI_H

/*
 * `passerelle sop check FILE`: loads and validates FILE, writes each problem
 * to standard error as "JSON path: message" followed by a summary line, or
 * "sop: FILE is valid (N stages, M transitions, K fields)" to standard
 * output. Returns the exit code: 0 valid, 1 not.
 */
int sop_check_main(const char *path);

#endif
