/*
 * gerbang-sensor: the passive personal-data leak detector (libpcap).
 * This file is main(): flags, then the sensor pipeline
 * capture -> decode -> flow/reassembly -> http -> scan -> transactions.
 * Thresholds, alerts and the store attach to the transaction handler
 * (det_sensor_set_handler) in a later change.
 */
#include "core/gb_buf.h"
#include "core/gb_cli.h"
#include "core/gb_diag.h"
#include "core/gb_log.h"
#include "core/gb_util.h"
#include "core/gb_version.h"
#include "detectors/det_rules.h"
#include "detectors/det_scan.h"
#include "detectors/det_sensor.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *prog = "gerbang-sensor";
static struct det_sensor_cap *g_cap;	/* for the signal handler */

static void
usage(FILE *fp)
{
	fprintf(fp,
"usage: gerbang-sensor (-i IFACE | -r FILE) [options]\n"
"\n"
"Watch HTTP traffic (the plaintext leg behind gerbang-gateway, a mirror\n"
"port or a capture file), reassemble TCP, follow HTTP/1.1 on any port and\n"
"scan request and response bodies for Indonesian personal data. Each HTTP\n"
"transaction with findings becomes one JSON line (values masked).\n"
"\n"
"Capture:\n"
"  -i, --interface IFACE   capture live on IFACE (\"any\" for all)\n"
"  -r, --read FILE         read a pcap or pcapng file instead (- = stdin)\n"
"  -f, --filter EXPR       BPF filter (default: none; \"tcp\" alone misses\n"
"                          VLAN-tagged frames and IPv6 extension headers)\n"
"  -s, --snaplen N         bytes kept per packet (default 262144)\n"
"  -B, --buffer SIZE       kernel capture buffer, e.g. 64m (default 32m)\n"
"  -p, --no-promisc        do not put the interface in promiscuous mode\n"
"      --immediate         deliver packets at once (lower latency)\n"
"Detection and output:\n"
"      --rules DIR         detection rules (default: built-in defaults)\n"
"      --json FILE         write transactions as JSON lines (- = stdout)\n"
"      --all               write every transaction, not only those with\n"
"                          findings\n"
"      --sensor-id ID      name of this sensor in the output\n"
"Limits:\n"
"      --max-flows N       connections tracked at once (default 262144)\n"
"      --flow-memcap SIZE  flows + out-of-order bytes (default 512m)\n"
"      --stream-queue SIZE out-of-order bytes per direction (default 1m)\n"
"      --idle-timeout DUR  forget idle connections (default 120s)\n"
"Health:\n"
"      --stats-interval DUR  log the counters every DUR (default 60s live,\n"
"                          0 to disable)\n"
"      --stats-json FILE   write the final counters as JSON (- = stdout)\n"
"      --drop-warn PCT     warn when the kernel drops more than PCT%% of\n"
"                          packets between reports (default 1)\n"
"Process:\n"
"  -u, --user USER         drop to USER after opening the capture\n"
"                          (default nobody, when started as root)\n"
"      --log-level LEVEL   debug, info, notice, warn, error (default info)\n"
"      --log-format FMT    text or json (default text)\n"
"      --log-file FILE     log here instead of stderr\n"
"  -h, --help              this text\n"
"  -V, --version           version and library versions\n"
"\n"
"Example:\n"
"  gerbang-sensor -r capture.pcap --rules rules/ --json -\n"
"  gerbang-sensor -i eth1 -f 'tcp port 8080' --json /var/log/gerbang/"
"sensor.jsonl\n");
}

static void
on_signal(int sig)
{
	(void)sig;
	if (g_cap != NULL)
		det_sensor_cap_stop(g_cap);
}

static int
bad_value(const char *opt, const char *v)
{
	fprintf(stderr, "%s: invalid value '%s' for %s\n"
	    "Try '%s --help' for the list of options.\n", prog, v, opt, prog);
	return GB_EXIT_USAGE;
}

static FILE *
open_out(const char *path, const char *mode)
{
	if (strcmp(path, "-") == 0)
		return stdout;
	return fopen(path, mode);
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
		{ "rules", required_argument, NULL, 2 },
		{ "json", required_argument, NULL, 4 },
		{ "sensor-id", required_argument, NULL, 5 },
		{ "user", required_argument, NULL, 'u' },
		{ "log-level", required_argument, NULL, 6 },
		{ "log-format", required_argument, NULL, 7 },
		{ "log-file", required_argument, NULL, 8 },
		{ "all", no_argument, NULL, 9 },
		{ "max-flows", required_argument, NULL, 10 },
		{ "flow-memcap", required_argument, NULL, 11 },
		{ "stream-queue", required_argument, NULL, 12 },
		{ "idle-timeout", required_argument, NULL, 13 },
		{ "stats-interval", required_argument, NULL, 14 },
		{ "stats-json", required_argument, NULL, 15 },
		{ "drop-warn", required_argument, NULL, 16 },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static const char optstring[] = ":i:r:f:s:B:pu:hV";
	struct det_capture_conf cc = {
		.filter = NULL, .snaplen = 262144, .buffer = 32 << 20,
		.promisc = true,
	};
	struct det_sensor_conf conf;
	const char *rules_dir = NULL, *json_path = NULL, *stats_path = NULL;
	const char *user = NULL, *log_file = NULL;
	enum gb_log_level level = GB_LOG_INFO;
	enum gb_log_format fmt = GB_LOG_TEXT;
	uint64_t v, stats_ms = UINT64_MAX;
	double drop_warn = 1.0;
	struct det_rules *rules = NULL;
	struct det_scanner *sc = NULL;
	struct det_sensor *s = NULL;
	struct det_sensor_capstats cst;
	struct gb_diags diags;
	struct sigaction sa;
	struct gb_buf b;
	FILE *stats_fp = NULL;
	char err[512], *end;
	int ch, rc = GB_EXIT_FAIL;

	det_sensor_conf_default(&conf);
	opterr = 0;
	while ((ch = getopt_long(argc, argv, optstring, longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'i':
			cc.iface = optarg;
			break;
		case 'r':
			cc.file = optarg;
			break;
		case 'f':
			cc.filter = optarg;
			break;
		case 's':
			if (gb_parse_size(optarg, &v) == -1 || v < 64 ||
			    v > 262144)
				return bad_value("--snaplen", optarg);
			cc.snaplen = (int)v;
			break;
		case 'B':
			if (gb_parse_size(optarg, &v) == -1 || v < 65536 ||
			    v > INT_MAX)
				return bad_value("--buffer", optarg);
			cc.buffer = (int)v;
			break;
		case 'p':
			cc.promisc = false;
			break;
		case 1:
			cc.immediate = true;
			break;
		case 2:
			rules_dir = optarg;
			break;
		case 4:
			json_path = optarg;
			break;
		case 5:
			conf.sensor_id = optarg;
			break;
		case 'u':
			user = optarg;
			break;
		case 6:
			if (gb_log_level_parse(optarg, &level) == -1)
				return bad_value("--log-level", optarg);
			break;
		case 7:
			if (gb_log_format_parse(optarg, &fmt) == -1)
				return bad_value("--log-format", optarg);
			break;
		case 8:
			log_file = optarg;
			break;
		case 9:
			conf.json_all = true;
			break;
		case 10:
			if (gb_parse_size(optarg, &v) == -1 || v == 0 ||
			    v > (1u << 26))
				return bad_value("--max-flows", optarg);
			conf.flow.max_flows = (size_t)v;
			break;
		case 11:
			if (gb_parse_size(optarg, &v) == -1 || v < (1u << 20))
				return bad_value("--flow-memcap", optarg);
			conf.flow.memcap = (size_t)v;
			break;
		case 12:
			if (gb_parse_size(optarg, &v) == -1 || v < 4096 ||
			    v > (1u << 30))
				return bad_value("--stream-queue", optarg);
			conf.flow.max_queued = (size_t)v;
			break;
		case 13:
			if (gb_parse_duration_ms(optarg, &v) == -1 || v == 0)
				return bad_value("--idle-timeout", optarg);
			conf.flow.idle_timeout_us = v * 1000;
			break;
		case 14:
			if (gb_parse_duration_ms(optarg, &v) == -1)
				return bad_value("--stats-interval", optarg);
			stats_ms = v;
			break;
		case 15:
			stats_path = optarg;
			break;
		case 16:
			errno = 0;
			drop_warn = strtod(optarg, &end);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    !(drop_warn >= 0 && drop_warn <= 100))
				return bad_value("--drop-warn", optarg);
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
	if ((cc.iface == NULL) == (cc.file == NULL)) {
		fprintf(stderr, "%s: give exactly one of -i IFACE or -r FILE\n"
		    "Try '%s --help' for the list of options.\n", prog, prog);
		return GB_EXIT_USAGE;
	}
	if (stats_ms == UINT64_MAX)
		stats_ms = cc.iface != NULL ? 60000 : 0;
	if (gb_log_open(prog, log_file, fmt, level) == -1) {
		fprintf(stderr, "%s: %s: %s\n", prog, log_file,
		    strerror(errno));
		return GB_EXIT_FAIL;
	}

	/* Everything that needs privileges or files, then drop root. */
	gb_diags_init(&diags, 20);
	if (rules_dir != NULL) {
		if (det_rules_load_dir(rules_dir, &rules, &diags) == -1) {
			gb_diags_print(&diags, stderr);
			gb_diags_free(&diags);
			fprintf(stderr, "%s: %s: rules not loaded\n", prog,
			    rules_dir);
			rc = GB_EXIT_USAGE;
			goto out;
		}
	}
	gb_diags_free(&diags);
	if (det_scanner_new(rules, &sc) == -1) {
		gb_error("out of memory");
		goto out;
	}
	if (json_path != NULL &&
	    (conf.json = open_out(json_path, "a")) == NULL) {
		gb_error("%s: %s", json_path, strerror(errno));
		goto out;
	}
	if (stats_path != NULL &&
	    (stats_fp = open_out(stats_path, "w")) == NULL) {
		gb_error("%s: %s", stats_path, strerror(errno));
		goto out;
	}
	if (det_sensor_cap_open(&cc, &g_cap, err, sizeof(err)) == -1) {
		gb_error("cannot open the capture: %s", err);
		goto out;
	}
	if (det_sensor_drop_privileges(user) == -1)
		goto out;
	if (det_sensor_new(&conf, sc, &s) == -1) {
		gb_error("out of memory");
		goto out;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, NULL);

	if (cc.iface != NULL)
		gb_info("capturing on %s (%s), filter \"%s\"", cc.iface,
		    det_pkt_dlt_str(det_sensor_cap_dlt(g_cap)) ?
		    det_pkt_dlt_str(det_sensor_cap_dlt(g_cap)) : "unsupported",
		    cc.filter ? cc.filter : "");
	if (det_sensor_cap_run(g_cap, s, stats_ms, drop_warn) == 0)
		rc = GB_EXIT_OK;
	det_sensor_finish(s);

	det_sensor_cap_stats(g_cap, &cst);
	gb_buf_init(&b, 1u << 16);
	if (det_sensor_stats_json(s, &cst, &b) == 0 &&
	    gb_buf_cstr(&b) != NULL) {
		gb_info("exit stats %.*s", (int)(gb_buf_used(&b) - 1),
		    (const char *)gb_buf_head(&b));
		if (stats_fp != NULL)
			(void)fwrite(gb_buf_head(&b), 1, gb_buf_used(&b),
			    stats_fp);
	}
	gb_buf_free(&b);
out:
	det_sensor_free(s);
	det_sensor_cap_close(g_cap);
	g_cap = NULL;
	det_scanner_free(sc);
	det_rules_free(rules);
	if (conf.json != NULL && conf.json != stdout)
		fclose(conf.json);
	else if (conf.json == stdout)
		fflush(stdout);
	if (stats_fp != NULL && stats_fp != stdout)
		fclose(stats_fp);
	gb_log_close();
	return rc;
}
