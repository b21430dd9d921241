/*
 * gerbang-sensor: the passive bulk-exfiltration detector (libpcap).
 * This file is main(): flags, then the sensor pipeline
 * capture -> decode -> flow/reassembly -> http -> detect -> alert.
 */
#include "core/gb_cli.h"
#include "core/gb_log.h"
#include "core/gb_version.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *prog = "gerbang-sensor";

static void
usage(FILE *fp)
{
	fprintf(fp,
"usage: gerbang-sensor (-i IFACE | -r FILE) [options]\n"
"\n"
"Watch HTTP traffic (the plaintext leg behind gerbang-gateway, a mirror\n"
"port or a capture file) and raise an alert when personal data leaves in\n"
"bulk.\n"
"\n"
"Capture:\n"
"  -i, --interface IFACE   capture live on IFACE (\"any\" for all)\n"
"  -r, --read FILE         read a pcap or pcapng file instead\n"
"  -f, --filter EXPR       BPF filter (default: tcp)\n"
"  -s, --snaplen N         bytes kept per packet (default 262144)\n"
"  -B, --buffer SIZE       kernel capture buffer, e.g. 64m (default 32m)\n"
"  -p, --no-promisc        do not put the interface in promiscuous mode\n"
"      --immediate         deliver packets at once (lower latency)\n"
"Detection and output:\n"
"  -c, --config FILE       sensor configuration (YAML)\n"
"      --rules DIR         detection rules (default /etc/gerbang/rules)\n"
"      --store DIR         alert store folder\n"
"      --json FILE         also write alerts as JSON lines (- = stdout)\n"
"      --sensor-id ID      name of this sensor in alerts\n"
"Process:\n"
"  -u, --user USER         drop to USER after opening the capture\n"
"      --log-level LEVEL   debug, info, notice, warn, error (default info)\n"
"      --log-format FMT    text or json (default text)\n"
"      --log-file FILE     log here instead of stderr\n"
"  -h, --help              this text\n"
"  -V, --version           version and library versions\n"
"\n"
"Example:\n"
"  gerbang-sensor -r capture.pcap --rules rules/ --json -\n");
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "read", required_argument, NULL, 'r' },
		{ "filter", required_argument, NULL, 'f' },
		{ "snaplen", required_argument, NULL, 's' },
		{ "buffer", required_argument, NULL, 'B' },
		{ "no-promisc", no_argument, NULL, 'p' },
		{ "immediate", no_argument, NULL, 1 },
		{ "config", required_argument, NULL, 'c' },
		{ "rules", required_argument, NULL, 2 },
		{ "store", required_argument, NULL, 3 },
		{ "json", required_argument, NULL, 4 },
		{ "sensor-id", required_argument, NULL, 5 },
		{ "user", required_argument, NULL, 'u' },
		{ "log-level", required_argument, NULL, 6 },
		{ "log-format", required_argument, NULL, 7 },
		{ "log-file", required_argument, NULL, 8 },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static const char optstring[] = ":i:r:f:s:B:pc:u:hV";
	const char *iface = NULL, *file = NULL;
	int ch;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, optstring, longopts, NULL)) != -1) {
		switch (ch) {
		case 'i':
			iface = optarg;
			break;
		case 'r':
			file = optarg;
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
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", prog,
		    argv[optind]);
		return GB_EXIT_USAGE;
	}
	if ((iface == NULL) == (file == NULL)) {
		fprintf(stderr, "%s: give exactly one of -i IFACE or -r FILE\n"
		    "Try '%s --help' for the list of options.\n", prog, prog);
		return GB_EXIT_USAGE;
	}
	fprintf(stderr, "%s: the capture pipeline is not built yet "
	    "(issue 7: Sensor)\n", prog);
	return GB_EXIT_FAIL;
}
