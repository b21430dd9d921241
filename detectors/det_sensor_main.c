/*
 * gerbang-sensor: the passive personal-data leak detector (libpcap).
 * This file is main(): flags, then the sensor pipeline
 * capture -> decode -> flow/reassembly -> http -> scan -> transactions.
 * Detection (attribution, bulk and scraping thresholds, health) is
 * det_alert.c; alerts go to the store and as JSON lines.
 */
#include "core/gb_buf.h"
#include "core/gb_cli.h"
#include "core/gb_diag.h"
#include "core/gb_log.h"
#include "core/gb_priv.h"
#include "core/gb_util.h"
#include "core/gb_version.h"
#include "core/gb_idhdr.h"
#include "detectors/det_alert.h"
#include "detectors/det_decode.h"
#include "detectors/det_rules.h"
#include "detectors/det_scan.h"
#include "detectors/det_sensor.h"
#include "store/store.h"

#include <openssl/evp.h>

#include <errno.h>
#include <inttypes.h>
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
"      --rules DIR         detection rules (default: the shipped rules/,\n"
"                          built in)\n"
"      --transactions FILE write every transaction with findings as a\n"
"                          JSON line (- = stdout)\n"
"      --all               write every transaction, not only those with\n"
"                          findings\n"
"      --sensor-id ID      name of this sensor in the output\n"
"      --decode LAYERS     decoding layers on bodies: all (default), none,\n"
"                          or a list of json,pct,html,b64; gzip and\n"
"                          deflate bodies are inflated unless none\n"
"      --max-decoders N    bodies decoded at once (default 4096)\n"
"Alerts:\n"
"      --store DIR         write alerts to the alert store in DIR\n"
"      --store-key PEM     Ed25519 key that signs the store's checkpoints\n"
"      --json FILE         write alerts as JSON lines for a SIEM, the\n"
"                          gerbang-audit export format (- = stdout)\n"
"      --consumer-key FILE the gateway's consumer_header.hmac_key: verify\n"
"                          X-Gerbang-Consumer (without it the header is\n"
"                          taken as unverified)\n"
"      --scrape-distinct N identifiers in request paths of one template\n"
"                          from one consumer or source that make scraping\n"
"                          (default 100; 0 disables)\n"
"      --scrape-window DUR window of that count (default 10m)\n"
"      --loss-alert PCT    raise a sensor-health alert when the capture\n"
"                          loses more than PCT%% of packets (default 0.1)\n"
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
"  gerbang-sensor -r capture.pcap --transactions - --all\n"
"  gerbang-sensor -i eth1 -f 'tcp port 8080' --json /var/log/gerbang/"
"sensor.jsonl\n");
}

struct tick_arg {
	struct det_alert	*det;
	struct store_writer	*w;
	FILE			*alerts;
};

/* Once a second on a live capture: health, group commit, SIEM lines. */
static void
on_tick(const struct det_sensor_capstats *cs, uint64_t wall_us,
    uint64_t mono_ms, void *arg)
{
	struct tick_arg *ta = arg;

	det_alert_health(ta->det, cs, wall_us);
	if (ta->w != NULL)
		(void)store_writer_tick(ta->w, mono_ms);
	if (ta->alerts != NULL)
		(void)fflush(ta->alerts);
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
		{ "transactions", required_argument, NULL, 4 },
		{ "json", required_argument, NULL, 20 },
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
		{ "store", required_argument, NULL, 17 },
		{ "store-key", required_argument, NULL, 18 },
		{ "consumer-key", required_argument, NULL, 19 },
		{ "scrape-distinct", required_argument, NULL, 21 },
		{ "scrape-window", required_argument, NULL, 22 },
		{ "loss-alert", required_argument, NULL, 23 },
		{ "decode", required_argument, NULL, 24 },
		{ "max-decoders", required_argument, NULL, 25 },
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
	struct det_alert_conf aconf;
	struct det_alert *det = NULL;
	struct det_alert_stats ast;
	struct store_writer *w = NULL;
	struct store_writer_opts wopts;
	struct store_writer_stats wst;
	struct gb_idhdr_key ckey;
	struct tick_arg ta;
	EVP_PKEY *skey = NULL;
	const char *store_dir = NULL, *store_key = NULL, *ckey_path = NULL;
	const char *alerts_path = NULL;
	FILE *alerts_fp = NULL;
	unsigned dflags;
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
	det_alert_conf_default(&aconf);
	memset(&ta, 0, sizeof(ta));
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
		case 17:
			store_dir = optarg;
			break;
		case 18:
			store_key = optarg;
			break;
		case 19:
			ckey_path = optarg;
			break;
		case 20:
			alerts_path = optarg;
			break;
		case 21:
			if (gb_parse_size(optarg, &v) == -1 || v > (1u << 30))
				return bad_value("--scrape-distinct", optarg);
			aconf.scrape_distinct = v;
			break;
		case 22:
			if (gb_parse_duration_ms(optarg, &v) == -1 || v == 0)
				return bad_value("--scrape-window", optarg);
			aconf.scrape_window_ms = v;
			break;
		case 23:
			errno = 0;
			aconf.loss_ratio = strtod(optarg, &end) / 100;
			if (errno != 0 || end == optarg || *end != '\0' ||
			    !(aconf.loss_ratio >= 0 && aconf.loss_ratio <= 1))
				return bad_value("--loss-alert", optarg);
			break;
		case 24:
			if (strcmp(optarg, "none") == 0) {
				conf.max_decoders = 0;
				conf.layers = 0;
			} else if (det_dec_flags_parse(optarg, &dflags) == -1 ||
			    (dflags & ~(unsigned)(DET_DEC_TEXT | DET_DEC_GZIP |
			    DET_DEC_DEFLATE)) != 0)
				return bad_value("--decode", optarg);
			else
				conf.layers = dflags & DET_DEC_TEXT;
			break;
		case 25:
			if (gb_parse_size(optarg, &v) == -1 || v > (1u << 20))
				return bad_value("--max-decoders", optarg);
			conf.max_decoders = (size_t)v;
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
	/* Without --rules: the shipped rules, built in (not the bare
	 * defaults, which have no bulk thresholds). */
	if (rules == NULL && det_rules_shipped_load(&rules, &diags) == -1) {
		gb_diags_print(&diags, stderr);
		gb_diags_free(&diags);
		gb_error("the built-in rules do not load");
		goto out;
	}
	gb_diags_free(&diags);
	if (det_scanner_new(rules, &sc) == -1) {
		gb_error("out of memory");
		goto out;
	}
	if (json_path != NULL &&
	    (conf.json = open_out(json_path, "a")) == NULL) {
		gb_error("%s: %s", json_path, strerror(errno));
		rc = GB_EXIT_USAGE;
		goto out;
	}
	if (stats_path != NULL &&
	    (stats_fp = open_out(stats_path, "w")) == NULL) {
		gb_error("%s: %s", stats_path, strerror(errno));
		rc = GB_EXIT_USAGE;
		goto out;
	}
	/* The alert side: keys and the store, before the drop too. */
	if (store_key != NULL && store_dir == NULL) {
		gb_error("--store-key needs --store");
		rc = GB_EXIT_USAGE;
		goto out;
	}
	if (store_key != NULL && store_key_load_private(store_key, &skey, err,
	    sizeof(err)) == -1) {
		gb_error("%s", err);
		rc = GB_EXIT_USAGE;
		goto out;
	}
	if (store_dir != NULL) {
		memset(&wopts, 0, sizeof(wopts));
		wopts.key = skey;
		if (store_writer_open(store_dir, &wopts, &w, err,
		    sizeof(err)) == -1) {
			gb_error("alert store: %s", err);
			goto out;
		}
		if (skey == NULL)
			gb_warn("alert store %s: no --store-key, checkpoints "
			    "are not signed", store_dir);
	}
	if (ckey_path != NULL && gb_idhdr_key_load(ckey_path, &ckey, err,
	    sizeof(err)) == -1) {
		gb_error("--consumer-key %s", err);
		rc = GB_EXIT_USAGE;
		goto out;
	}
	if (alerts_path != NULL &&
	    (alerts_fp = open_out(alerts_path, "a")) == NULL) {
		gb_error("%s: %s", alerts_path, strerror(errno));
		rc = GB_EXIT_USAGE;
		goto out;
	}
	aconf.rules = rules;
	aconf.sensor_id = conf.sensor_id ? conf.sensor_id : "gerbang-sensor";
	aconf.store = w;
	aconf.json = alerts_fp;
	aconf.consumer_key = ckey_path != NULL ? &ckey : NULL;
	if (det_alert_new(&aconf, &det) == -1) {
		gb_error("detection: out of memory");
		goto out;
	}
	if (ckey_path != NULL)
		explicit_bzero(&ckey, sizeof(ckey));
	if (det_sensor_cap_open(&cc, &g_cap, err, sizeof(err)) == -1) {
		gb_error("cannot open the capture: %s", err);
		goto out;
	}
	if (gb_drop_privileges(user) == -1)
		goto out;
	if (det_sensor_new(&conf, sc, &s) == -1) {
		gb_error("out of memory");
		goto out;
	}
	det_sensor_set_detector(s, det_alert_on_finding, det_alert_on_txn, det);
	ta.det = det;
	ta.w = w;
	ta.alerts = alerts_fp;
	det_sensor_cap_set_tick(g_cap, on_tick, &ta);

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
	det_alert_stats(det, &ast);
	gb_info("alerts %" PRIu64 " (stored %" PRIu64 ", refused by the "
	    "store %" PRIu64 "); consumer headers: %" PRIu64 " verified, %"
	    PRIu64 " unsigned, %" PRIu64 " forged, %" PRIu64 " stale, %"
	    PRIu64 " malformed", ast.alerts, ast.stored, ast.store_refused,
	    ast.consumer_verified, ast.consumer_unsigned, ast.consumer_forged,
	    ast.consumer_stale, ast.consumer_malformed);
	if (w != NULL) {
		(void)store_writer_flush(w);
		store_writer_stats(w, &wst);
		if (store_writer_close(w) == -1) {
			gb_error("alert store: alerts could not be committed "
			    "(counted lost)");
			rc = GB_EXIT_FAIL;
		}
		w = NULL;
		gb_info("alert store: %" PRIu64 " committed in %" PRIu64
		    " batches, %" PRIu64 " lost", wst.committed, wst.batches,
		    wst.lost);
	}

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
	det_alert_free(det);
	if (w != NULL)
		(void)store_writer_close(w);
	EVP_PKEY_free(skey);
	if (alerts_fp != NULL && alerts_fp != stdout)
		fclose(alerts_fp);
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
