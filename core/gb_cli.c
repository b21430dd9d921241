/* gb_cli: shared command-line handling. See gb_cli.h. */
#include "core/gb_cli.h"

#include <stdio.h>
#include <string.h>

int
gb_cli_bad_option(const char *prog, char *const argv[], const char *optstring)
{
	const char *arg = argv[optind - 1];
	char *p;

	if (arg != NULL && strncmp(arg, "--", 2) == 0) {
		size_t n = strcspn(arg, "=");

		if (optopt != 0)
			fprintf(stderr, "%s: option '%.*s' needs a value\n",
			    prog, (int)n, arg);
		else
			fprintf(stderr, "%s: unknown option '%.*s'\n", prog,
			    (int)n, arg);
	} else if (optopt != 0 && (p = strchr(optstring, optopt)) != NULL &&
	    p[1] == ':')
		fprintf(stderr, "%s: option '-%c' needs a value\n", prog,
		    optopt);
	else
		fprintf(stderr, "%s: unknown option '-%c'\n", prog,
		    optopt ? optopt : '?');
	fprintf(stderr, "Try '%s --help' for the list of options.\n", prog);
	return GB_EXIT_USAGE;
}
