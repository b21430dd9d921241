/*
 * gerbang-scan: scan files, folders or stdin for Indonesian personal data,
 * like a DLP command line. This file is main().
 */
#include "core/gb_cli.h"
#include "core/gb_diag.h"
#include "core/gb_mask.h"
#include "core/gb_version.h"
#include "detectors/det_bulk.h"
#include "detectors/det_count.h"
#include "detectors/det_decode.h"
#include "detectors/det_rules.h"
#include "detectors/det_scan.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *prog = "gerbang-scan";

#define DISTINCT_CAP	(1u << 20)	/* values remembered for "distinct" */
#define BULK_LINES	100		/* bulk alerts listed in the table */

struct scan_ctx {
	struct det_decoder	*dec;
	struct det_bulk		*bulk;
	struct det_decode_stats	 dtot;		/* summed over files */
	bool			 partial;	/* a file not scanned to its end */
	uint64_t		 bulk_alerts;
	char			*lines[BULK_LINES];	/* for the table */
	uint8_t			 hkey[DET_COUNT_KEY_LEN];
	size_t			 nlines;
	const char		*name;		/* file being scanned */
	bool			 jsonl;
	bool			 unmasked;
	uint64_t		 count[DET_T_COUNT];
	uint64_t		 distinct[DET_T_COUNT];
	bool			 distinct_capped;
	/* open-addressing set of 64-bit value hashes (type in the key) */
	uint64_t		*set;
	size_t			 set_n;
	size_t			 set_cap;
	uint64_t		 files;
	uint64_t		 bytes;
	int			 errors;
};

static void
usage(FILE *fp)
{
	fprintf(fp,
"usage: gerbang-scan [options] [FILE | DIR | -]...\n"
"\n"
"Find Indonesian personal data (NIK, Nomor KK, NPWP, phone numbers,\n"
"e-mail, payment cards, NIP, BPJS, passports, SIM) in files, folders or\n"
"stdin (gzip and escapes are decoded: --decode). Values are masked unless\n"
"--unmasked.\n"
"\n"
"  -f, --format FMT    table (default) or jsonl (one finding a line)\n"
"  -r, --rules DIR     detection rules (default: the shipped rules)\n"
"  -d, --decode LIST   decoding layers, comma-separated: gzip (by magic),\n"
"                      json, pct, html, b64, all (default), none\n"
"      --unmasked      print values in clear (handle the output with care)\n"
"  -h, --help          this text\n"
"  -V, --version       version and library versions\n"
"\n"
"Folders are scanned recursively; with no FILE, stdin is scanned.\n"
"Exit status: 0 nothing found, 1 personal data found, 2 error, or\n"
"nothing found in a file not scanned to its end (a decompression\n"
"limit, a corrupt gzip stream).\n"
"\n"
"Example:\n"
"  gerbang-scan --format jsonl export.csv\n");
}

/*
 * Keyed hash (SipHash-2-4, key random per run) of type and value: the set
 * of distinct values never holds an identifier, nor an unkeyed hash one
 * could reverse by enumerating NIKs. 0 is the empty slot marker.
 */
static uint64_t
value_hash(const struct scan_ctx *sc, enum det_type t, const char *v,
    size_t n)
{
	uint64_t h = det_count_hash(sc->hkey, (unsigned)t, v, n);

	return h == 0 ? 1 : h;
}

/* Returns true when the value is new. */
static bool
set_add(struct scan_ctx *sc, uint64_t h)
{
	uint64_t *nset;
	size_t i, cap;

	if (sc->set_n * 2 >= sc->set_cap) {
		if (sc->set_cap >= DISTINCT_CAP * 2) {
			sc->distinct_capped = true;
			return false;
		}
		cap = sc->set_cap == 0 ? 1024 : sc->set_cap * 2;
		if ((nset = calloc(cap, sizeof(*nset))) == NULL) {
			sc->distinct_capped = true;
			return false;
		}
		for (i = 0; i < sc->set_cap; i++) {
			size_t j;

			if (sc->set[i] == 0)
				continue;
			for (j = sc->set[i] & (cap - 1); nset[j] != 0;
			    j = (j + 1) & (cap - 1))
				;
			nset[j] = sc->set[i];
		}
		free(sc->set);
		sc->set = nset;
		sc->set_cap = cap;
	}
	for (i = h & (sc->set_cap - 1); sc->set[i] != 0;
	    i = (i + 1) & (sc->set_cap - 1))
		if (sc->set[i] == h)
			return false;
	sc->set[i] = h;
	sc->set_n++;
	return true;
}

static void
json_str(FILE *fp, const char *s)
{
	const unsigned char *p;

	fputc('"', fp);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(fp, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(fp, "\\u%04x", *p);
		else
			fputc(*p, fp);
	}
	fputc('"', fp);
}

/* A response-scope bulk rule crossed in the file being scanned. */
static void
on_bulk(const struct det_bulk_alert *a, void *arg)
{
	struct scan_ctx *sc = arg;
	char fl[64], line[512];
	int n;

	sc->bulk_alerts++;
	if (sc->jsonl) {
		fputs("{\"file\":", stdout);
		json_str(stdout, sc->name);
		fputs(",\"bulk\":", stdout);
		json_str(stdout, a->rule != NULL ? a->rule->name : "canary");
		printf(",\"severity\":\"%s\",\"distinct\":%llu,"
		    "\"threshold\":%llu,\"exact\":%s,\"alert\":\"%s\"}\n",
		    det_severity_str(a->severity),
		    (unsigned long long)a->distinct,
		    (unsigned long long)(a->rule != NULL ? a->rule->distinct :
		    0), a->exact ? "true" : "false",
		    det_bulk_flags_str(a->flags, fl, sizeof(fl)));
		return;
	}
	if (a->rule == NULL)
		n = snprintf(line, sizeof(line), "%s: canary value (%s) seen, "
		    "severity %s", sc->name, det_type_str(a->canary_type),
		    det_severity_str(a->severity));
	else
		n = snprintf(line, sizeof(line), "%s: rule %s: %llu distinct "
		    "%s identifiers > %llu, severity %s%s", sc->name,
		    a->rule->name, (unsigned long long)a->distinct,
		    a->rule->type < 0 ? "" :
		    det_type_str((enum det_type)a->rule->type),
		    (unsigned long long)a->rule->distinct,
		    det_severity_str(a->severity),
		    (a->flags & DET_BULK_A_ESCALATED) ? " (escalated)" : "");
	if (n < 0 || sc->nlines == BULK_LINES)
		return;
	if ((sc->lines[sc->nlines] = strdup(line)) != NULL)
		sc->nlines++;
}

static void
on_finding(const struct det_finding *f, void *arg)
{
	struct scan_ctx *sc = arg;
	char masked[DET_VALUE_MAX];

	sc->count[f->type]++;
	if (set_add(sc, value_hash(sc, f->type, f->value, f->vlen)))
		sc->distinct[f->type]++;
	if (sc->bulk != NULL) {
		struct det_bulk_subject w;

		memset(&w, 0, sizeof(w));
		w.key[DET_SCOPE_RESPONSE] = sc->name;
		w.len[DET_SCOPE_RESPONSE] = strlen(sc->name);
		(void)det_bulk_add(sc->bulk, &w, f, 0, on_bulk, sc);
	}
	if (!sc->jsonl)
		return;
	if (!sc->unmasked)
		gb_mask(masked, sizeof(masked), f->value, f->vlen);
	fputs("{\"file\":", stdout);
	json_str(stdout, sc->name);
	printf(",\"type\":\"%s\",\"value\":", det_type_str(f->type));
	json_str(stdout, sc->unmasked ? f->value : masked);
	printf(",\"offset\":%llu,\"length\":%u,\"confidence\":%u}\n",
	    (unsigned long long)f->offset, f->length, f->confidence);
}

static void
add_stats(struct det_decode_stats *t, const struct det_decode_stats *s)
{
	t->in_bytes += s->in_bytes;
	t->inspected_bytes += s->inspected_bytes;
	t->skipped_bytes += s->skipped_bytes;
	t->decoded_bytes += s->decoded_bytes;
	t->limit_hits += s->limit_hits;
	t->errors += s->errors;
	t->escapes += s->escapes;
	t->b64_blocks += s->b64_blocks;
	t->layers |= s->layers;
	t->limits |= s->limits;
}

static int
scan_fd(struct scan_ctx *sc, int fd, const char *name)
{
	static uint8_t buf[1 << 17];
	struct det_decode_stats ds;
	char lim[64];
	ssize_t n;

	sc->name = name;
	det_decode_reset(sc->dec);
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "%s: %s: %s\n", prog, name,
			    strerror(errno));
			break;
		}
		(void)det_decode_feed(sc->dec, buf, (size_t)n, on_finding, sc);
	}
	(void)det_decode_finish(sc->dec, on_finding, sc);
	close(fd);
	det_decode_stats(sc->dec, &ds);
	if (ds.limit_hits > 0 || (ds.limits & DET_DEC_L_CORRUPT)) {
		sc->partial = true;
		fprintf(stderr, "%s: %s: not scanned past a limit or an "
		    "error (%s): %llu of %llu bytes skipped\n", prog, name,
		    det_dec_limits_str(ds.limits, lim, sizeof(lim)),
		    (unsigned long long)ds.skipped_bytes,
		    (unsigned long long)ds.in_bytes);
	}
	add_stats(&sc->dtot, &ds);
	sc->bytes += ds.in_bytes;
	if (sc->bulk != NULL)
		det_bulk_end(sc->bulk, DET_SCOPE_RESPONSE, name, strlen(name));
	sc->files++;
	return n < 0 ? -1 : 0;
}

static int
scan_path(struct scan_ctx *sc, const char *path, int depth)
{
	struct stat sb;
	struct dirent *de;
	DIR *dp;
	char sub[4096];
	int fd, rc = 0;

	if (strcmp(path, "-") == 0)
		return scan_fd(sc, dup(STDIN_FILENO), "-");
	if (lstat(path, &sb) == -1) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		return -1;
	}
	if (S_ISDIR(sb.st_mode)) {
		if (depth > 64) {
			fprintf(stderr, "%s: %s: too deep\n", prog, path);
			return -1;
		}
		if ((dp = opendir(path)) == NULL) {
			fprintf(stderr, "%s: %s: %s\n", prog, path,
			    strerror(errno));
			return -1;
		}
		while ((de = readdir(dp)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", path,
			    de->d_name) >= sizeof(sub)) {
				fprintf(stderr, "%s: %s/%s: name too long\n",
				    prog, path, de->d_name);
				rc = -1;
				continue;
			}
			if (scan_path(sc, sub, depth + 1) == -1)
				rc = -1;
		}
		closedir(dp);
		return rc;
	}
	if (!S_ISREG(sb.st_mode))
		return 0;	/* symlinks, devices, sockets: skipped */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		return -1;
	}
	return scan_fd(sc, fd, path);
}

static void
print_table(const struct scan_ctx *sc)
{
	uint64_t total = 0;
	size_t i;
	int t;

	printf("%-10s %12s %12s\n", "TYPE", "FINDINGS", "DISTINCT");
	for (t = 0; t < DET_T_COUNT; t++) {
		if (sc->count[t] == 0)
			continue;
		printf("%-10s %12llu %12llu%s\n", det_type_str((enum det_type)t),
		    (unsigned long long)sc->count[t],
		    (unsigned long long)sc->distinct[t],
		    sc->distinct_capped ? "+" : "");
		total += sc->count[t];
	}
	printf("%-10s %12llu\n", "total", (unsigned long long)total);
	printf("%llu file(s), %llu bytes read, %llu inspected, %llu skipped "
	    "(limits), %llu decoded\n",
	    (unsigned long long)sc->files, (unsigned long long)sc->bytes,
	    (unsigned long long)sc->dtot.inspected_bytes,
	    (unsigned long long)sc->dtot.skipped_bytes,
	    (unsigned long long)sc->dtot.decoded_bytes);
	if (sc->dtot.escapes + sc->dtot.b64_blocks + sc->dtot.errors +
	    sc->dtot.limit_hits > 0)
		printf("decoding: %llu escapes, %llu base64 blocks, %llu "
		    "malformed, %llu limit hits\n",
		    (unsigned long long)sc->dtot.escapes,
		    (unsigned long long)sc->dtot.b64_blocks,
		    (unsigned long long)sc->dtot.errors,
		    (unsigned long long)sc->dtot.limit_hits);
	if (sc->bulk_alerts > 0)
		printf("bulk: %llu alert(s) (response scope: per file)%s\n",
		    (unsigned long long)sc->bulk_alerts,
		    sc->bulk_alerts > sc->nlines ? ", first ones:" : "");
	for (i = 0; i < sc->nlines; i++)
		printf("  %s\n", sc->lines[i]);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "rules", required_argument, NULL, 'r' },
		{ "decode", required_argument, NULL, 'd' },
		{ "unmasked", no_argument, NULL, 1 },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static const char optstring[] = ":f:r:d:hV";
	struct scan_ctx sc;
	struct det_rules *rules = NULL;
	struct det_scanner *scanner = NULL;
	struct gb_diags d;
	const char *rules_dir = NULL;
	unsigned layers = DET_DEC_ALL;
	uint64_t total = 0;
	int ch, i, t, rc = 0;

	memset(&sc, 0, sizeof(sc));
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
			sc.jsonl = strcmp(optarg, "jsonl") == 0;
			break;
		case 'r':
			rules_dir = optarg;
			break;
		case 'd':
			if (det_dec_flags_parse(optarg, &layers) == -1 ||
			    (layers & DET_DEC_DEFLATE)) {
				fprintf(stderr, "%s: --decode: expected a list "
				    "of gzip, json, pct, html, b64, all, none; "
				    "got '%s'\n", prog, optarg);
				return GB_EXIT_USAGE;
			}
			break;
		case 1:
			sc.unmasked = true;
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
	argc -= optind;
	argv += optind;

	if (det_count_key_random(sc.hkey) == -1) {
		fprintf(stderr, "%s: no random key: %s\n", prog,
		    strerror(errno));
		return GB_EXIT_USAGE;
	}
	gb_diags_init(&d, 0);
	if (rules_dir != NULL) {
		if (det_rules_load_dir(rules_dir, &rules, &d) == -1) {
			gb_diags_print(&d, stderr);
			gb_diags_free(&d);
			return GB_EXIT_USAGE;
		}
		gb_diags_print(&d, stderr);	/* warnings */
	} else if (det_rules_default(&rules) == -1) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return GB_EXIT_USAGE;
	}
	gb_diags_free(&d);
	if (det_scanner_new(rules, &scanner) == -1 ||
	    det_decode_new(scanner, layers, NULL, &sc.dec) == -1 ||
	    ((det_rules_bulk_count(rules) > 0 ||
	    det_rules_canary_count(rules) > 0) &&
	    det_bulk_new(rules, NULL, NULL, &sc.bulk) == -1)) {
		fprintf(stderr, "%s: out of memory\n", prog);
		det_decode_free(sc.dec);
		det_scanner_free(scanner);
		det_rules_free(rules);
		return GB_EXIT_USAGE;
	}
	if (argc == 0)
		rc |= scan_path(&sc, "-", 0);
	for (i = 0; i < argc; i++)
		rc |= scan_path(&sc, argv[i], 0);
	if (!sc.jsonl)
		print_table(&sc);
	fflush(stdout);
	for (t = 0; t < DET_T_COUNT; t++)
		total += sc.count[t];
	det_decode_free(sc.dec);
	det_bulk_free(sc.bulk);
	for (i = 0; i < (int)sc.nlines; i++)
		free(sc.lines[i]);
	det_scanner_free(scanner);
	det_rules_free(rules);
	free(sc.set);
	explicit_bzero(sc.hkey, sizeof(sc.hkey));
	if (rc != 0)
		return GB_EXIT_USAGE;
	if (total > 0)
		return GB_EXIT_FAIL;
	/* Not all of it was read: "nothing found" would say too much. */
	return sc.partial ? GB_EXIT_USAGE : GB_EXIT_OK;
}
