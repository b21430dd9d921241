/*
 * gerbang-gateway: the TLS reverse proxy. This file is main(): flags,
 * configuration check mode, then the master process.
 */
#include "core/gb_cli.h"
#include "core/gb_log.h"
#include "core/gb_version.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *prog = "gerbang-gateway";

static void
usage(FILE *fp)
{
	fprintf(fp,
"usage: gerbang-gateway -c FILE [-t] [options]\n"
"       gerbang-gateway --from ADDR:PORT --to URL --cert PEM --key PEM\n"
"\n"
"TLS reverse proxy in front of agency APIs: terminates TLS, identifies the\n"
"consumer, enforces the access policy and forwards to the upstream.\n"
"\n"
"  -c, --config FILE       run from this YAML configuration\n"
"  -t, --test              check the configuration and exit (0 good, 1 bad)\n"
"      --from ADDR:PORT    one-route mode: listen here (TLS)\n"
"      --to URL            one-route mode: forward to http(s)://host:port\n"
"      --cert PEM          one-route mode: certificate chain\n"
"      --key PEM           one-route mode: private key\n"
"  -w, --workers N         worker processes (default: number of cores)\n"
"  -u, --user USER         drop to USER after binding and loading keys\n"
"      --log-level LEVEL   debug, info, notice, warn, error (default info)\n"
"      --log-format FMT    text or json (default text)\n"
"      --log-file FILE     log here instead of stderr\n"
"  -h, --help              this text\n"
"  -V, --version           version and library versions\n"
"\n"
"Signals: SIGHUP reloads (a bad configuration is refused and the old one\n"
"keeps serving), SIGTERM drains and stops, SIGUSR1 reopens log files.\n"
"\n"
"Examples:\n"
"  gerbang-gateway -t -c /etc/gerbang/gateway.yaml\n"
"  gerbang-gateway --from 127.0.0.1:8443 --to http://127.0.0.1:8080 \\\n"
"      --cert server.pem --key server.key\n");
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "test", no_argument, NULL, 't' },
		{ "from", required_argument, NULL, 1 },
		{ "to", required_argument, NULL, 2 },
		{ "cert", required_argument, NULL, 3 },
		{ "key", required_argument, NULL, 4 },
		{ "workers", required_argument, NULL, 'w' },
		{ "user", required_argument, NULL, 'u' },
		{ "log-level", required_argument, NULL, 5 },
		{ "log-format", required_argument, NULL, 6 },
		{ "log-file", required_argument, NULL, 7 },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static const char optstring[] = ":c:tw:u:hV";
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
	fprintf(stderr, "%s: the proxy is not built yet (issue 3)\n", prog);
	return GB_EXIT_USAGE;
}
