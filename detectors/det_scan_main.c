/*
 * gerbang-scan: scan files, folders or stdin for Indonesian personal data,
 * like a DLP command line. This file is main().
 */
#include "core/gb_cli.h"
#include "core/gb_version.h"

#include <stdio.h>
#include <string.h>

static const char *prog = "gerbang-scan";

static void
usage(FILE *fp)
{
	fprintf(fp,
"usage: gerbang-scan [options] [FILE | DIR | -]...\n"
"\n"
"Find Indonesian personal data (NIK, Nomor KK, NPWP, phone numbers,\n"
"e-mail, payment cards, NIP, BPJS, passports) in files, folders or stdin\n"
"(gzip is detected). Values are masked unless --unmasked.\n"
"\n"
"  -f, --format FMT    table (default) or jsonl (one finding a line)\n"
"  -r, --rules DIR     detection rules (default: the shipped rules)\n"
"      --unmasked      print values in clear (handle the output with care)\n"
"  -h, --help          this text\n"
"  -V, --version       version and library versions\n"
"\n"
"Exit status: 0 nothing found, 1 personal data found, 2 error.\n"
"\n"
"Example:\n"
"  gerbang-scan --format jsonl export.csv\n");
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "rules", required_argument, NULL, 'r' },
		{ "unmasked", no_argument, NULL, 1 },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static const char optstring[] = ":f:r:hV";
	int ch;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, optstring, longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			if (strcmp(optarg, "table") != 0 &&
			    strcmp(optarg, "jsonl") != 0) {
				fprintf(stderr, "%s: --format: expected table "
				    "or jsonl, got '%s'\n", prog, optarg);
				return GB_EXIT_USAGE;
			}
			break;
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
	fprintf(stderr, "%s: the scanner is not built yet "
	    "(issue 5: Detection engine)\n", prog);
	return GB_EXIT_USAGE;
}
