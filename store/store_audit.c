/*
 * gerbang-audit: the auditors' tool over the alert store. Opens the store
 * read-only. This file is main().
 */
#include "core/gb_cli.h"
#include "core/gb_version.h"

#include <stdio.h>
#include <string.h>

static const char *prog = "gerbang-audit";

static const char *const commands[] = {
	"list", "show", "stats", "follow", "export", "verify", "report", NULL,
};

static void
usage(FILE *fp)
{
	fprintf(fp,
"usage: gerbang-audit [--store DIR] [--format FMT] COMMAND [ARGS]\n"
"\n"
"Query and verify the gerbang alert store (read-only).\n"
"\n"
"Commands:\n"
"  list [filters]         alerts, newest last\n"
"  show ID                one alert in full (values masked)\n"
"  stats [filters]        counts by rule, source, consumer, type, day\n"
"  follow [filters]       print new alerts as they arrive\n"
"  export [filters]       JSON lines or CSV\n"
"  verify                 check the hash chain and every signature\n"
"  report --incident ID   breach-notification draft (Law 27/2022)\n"
"\n"
"Options:\n"
"  -s, --store DIR        the alert store folder\n"
"  -f, --format FMT       table (default), json or csv\n"
"  -h, --help             this text\n"
"  -V, --version          version and library versions\n"
"\n"
"Example:\n"
"  gerbang-audit --store /var/lib/gerbang/alerts list --since 24h\n");
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	/* "+": stop at the command; its own flags follow it. */
	static const char optstring[] = "+:s:f:hV";
	const char *const *c;
	int ch;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, optstring, longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(stdout);
			return GB_EXIT_OK;
		case 'V':
			gb_version_print(stdout, prog);
			return GB_EXIT_OK;
		case '?':
		case ':':
			return gb_cli_bad_option(prog, argv, optstring);
		default:
			break;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "%s: missing command\n"
		    "Try '%s --help' for the list of commands.\n", prog, prog);
		return GB_EXIT_USAGE;
	}
	for (c = commands; *c != NULL; c++)
		if (strcmp(*c, argv[optind]) == 0)
			break;
	if (*c == NULL) {
		fprintf(stderr, "%s: unknown command '%s'\n"
		    "Try '%s --help' for the list of commands.\n", prog,
		    argv[optind], prog);
		return GB_EXIT_USAGE;
	}
	fprintf(stderr, "%s: the alert store is not built yet "
	    "(issue 6: Alert store)\n", prog);
	return GB_EXIT_USAGE;
}
