/*
 * gerbang-store: the store's administration, everything that writes:
 * init, keygen, import (JSON lines), checkpoint, purge. Auditors use
 * gerbang-audit, which never writes. This file is main().
 */
#include "core/gb_buf.h"
#include "core/gb_cli.h"
#include "core/gb_log.h"
#include "core/gb_util.h"
#include "core/gb_version.h"
#include "store/store.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *prog = "gerbang-store";

#define EXIT_STORE	3

struct opts {
	const char	*store;
	const char	*key;
	const char	*out;
	const char	*pub;
	const char	*before;
	uint64_t	 batch;
	bool		 nosync;
};

static void
usage(FILE *fp)
{
	fprintf(fp,
"usage: gerbang-store [--store DIR] [--key PEM] COMMAND [ARGS]\n"
"\n"
"Administer the gerbang alert store (these commands write; auditors use\n"
"gerbang-audit, which never does).\n"
"\n"
"Commands:\n"
"  init                   create an empty store in --store DIR\n"
"  keygen --out PEM [--pub PEM]\n"
"                         new Ed25519 signing key (0600) and its public\n"
"                         half (default: PEM with .pub appended)\n"
"  pubkey                 print the public half of --key\n"
"  import [FILE|-]...     append alerts from JSON lines (the export format)\n"
"  checkpoint             sign the chain head now with --key\n"
"  purge --before T       delete alerts older than T (ISO 8601, or a\n"
"                         duration: 365d = older than a year), leaving a\n"
"                         signed checkpoint\n"
"\n"
"Options:\n"
"  -s, --store DIR        the alert store folder\n"
"  -k, --key PEM          Ed25519 private key that signs checkpoints\n"
"      --batch N          import: alerts per transaction (default 1000)\n"
"      --nosync           import: no fsync per commit (UNSAFE: a crash can\n"
"                         lose or corrupt the store; for test data only)\n"
"  -h, --help             this text\n"
"  -V, --version          version and library versions\n"
"\n"
"Exit status: 0 success; 1 some input refused (import); 2 bad command\n"
"line; 3 the store or key cannot be used.\n"
"\n"
"Example:\n"
"  gerbang-store keygen --out /etc/gerbang/store.key\n"
"  gerbang-store -s /var/lib/gerbang/alerts -k /etc/gerbang/store.key "
"purge --before 730d\n");
}

static int
need(const char *what, const char *v, const char *cmd)
{
	if (v != NULL)
		return 0;
	fprintf(stderr, "%s: %s needs %s\n"
	    "Try '%s --help' for the list of options.\n", prog, cmd, what,
	    prog);
	return -1;
}

static void
ossl_print(const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256];

	if (e != 0)
		ERR_error_string_n(e, buf, sizeof(buf));
	else
		snprintf(buf, sizeof(buf), "failed");
	ERR_clear_error();
	fprintf(stderr, "%s: %s: %s\n", prog, what, buf);
}

static int
write_pem(const char *path, EVP_PKEY *k, bool priv)
{
	FILE *fp;
	int fd, ok;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    priv ? 0600 : 0644);
	if (fd == -1 || (fp = fdopen(fd, "w")) == NULL) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	ok = priv ? PEM_write_PrivateKey(fp, k, NULL, NULL, 0, NULL, NULL) :
	    PEM_write_PUBKEY(fp, k);
	if (fclose(fp) != 0 || !ok) {
		ossl_print(path);
		unlink(path);
		return -1;
	}
	return 0;
}

static int
cmd_keygen(struct opts *o)
{
	char pub[4096];
	EVP_PKEY *k;
	int rc = GB_EXIT_OK;

	if (need("--out PEM", o->out, "keygen") == -1)
		return GB_EXIT_USAGE;
	if (o->pub == NULL) {
		if ((size_t)snprintf(pub, sizeof(pub), "%s.pub", o->out) >=
		    sizeof(pub))
			return GB_EXIT_USAGE;
		o->pub = pub;
	}
	if ((k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL) {
		ossl_print("keygen");
		return EXIT_STORE;
	}
	if (write_pem(o->out, k, true) == -1)
		rc = EXIT_STORE;
	else if (write_pem(o->pub, k, false) == -1) {
		unlink(o->out);
		rc = EXIT_STORE;
	} else
		printf("private key: %s (keep it with the writers)\n"
		    "public key:  %s (give it to the auditors)\n", o->out,
		    o->pub);
	EVP_PKEY_free(k);
	return rc;
}

static EVP_PKEY *
load_key(struct opts *o, const char *cmd)
{
	EVP_PKEY *k;
	char err[512];

	if (need("--key PEM", o->key, cmd) == -1)
		return NULL;
	if (store_key_load_private(o->key, &k, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return NULL;
	}
	return k;
}

static int
cmd_pubkey(struct opts *o)
{
	EVP_PKEY *k;

	if ((k = load_key(o, "pubkey")) == NULL)
		return o->key == NULL ? GB_EXIT_USAGE : EXIT_STORE;
	if (!PEM_write_PUBKEY(stdout, k)) {
		ossl_print("pubkey");
		EVP_PKEY_free(k);
		return EXIT_STORE;
	}
	EVP_PKEY_free(k);
	return GB_EXIT_OK;
}

static int
cmd_init(struct opts *o)
{
	struct store *st;
	char err[512];

	if (need("--store DIR", o->store, "init") == -1)
		return GB_EXIT_USAGE;
	if (store_open(o->store, STORE_CREATE, &st, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return EXIT_STORE;
	}
	store_close(st);
	printf("store ready: %s (schema %d)\n", o->store, STORE_SCHEMA);
	return GB_EXIT_OK;
}

static int
import_fp(struct store_writer *w, FILE *fp, const char *name,
    uint64_t *bad)
{
	struct store_alert a;
	struct gb_buf scratch;
	const char *why;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned long lineno = 0;
	int rc = 0;

	gb_buf_init(&scratch, 0);
	while ((n = getline(&line, &cap, fp)) != -1) {
		lineno++;
		if (n == 1 && line[0] == '\n')
			continue;
		if (store_json_parse(line, (size_t)n, &a, &scratch, &why)
		    == -1) {
			fprintf(stderr, "%s:%lu: error: %s\n", name, lineno,
			    why);
			(*bad)++;
			continue;
		}
		if (store_writer_append(w, &a) == -1) {
			fprintf(stderr, "%s:%lu: error: %s\n", name, lineno,
			    errno == EINVAL ? "invalid alert" :
			    "the store refused it (storage failing)");
			(*bad)++;
			if (errno != EINVAL) {
				rc = -1;
				break;
			}
		}
	}
	if (ferror(fp)) {
		fprintf(stderr, "%s: %s: read error\n", prog, name);
		rc = -1;
	}
	free(line);
	gb_buf_free(&scratch);
	return rc;
}

static int
cmd_import(struct opts *o, int argc, char *argv[])
{
	struct store_writer_opts wo;
	struct store_writer_stats s;
	struct store_writer *w;
	uint64_t bad = 0, first;
	EVP_PKEY *k;
	char err[512];
	FILE *fp;
	int i, rc = 0;

	if (need("--store DIR", o->store, "import") == -1)
		return GB_EXIT_USAGE;
	if ((k = load_key(o, "import")) == NULL)
		return o->key == NULL ? GB_EXIT_USAGE : EXIT_STORE;
	memset(&wo, 0, sizeof(wo));
	wo.batch = (size_t)o->batch;
	wo.key = k;
	wo.nosync = o->nosync;
	if (store_writer_open(o->store, &wo, &w, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s: %s\n", prog, err);
		EVP_PKEY_free(k);
		return EXIT_STORE;
	}
	store_writer_stats(w, &s);
	for (i = 0; i < argc || (argc == 0 && i == 0); i++) {
		const char *name = argc == 0 ? "-" : argv[i];

		if (strcmp(name, "-") == 0)
			fp = stdin;
		else if ((fp = fopen(name, "r")) == NULL) {
			fprintf(stderr, "%s: %s: %s\n", prog, name,
			    strerror(errno));
			rc = -1;
			break;
		}
		rc = import_fp(w, fp, name, &bad);
		if (fp != stdin)
			fclose(fp);
		if (rc == -1)
			break;
	}
	if (store_writer_flush(w) == -1)
		rc = -1;
	store_writer_stats(w, &s);
	first = s.last_id >= s.committed ? s.last_id - s.committed + 1 : 0;
	if (store_writer_close(w) == -1)
		rc = -1;
	EVP_PKEY_free(k);
	if (s.committed > 0)
		printf("imported %llu alerts (ids %llu..%llu)", (unsigned long
		    long)s.committed, (unsigned long long)first,
		    (unsigned long long)s.last_id);
	else
		printf("imported 0 alerts");
	printf("%s\n", bad ? "; some lines refused" : "");
	if (rc == -1)
		return EXIT_STORE;
	return bad ? GB_EXIT_FAIL : GB_EXIT_OK;
}

static int
cmd_checkpoint(struct opts *o)
{
	struct store_writer_opts wo;
	struct store_writer *w;
	struct store_writer_stats s;
	EVP_PKEY *k;
	char err[512];
	int rc;

	if (need("--store DIR", o->store, "checkpoint") == -1)
		return GB_EXIT_USAGE;
	if ((k = load_key(o, "checkpoint")) == NULL)
		return o->key == NULL ? GB_EXIT_USAGE : EXIT_STORE;
	memset(&wo, 0, sizeof(wo));
	wo.key = k;
	if (store_writer_open(o->store, &wo, &w, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s: %s\n", prog, err);
		EVP_PKEY_free(k);
		return EXIT_STORE;
	}
	rc = store_writer_checkpoint(w);
	store_writer_stats(w, &s);
	store_writer_close(w);
	EVP_PKEY_free(k);
	if (rc == -1) {
		fprintf(stderr, "%s: checkpoint failed\n", prog);
		return EXIT_STORE;
	}
	printf("signed the chain head (%llu)\n", (unsigned long long)s.last_id);
	return GB_EXIT_OK;
}

static int
cmd_purge(struct opts *o)
{
	uint64_t before, purged;
	EVP_PKEY *k;
	char err[512], t[40];
	int rc;

	if (need("--store DIR", o->store, "purge") == -1 ||
	    need("--before T", o->before, "purge") == -1)
		return GB_EXIT_USAGE;
	if (store_time_parse(o->before, store_now_ns(), &before) == -1) {
		fprintf(stderr, "%s: --before '%s': not an ISO 8601 time or a "
		    "duration like 365d\n", prog, o->before);
		return GB_EXIT_USAGE;
	}
	if ((k = load_key(o, "purge")) == NULL)
		return o->key == NULL ? GB_EXIT_USAGE : EXIT_STORE;
	rc = store_purge(o->store, before, k, &purged, err, sizeof(err));
	EVP_PKEY_free(k);
	store_time_fmt(before, t, sizeof(t));
	if (rc == -1) {
		fprintf(stderr, "%s: purge: %s (%llu purged before that)\n",
		    prog, err, (unsigned long long)purged);
		return EXIT_STORE;
	}
	printf("purged %llu alerts older than %s\n",
	    (unsigned long long)purged, t);
	return GB_EXIT_OK;
}

int
main(int argc, char *argv[])
{
	enum { O_BATCH = 256, O_NOSYNC, O_BEFORE, O_PUB, O_OUT };
	static const struct option longopts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "key", required_argument, NULL, 'k' },
		{ "out", required_argument, NULL, O_OUT },
		{ "pub", required_argument, NULL, O_PUB },
		{ "before", required_argument, NULL, O_BEFORE },
		{ "batch", required_argument, NULL, O_BATCH },
		{ "nosync", no_argument, NULL, O_NOSYNC },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static const char optstring[] = ":s:k:hV";
	struct opts o;
	const char *cmd;
	char *end;
	int ch;

	memset(&o, 0, sizeof(o));
	opterr = 0;
	gb_log_open(prog, NULL, GB_LOG_TEXT, GB_LOG_NOTICE);
	while ((ch = getopt_long(argc, argv, optstring, longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			o.store = optarg;
			break;
		case 'k':
			o.key = optarg;
			break;
		case O_OUT:
			o.out = optarg;
			break;
		case O_PUB:
			o.pub = optarg;
			break;
		case O_BEFORE:
			o.before = optarg;
			break;
		case O_BATCH:
			errno = 0;
			o.batch = strtoull(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || o.batch == 0 ||
			    o.batch > 1000000 || optarg[0] == '-') {
				fprintf(stderr, "%s: --batch '%s': expected 1 "
				    "to 1000000\n", prog, optarg);
				return GB_EXIT_USAGE;
			}
			break;
		case O_NOSYNC:
			o.nosync = true;
			break;
		case 'h':
			usage(stdout);
			return GB_EXIT_OK;
		case 'V':
			gb_version_print(stdout, prog);
			return GB_EXIT_OK;
		default:
			return gb_cli_bad_option(prog, argv, optstring);
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "%s: missing command\n"
		    "Try '%s --help' for the list of commands.\n", prog, prog);
		return GB_EXIT_USAGE;
	}
	cmd = argv[optind++];
	if (strcmp(cmd, "import") != 0 && optind < argc) {
		fprintf(stderr, "%s: %s: unexpected argument '%s'\n", prog, cmd,
		    argv[optind]);
		return GB_EXIT_USAGE;
	}
	if (strcmp(cmd, "init") == 0)
		return cmd_init(&o);
	if (strcmp(cmd, "keygen") == 0)
		return cmd_keygen(&o);
	if (strcmp(cmd, "pubkey") == 0)
		return cmd_pubkey(&o);
	if (strcmp(cmd, "import") == 0)
		return cmd_import(&o, argc - optind, argv + optind);
	if (strcmp(cmd, "checkpoint") == 0)
		return cmd_checkpoint(&o);
	if (strcmp(cmd, "purge") == 0)
		return cmd_purge(&o);
	fprintf(stderr, "%s: unknown command '%s'\n"
	    "Try '%s --help' for the list of commands.\n", prog, cmd, prog);
	return GB_EXIT_USAGE;
}
