/*
 * gb_cli: what every gerbang program's main() shares: the exit codes and
 * the message for a bad command line. Only main() code calls these.
 */
#ifndef GB_CLI_H
#define GB_CLI_H

#include <getopt.h>

/* Exit codes shared by every program. */
#define GB_EXIT_OK	0
#define GB_EXIT_FAIL	1	/* ran, and the answer is "no" or "failed" */
#define GB_EXIT_USAGE	2	/* bad command line or configuration */

/*
 * Report the option getopt_long() just refused (call with opterr = 0 when
 * it returned '?' or ':') as "prog: unknown option '--x'" and a hint to
 * --help, on stderr. argv and optind are getopt's. Returns GB_EXIT_USAGE.
 */
int	gb_cli_bad_option(const char *prog, char *const argv[],
	    const char *optstring);

#endif /* GB_CLI_H */
