/*
 * gerbang-audit: the auditors' tool over the alert store. Opens the store
 * read-only (never writes; see store_open()). This file is main().
 */
#include "core/gb_buf.h"
#include "core/gb_cli.h"
#include "core/gb_diag.h"
#include "core/gb_util.h"
#include "core/gb_version.h"
#include "core/gb_yaml.h"
#include "store/store.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *prog = "gerbang-audit";

/* Exit codes beyond gb_cli.h's. */
#define EXIT_STORE	3	/* the store cannot be opened or read */

#define DEFAULT_STORE	"/var/lib/gerbang/alerts"
#define DEFAULT_CONFIG	"/etc/gerbang/audit.yaml"
#define MAX_PUBKEYS	8
#define MAX_INCIDENTS	32

enum fmt {
	FMT_TABLE = 0,
	FMT_JSON,
	FMT_CSV,
};

struct opts {
	const char	*store;
	const char	*config;
	enum fmt	 fmt;
	bool		 fmt_set;
	bool		 colour;
	struct store_query q;
	uint64_t	 limit;
	uint64_t	 count;		/* follow: stop after N */
	uint64_t	 interval_ms;	/* follow */
	uint64_t	 top;		/* stats */
	const char	*pubkeys[MAX_PUBKEYS];
	size_t		 npubkeys;
	const char	*incidents[MAX_INCIDENTS];
	size_t		 nincidents;
};

static volatile sig_atomic_t stop;

static void
usage(FILE *fp)
{
	fprintf(fp,
"usage: gerbang-audit [--store DIR] [--format FMT] COMMAND [ARGS]\n"
"\n"
"Query and verify the gerbang alert store (read-only).\n"
"\n"
"Commands:\n"
"  list [filters]         alerts, oldest first\n"
"  show ID                one alert in full (values masked)\n"
"  stats [filters]        counts by rule, source, consumer, type, day\n"
"  follow [filters]       print new alerts as they arrive\n"
"  export [filters]       every field, JSON lines (default) or CSV\n"
"  verify [--pubkey PEM]  check the hash chain and every signature\n"
"  report --incident ID   breach-notification draft (Law 27/2022)\n"
"\n"
"Filters:\n"
"  --since T, --until T   ISO 8601 (2026-11-22T10:00Z) or relative (24h, 7d)\n"
"  --rule R  --consumer C  --type T  --incident I  --sensor S\n"
"  --severity S           at least S: info, low, medium, high, critical\n"
"  --src CIDR             source address or network (10.0.0.0/8, 2001:db8::/32)\n"
"  --limit N              at most N alerts (list, export)\n"
"\n"
"Command options:\n"
"  follow: --interval DUR (default 1s), --count N (stop after N alerts)\n"
"  stats:  --top N (rows per table, default 20)\n"
"  verify: --pubkey FILE (repeatable; the public keys of the writers)\n"
"  report: --incident ID (repeatable)\n"
"\n"
"Options:\n"
"  -s, --store DIR        the alert store folder\n"
"  -c, --config FILE      read 'store:' from FILE (default " DEFAULT_CONFIG ")\n"
"  -f, --format FMT       table (default), json or csv\n"
"  -h, --help             this text\n"
"  -V, --version          version and library versions\n"
"\n"
"Exit status: 0 success; 1 not found (show, report) or evidence broken\n"
"(verify); 2 bad command line; 3 the store cannot be opened or read.\n"
"\n"
"Example:\n"
"  gerbang-audit --store /var/lib/gerbang/alerts list --since 24h --rule bulk-nik\n");
}

/* --- output helpers --- */

static void
addr_fmt(const struct store_alert *a, const uint8_t *addr, char *buf,
    size_t len)
{
	if (a->af == STORE_AF_NONE) {
		snprintf(buf, len, "-");
		return;
	}
	if (inet_ntop(a->af == STORE_AF_INET ? AF_INET : AF_INET6, addr, buf,
	    (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
}

static void
time_short(uint64_t ns, char *buf, size_t len)
{
	char t[40];

	store_time_fmt(ns, t, sizeof(t));
	/* 2026-11-22T10:00:00Z */
	snprintf(buf, len, "%.19sZ", t);
}

static char *
sdup(const struct store_str *s)
{
	char *p = malloc(s->n + 1);

	if (p != NULL) {
		memcpy(p, s->p, s->n);
		p[s->n] = '\0';
	}
	return p;
}

static void
types_fmt(const struct store_alert *a, char *buf, size_t len)
{
	size_t i, off = 0;
	int n;

	buf[0] = '\0';
	for (i = 0; i < a->ncounts && off < len; i++) {
		n = snprintf(buf + off, len - off, "%s%.*s %llu/%llu",
		    i ? ", " : "", (int)a->counts[i].type.n,
		    a->counts[i].type.p,
		    (unsigned long long)a->counts[i].count,
		    (unsigned long long)a->counts[i].distinct);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

/* A CSV cell: quoted when needed; a leading = + - @ is defused with '. */
static void
csv_cell(FILE *fp, const char *s, size_t n, bool last)
{
	size_t i;
	bool q = false;

	for (i = 0; i < n; i++)
		if (s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r')
			q = true;
	if (q)
		fputc('"', fp);
	if (n > 0 && (s[0] == '=' || s[0] == '+' || s[0] == '-' ||
	    s[0] == '@' || s[0] == '\t'))
		fputc('\'', fp);
	for (i = 0; i < n; i++) {
		if (s[i] == '"')
			fputc('"', fp);
		fputc(s[i], fp);
	}
	if (q)
		fputc('"', fp);
	fputc(last ? '\n' : ',', fp);
}

static void
csv_str(FILE *fp, const struct store_str *s)
{
	csv_cell(fp, s->p != NULL ? s->p : "", s->n, false);
}

static void
csv_u64(FILE *fp, uint64_t v)
{
	fprintf(fp, "%llu,", (unsigned long long)v);
}

static const char csv_header[] =
    "id,time,sensor,rule,severity,src,sport,dst,dport,proto,consumer,"
    "consumer_verified,method,host,path,status,bytes,window_start,"
    "window_end,incident,message,counts,samples,link\n";

static void
csv_alert(FILE *fp, const struct store_alert *a, const uint8_t *link)
{
	char buf[STORE_TEXT_MAX * 2], t[40];
	char hex[2 * STORE_LINK_LEN + 1];
	size_t i, off;

	csv_u64(fp, a->id);
	store_time_fmt(a->time_ns, t, sizeof(t));
	csv_cell(fp, t, strlen(t), false);
	csv_str(fp, &a->sensor);
	csv_str(fp, &a->rule);
	fprintf(fp, "%s,", store_sev_str(a->severity));
	addr_fmt(a, a->src, buf, sizeof(buf));
	fprintf(fp, "%s,%u,", a->af ? buf : "", a->sport);
	addr_fmt(a, a->dst, buf, sizeof(buf));
	fprintf(fp, "%s,%u,%u,", a->af ? buf : "", a->dport, a->proto);
	csv_str(fp, &a->consumer);
	fprintf(fp, "%s,", a->flags & STORE_A_CONSUMER_VERIFIED ? "true" :
	    "false");
	csv_str(fp, &a->method);
	csv_str(fp, &a->host);
	csv_str(fp, &a->path);
	fprintf(fp, "%u,", a->status);
	csv_u64(fp, a->bytes);
	if (a->win_start_ns || a->win_end_ns) {
		store_time_fmt(a->win_start_ns, t, sizeof(t));
		fprintf(fp, "%s,", t);
		store_time_fmt(a->win_end_ns, t, sizeof(t));
		fprintf(fp, "%s,", t);
	} else
		fputs(",,", fp);
	csv_str(fp, &a->incident);
	csv_str(fp, &a->message);
	for (i = 0, off = 0; i < a->ncounts; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off,
		    "%s%.*s:%llu:%llu", i ? ";" : "",
		    (int)a->counts[i].type.n, a->counts[i].type.p,
		    (unsigned long long)a->counts[i].count,
		    (unsigned long long)a->counts[i].distinct);
	csv_cell(fp, buf, off, false);
	for (i = 0, off = 0; i < a->nsamples && off < sizeof(buf); i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off,
		    "%s%.*s:%.*s", i ? ";" : "",
		    (int)a->samples[i].type.n, a->samples[i].type.p,
		    (int)a->samples[i].value.n, a->samples[i].value.p);
	if (off > sizeof(buf) - 1)
		off = sizeof(buf) - 1;
	csv_cell(fp, buf, off, false);
	gb_hex(hex, link, STORE_LINK_LEN);
	csv_cell(fp, hex, strlen(hex), true);
}

static void
json_alert(FILE *fp, const struct store_alert *a, const uint8_t *link)
{
	static struct gb_buf b;

	if (b.max == 0)
		gb_buf_init(&b, 1 << 20);
	gb_buf_reset(&b);
	if (store_json_alert(&b, a, link) == 0 && gb_buf_putc(&b, '\n') == 0)
		fwrite(gb_buf_head(&b), 1, gb_buf_used(&b), fp);
}

/* --- the table: widths from the first rows, then streamed --- */

#define TCOLS		8
#define TBUF_ROWS	1000

static const char *const tcol_names[TCOLS] = {
	"ID", "TIME (UTC)", "SEV", "RULE", "SOURCE", "CONSUMER", "TYPES",
	"MESSAGE",
};
static const size_t tcol_max[TCOLS] = { 20, 20, 8, 32, 39, 24, 40, 60 };

struct table {
	char	*rows[TBUF_ROWS][TCOLS];
	size_t	 n;
	size_t	 w[TCOLS];
	bool	 fixed;		/* widths decided, header printed */
	bool	 colour;
};

static const char *
sev_colour(const char *sev)
{
	if (strcmp(sev, "critical") == 0)
		return "\033[1;31m";
	if (strcmp(sev, "high") == 0)
		return "\033[31m";
	if (strcmp(sev, "medium") == 0)
		return "\033[33m";
	return NULL;
}

/* Display width of UTF-8 text: code points. */
static size_t
u8len(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

static void
table_print_row(struct table *t, char **cells)
{
	size_t c, len, i, cp;
	const char *col;

	for (c = 0; c < TCOLS; c++) {
		const char *s = cells[c];

		len = u8len(s);
		col = c == 2 && t->colour ? sev_colour(s) : NULL;
		if (col != NULL)
			fputs(col, stdout);
		if (len > t->w[c]) {
			/* Cut at a code point, mark with "~". */
			for (i = 0, cp = 0; s[i] != '\0'; i++) {
				if (((unsigned char)s[i] & 0xc0) != 0x80 &&
				    ++cp == t->w[c])
					break;
				fputc(s[i], stdout);
			}
			fputc('~', stdout);
			len = t->w[c];
		} else
			fputs(s, stdout);
		if (col != NULL)
			fputs("\033[0m", stdout);
		if (c + 1 < TCOLS)
			printf("%*s", (int)(t->w[c] - len + 2), "");
	}
	fputc('\n', stdout);
}

/* A cell that could not be allocated (out of memory): printed empty. */
static char empty_cell[1];

static void
table_header(struct table *t)
{
	char *h[TCOLS];
	size_t c;
	bool col = t->colour;

	for (c = 0; c < TCOLS; c++)
		h[c] = (char *)(uintptr_t)tcol_names[c];
	t->colour = false;
	table_print_row(t, h);
	t->colour = col;
	t->fixed = true;
}

static void
table_flush(struct table *t)
{
	size_t r, c;

	if (!t->fixed) {
		for (c = 0; c < TCOLS; c++)
			t->w[c] = strlen(tcol_names[c]);
		for (r = 0; r < t->n; r++)
			for (c = 0; c < TCOLS; c++) {
				size_t l = u8len(t->rows[r][c]);

				if (l > t->w[c])
					t->w[c] = l < tcol_max[c] ? l :
					    tcol_max[c];
			}
		table_header(t);
	}
	for (r = 0; r < t->n; r++) {
		table_print_row(t, t->rows[r]);
		for (c = 0; c < TCOLS; c++)
			if (t->rows[r][c] != empty_cell)
				free(t->rows[r][c]);
	}
	t->n = 0;
}

static void
table_add(struct table *t, const struct store_alert *a)
{
	char buf[512], **row = t->rows[t->n];
	struct store_str s;

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)a->id);
	row[0] = strdup(buf);
	time_short(a->time_ns, buf, sizeof(buf));
	row[1] = strdup(buf);
	row[2] = strdup(store_sev_str(a->severity));
	row[3] = sdup(&a->rule);
	addr_fmt(a, a->src, buf, sizeof(buf));
	row[4] = strdup(buf);
	s = a->consumer.n > 0 ? a->consumer : store_str("-");
	row[5] = sdup(&s);
	types_fmt(a, buf, sizeof(buf));
	row[6] = strdup(buf);
	s = a->message;
	row[7] = sdup(&s);
	for (size_t c = 0; c < TCOLS; c++)
		if (row[c] == NULL)
			row[c] = empty_cell;
	if (++t->n == TBUF_ROWS || t->fixed)
		table_flush(t);
}

/* --- list, export, follow --- */

struct listing {
	struct opts	*o;
	enum fmt	 fmt;
	struct table	*t;
	uint64_t	 n;
	uint64_t	 last_id;
};

static int
list_cb(const struct store_alert *a, const uint8_t *link, void *arg)
{
	struct listing *l = arg;

	if (l->o->limit != 0 && l->n >= l->o->limit)
		return 1;
	if (l->fmt == FMT_JSON)
		json_alert(stdout, a, link);
	else if (l->fmt == FMT_CSV)
		csv_alert(stdout, a, link);
	else
		table_add(l->t, a);
	l->n++;
	if (a->id > l->last_id)
		l->last_id = a->id;
	if (ferror(stdout))
		return 1;
	return l->o->count != 0 && l->n >= l->o->count ? 1 : 0;
}

static int
run_error(struct store *st)
{
	fprintf(stderr, "%s: %s\n", prog, store_errstr(st));
	return EXIT_STORE;
}

static int
cmd_list(struct store *st, struct opts *o, enum fmt fmt)
{
	struct table *t;
	struct listing l;
	int rc;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return EXIT_STORE;
	t->colour = o->colour;
	memset(&l, 0, sizeof(l));
	l.o = o;
	l.fmt = fmt;
	l.t = t;
	if (fmt == FMT_CSV)
		fputs(csv_header, stdout);
	rc = store_query_run(st, &o->q, list_cb, &l);
	if (fmt == FMT_TABLE) {
		table_flush(t);
		if (isatty(STDERR_FILENO))
			fprintf(stderr, "%llu alerts\n",
			    (unsigned long long)l.n);
	}
	free(t);
	if (rc == -1)
		return run_error(st);
	return fflush(stdout) == 0 ? GB_EXIT_OK : GB_EXIT_FAIL;
}

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int
cmd_follow(struct store *st, struct opts *o)
{
	struct store_head h;
	struct table *t;
	struct listing l;
	struct timespec ts;
	int rc = 0;

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return EXIT_STORE;
	t->colour = o->colour;
	memset(&l, 0, sizeof(l));
	l.o = o;
	l.fmt = o->fmt;
	l.t = t;
	if (store_head_get(st, &h) == -1) {
		free(t);
		return run_error(st);
	}
	/* Without --since, only what arrives from now on. */
	if (o->q.since_ns == 0)
		l.last_id = h.last_id;
	if (o->fmt == FMT_CSV)
		fputs(csv_header, stdout);
	if (o->fmt == FMT_TABLE) {
		/* Rows come one by one: fixed widths, header now. */
		for (size_t c = 0; c < TCOLS; c++) {
			t->w[c] = tcol_max[c] < 24 ? tcol_max[c] : 24;
			if (t->w[c] < strlen(tcol_names[c]))
				t->w[c] = strlen(tcol_names[c]);
		}
		table_header(t);
	}
	fflush(stdout);
	while (!stop) {
		o->q.after_id = l.last_id;
		if ((rc = store_query_run(st, &o->q, list_cb, &l)) == -1)
			break;
		fflush(stdout);
		if (rc == 1 || ferror(stdout))
			break;
		ts.tv_sec = (time_t)(o->interval_ms / 1000);
		ts.tv_nsec = (long)(o->interval_ms % 1000) * 1000000L;
		nanosleep(&ts, NULL);
		if (store_read_renew(st) == -1) {
			rc = -1;
			break;
		}
	}
	free(t);
	if (rc == -1)
		return run_error(st);
	return GB_EXIT_OK;
}

/* --- show --- */

static void
kv(const char *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
kv(const char *k, const char *fmt, ...)
{
	va_list ap;

	printf("%-18s ", k);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

static int
cmd_show(struct store *st, struct opts *o, const char *arg)
{
	struct store_alert a;
	uint8_t link[STORE_LINK_LEN];
	char buf[128], hex[2 * STORE_LINK_LEN + 1], *end;
	unsigned long long id;
	size_t i;
	int rc;

	errno = 0;
	id = strtoull(arg, &end, 10);
	if (errno != 0 || *end != '\0' || arg[0] < '0' || arg[0] > '9' ||
	    id == 0) {
		fprintf(stderr, "%s: show: '%s' is not an alert id\n", prog,
		    arg);
		return GB_EXIT_USAGE;
	}
	if ((rc = store_get(st, id, &a, link)) == -1)
		return run_error(st);
	if (rc == STORE_NOTFOUND) {
		fprintf(stderr, "%s: no alert %llu\n", prog, id);
		return GB_EXIT_FAIL;
	}
	if (o->fmt == FMT_JSON) {
		json_alert(stdout, &a, link);
		return GB_EXIT_OK;
	}
	if (o->fmt == FMT_CSV) {
		fputs(csv_header, stdout);
		csv_alert(stdout, &a, link);
		return GB_EXIT_OK;
	}
	kv("id", "%llu", id);
	store_time_fmt(a.time_ns, buf, sizeof(buf));
	kv("time", "%s", buf);
	kv("sensor", "%.*s", (int)a.sensor.n, a.sensor.p);
	kv("rule", "%.*s", (int)a.rule.n, a.rule.p);
	kv("severity", "%s", store_sev_str(a.severity));
	if (a.af != STORE_AF_NONE) {
		addr_fmt(&a, a.src, buf, sizeof(buf));
		kv("source", "%s port %u", buf, a.sport);
		addr_fmt(&a, a.dst, buf, sizeof(buf));
		kv("destination", "%s port %u", buf, a.dport);
	}
	kv("protocol", "%u", a.proto);
	if (a.consumer.n > 0)
		kv("consumer", "%.*s (%s)", (int)a.consumer.n, a.consumer.p,
		    a.flags & STORE_A_CONSUMER_VERIFIED ? "signature verified" :
		    "not verified");
	if (a.method.n > 0 || a.path.n > 0)
		kv("request", "%.*s %.*s%.*s", (int)a.method.n, a.method.p,
		    (int)a.host.n, a.host.p, (int)a.path.n, a.path.p);
	if (a.status != 0)
		kv("status", "%u", a.status);
	kv("bytes", "%llu", (unsigned long long)a.bytes);
	if (a.win_start_ns != 0 || a.win_end_ns != 0) {
		char b2[40];

		store_time_fmt(a.win_start_ns, buf, sizeof(buf));
		store_time_fmt(a.win_end_ns, b2, sizeof(b2));
		kv("window", "%s .. %s", buf, b2);
	}
	if (a.incident.n > 0)
		kv("incident", "%.*s", (int)a.incident.n, a.incident.p);
	if (a.message.n > 0)
		kv("message", "%.*s", (int)a.message.n, a.message.p);
	for (i = 0; i < a.ncounts; i++)
		kv(i == 0 ? "counts" : "", "%-10.*s %llu values, %llu distinct",
		    (int)a.counts[i].type.n, a.counts[i].type.p,
		    (unsigned long long)a.counts[i].count,
		    (unsigned long long)a.counts[i].distinct);
	for (i = 0; i < a.nsamples; i++)
		kv(i == 0 ? "samples (masked)" : "", "%-10.*s %.*s",
		    (int)a.samples[i].type.n, a.samples[i].type.p,
		    (int)a.samples[i].value.n, a.samples[i].value.p);
	gb_hex(hex, link, STORE_LINK_LEN);
	kv("chain link", "%s", hex);
	return GB_EXIT_OK;
}

/* --- stats --- */

struct tally {
	char		*key;
	uint64_t	 alerts;
	uint64_t	 values;
	uint64_t	 distinct;
};

struct tallies {
	struct tally	*v;
	size_t		 n;
	size_t		 cap;		/* power of two; open addressing */
};

#define DIMS	5
static const char *const dim_names[DIMS] = {
	"rule", "source", "consumer", "type", "day",
};

struct stats {
	struct tallies	 d[DIMS];
	uint64_t	 total;
	bool		 nomem;
};

static uint64_t
fnv(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static struct tally *
tally_get(struct tallies *t, const char *key)
{
	size_t i, j, cap;
	struct tally *nv;

	if (t->n * 2 >= t->cap) {
		cap = t->cap == 0 ? 64 : t->cap * 2;
		if ((nv = calloc(cap, sizeof(*nv))) == NULL)
			return NULL;
		for (i = 0; i < t->cap; i++) {
			if (t->v[i].key == NULL)
				continue;
			for (j = fnv(t->v[i].key) & (cap - 1); nv[j].key != NULL;
			    j = (j + 1) & (cap - 1))
				;
			nv[j] = t->v[i];
		}
		free(t->v);
		t->v = nv;
		t->cap = cap;
	}
	for (i = fnv(key) & (t->cap - 1); t->v[i].key != NULL;
	    i = (i + 1) & (t->cap - 1))
		if (strcmp(t->v[i].key, key) == 0)
			return &t->v[i];
	if ((t->v[i].key = strdup(key)) == NULL)
		return NULL;
	t->n++;
	return &t->v[i];
}

static void
tally(struct stats *s, int d, const char *key, uint64_t values,
    uint64_t distinct)
{
	struct tally *t = tally_get(&s->d[d], key);

	if (t == NULL) {
		s->nomem = true;
		return;
	}
	t->alerts++;
	t->values += values;
	t->distinct += distinct;
}

static int
stats_cb(const struct store_alert *a, const uint8_t *link, void *arg)
{
	struct stats *s = arg;
	char buf[STORE_NAME_MAX + 1], t[40];
	size_t i;

	(void)link;
	s->total++;
	snprintf(buf, sizeof(buf), "%.*s", (int)a->rule.n, a->rule.p);
	tally(s, 0, buf, 0, 0);
	addr_fmt(a, a->src, buf, sizeof(buf));
	tally(s, 1, buf, 0, 0);
	snprintf(buf, sizeof(buf), "%.*s", (int)a->consumer.n, a->consumer.p);
	tally(s, 2, a->consumer.n > 0 ? buf : "-", 0, 0);
	for (i = 0; i < a->ncounts; i++) {
		snprintf(buf, sizeof(buf), "%.*s", (int)a->counts[i].type.n,
		    a->counts[i].type.p);
		tally(s, 3, buf, a->counts[i].count, a->counts[i].distinct);
	}
	store_time_fmt(a->time_ns, t, sizeof(t));
	t[10] = '\0';
	tally(s, 4, t, 0, 0);
	return s->nomem ? -1 : 0;
}

/* Move the used slots to the front (the table is no longer a hash). */
static size_t
tallies_compact(struct tallies *t)
{
	size_t i, k;

	for (i = 0, k = 0; i < t->cap; i++)
		if (t->v[i].key != NULL) {
			t->v[k] = t->v[i];
			if (k++ != i)
				t->v[i].key = NULL;
		}
	return k;
}

static void
tallies_free(struct tallies *t)
{
	size_t i;

	for (i = 0; i < t->cap; i++)
		free(t->v[i].key);
	free(t->v);
}

static int
tally_cmp(const void *x, const void *y)
{
	const struct tally *a = x, *b = y;

	if (a->alerts != b->alerts)
		return a->alerts > b->alerts ? -1 : 1;
	return strcmp(a->key, b->key);
}

static int
day_cmp(const void *x, const void *y)
{
	const struct tally *a = x, *b = y;

	return strcmp(a->key, b->key);
}

static void
json_key(const char *s)
{
	char buf[STORE_NAME_MAX * 6 + 1];

	gb_json_escape(buf, sizeof(buf), s, strlen(s));
	printf("\"%s\"", buf);
}

static int
cmd_stats(struct store *st, struct opts *o)
{
	struct stats s;
	size_t d, i, k, shown;
	int rc;

	memset(&s, 0, sizeof(s));
	rc = store_query_run(st, &o->q, stats_cb, &s);
	if (rc == -1 && s.nomem) {
		fprintf(stderr, "%s: stats: out of memory\n", prog);
		rc = EXIT_STORE;
		goto out;
	}
	if (rc == -1) {
		rc = run_error(st);
		goto out;
	}
	/* Compact, then sort: days by date, the rest by count. */
	for (d = 0; d < DIMS; d++) {
		k = tallies_compact(&s.d[d]);
		if (k > 0)
			qsort(s.d[d].v, k, sizeof(struct tally), d == 4 ?
			    day_cmp : tally_cmp);
	}
	if (o->fmt == FMT_JSON) {
		printf("{\"alerts\":%llu", (unsigned long long)s.total);
		for (d = 0; d < DIMS; d++) {
			printf(",\"by_%s\":[", dim_names[d]);
			for (i = 0; i < s.d[d].n; i++) {
				printf("%s{\"%s\":", i ? "," : "",
				    dim_names[d]);
				json_key(s.d[d].v[i].key);
				printf(",\"alerts\":%llu",
				    (unsigned long long)s.d[d].v[i].alerts);
				if (d == 3)
					printf(",\"values\":%llu,"
					    "\"distinct\":%llu",
					    (unsigned long long)s.d[d].v[i].values,
					    (unsigned long long)
					    s.d[d].v[i].distinct);
				putchar('}');
			}
			putchar(']');
		}
		printf("}\n");
	} else if (o->fmt == FMT_CSV) {
		printf("dimension,key,alerts,values,distinct\n");
		for (d = 0; d < DIMS; d++)
			for (i = 0; i < s.d[d].n; i++) {
				printf("%s,", dim_names[d]);
				csv_cell(stdout, s.d[d].v[i].key,
				    strlen(s.d[d].v[i].key), false);
				printf("%llu,%llu,%llu\n",
				    (unsigned long long)s.d[d].v[i].alerts,
				    (unsigned long long)s.d[d].v[i].values,
				    (unsigned long long)s.d[d].v[i].distinct);
			}
	} else {
		printf("%llu alerts\n", (unsigned long long)s.total);
		for (d = 0; d < DIMS; d++) {
			size_t w = strlen(dim_names[d]);

			shown = s.d[d].n < o->top || d == 4 ? s.d[d].n : o->top;
			for (i = 0; i < shown; i++)
				if (u8len(s.d[d].v[i].key) > w)
					w = u8len(s.d[d].v[i].key);
			if (w > 40)
				w = 40;
			printf("\n%-*s  %10s", (int)w, d == 1 ? "SOURCE" :
			    d == 0 ? "RULE" : d == 2 ? "CONSUMER" : d == 3 ?
			    "TYPE" : "DAY (UTC)", "ALERTS");
			if (d == 3)
				printf("  %12s  %12s", "VALUES", "DISTINCT*");
			putchar('\n');
			for (i = 0; i < shown; i++) {
				const char *key = s.d[d].v[i].key;
				size_t l = u8len(key);

				printf("%.*s%*s  %10llu", (int)strlen(key), key,
				    (int)(w > l ? w - l : 0), "",
				    (unsigned long long)s.d[d].v[i].alerts);
				if (d == 3)
					printf("  %12llu  %12llu",
					    (unsigned long long)s.d[d].v[i].values,
					    (unsigned long long)
					    s.d[d].v[i].distinct);
				putchar('\n');
			}
			if (shown < s.d[d].n)
				printf("(%zu more; --top N)\n", s.d[d].n - shown);
		}
		if (s.d[3].n > 0)
			printf("\n* distinct: summed over alerts; a subject "
			    "seen in two alerts counts twice\n");
	}
	rc = GB_EXIT_OK;
out:
	for (d = 0; d < DIMS; d++)
		tallies_free(&s.d[d]);
	return rc;
}

/* --- verify --- */

static int
cmd_verify(struct store *st, struct opts *o)
{
	EVP_PKEY *keys[MAX_PUBKEYS];
	struct store_verify v;
	struct store_head h;
	char err[512];
	size_t i, n = 0;
	int rc;

	for (i = 0; i < o->npubkeys; i++) {
		if (store_key_load_public(o->pubkeys[i], &keys[n], err,
		    sizeof(err)) == -1) {
			fprintf(stderr, "%s: %s\n", prog, err);
			rc = GB_EXIT_USAGE;
			goto out;
		}
		n++;
	}
	rc = store_verify_run(st, keys, n, &v);
	if (rc == -1) {
		rc = run_error(st);
		goto out;
	}
	if (store_head_get(st, &h) == -1) {
		rc = run_error(st);
		goto out;
	}
	if (o->fmt == FMT_JSON) {
		char m[600];

		gb_json_escape(m, sizeof(m), v.msg, strlen(v.msg));
		printf("{\"ok\":%s,\"records\":%llu,\"first_id\":%llu,"
		    "\"last_id\":%llu,\"purged_through\":%llu,"
		    "\"checkpoints\":%llu,\"signed_through\":%llu,"
		    "\"unsigned_tail\":%llu,\"own_key\":%s",
		    rc == 0 ? "true" : "false",
		    (unsigned long long)v.records,
		    (unsigned long long)v.first_id,
		    (unsigned long long)v.last_id,
		    (unsigned long long)h.base_id,
		    (unsigned long long)v.checkpoints,
		    (unsigned long long)v.signed_id,
		    (unsigned long long)(v.last_id > v.signed_id ?
		    v.last_id - v.signed_id : 0),
		    v.own_key ? "true" : "false");
		if (rc != 0)
			printf(",\"first_broken\":%llu,\"error\":\"%s\"",
			    (unsigned long long)v.bad_id, m);
		printf("}\n");
	} else {
		if (rc != 0) {
			printf("BROKEN: %s\n", v.msg);
			printf("first broken: %llu (%llu records checked before "
			    "it)\n", (unsigned long long)v.bad_id,
			    (unsigned long long)v.records);
		} else {
			printf("OK: %llu records", (unsigned long long)v.records);
			if (v.records > 0)
				printf(" (%llu..%llu)",
				    (unsigned long long)v.first_id,
				    (unsigned long long)v.last_id);
			printf(", chain intact; %llu signatures good\n",
			    (unsigned long long)v.checkpoints);
			if (h.base_id > 0)
				printf("alerts up to %llu were purged; the "
				    "signed base checkpoint holds\n",
				    (unsigned long long)h.base_id);
			if (v.last_id > v.signed_id)
				printf("note: the last %llu records are chained "
				    "but not yet signed (the next checkpoint "
				    "covers them)\n", (unsigned long long)
				    (v.last_id - v.signed_id));
		}
		if (v.own_key)
			printf("warning: checked against the public keys "
			    "recorded in the store itself; pass --pubkey "
			    "with the key you hold for evidence\n");
	}
	rc = rc == 0 ? GB_EXIT_OK : GB_EXIT_FAIL;
out:
	for (i = 0; i < n; i++)
		EVP_PKEY_free(keys[i]);
	return rc;
}

/* --- report --- */

#define REPORT_TYPES	64
#define REPORT_LIST	20

struct rtype {
	char		 name[STORE_TYPE_MAX + 1];
	uint64_t	 alerts;
	uint64_t	 values;
	uint64_t	 distinct_sum;
	uint64_t	 distinct_max;
	char		*samples[5];
	size_t		 nsamples;
};

struct report {
	uint64_t	 alerts;
	uint64_t	 first_ns;
	uint64_t	 last_ns;
	uint64_t	 bytes;
	int		 max_sev;
	struct rtype	 types[REPORT_TYPES];
	size_t		 ntypes;
	struct tallies	 src, cons, where, rules, sensors;
	uint64_t	*ids;
	size_t		 nids;
	size_t		 idcap;
	bool		 nomem;
};

static void
rtally(struct report *r, struct tallies *t, const char *key)
{
	struct tally *x = tally_get(t, key);

	if (x == NULL)
		r->nomem = true;
	else
		x->alerts++;
}

static int
report_cb(const struct store_alert *a, const uint8_t *link, void *arg)
{
	struct report *r = arg;
	char buf[STORE_TEXT_MAX + STORE_NAME_MAX + 64];
	size_t i, j;

	(void)link;
	if (r->nids == r->idcap) {
		size_t cap = r->idcap ? r->idcap * 2 : 64;
		uint64_t *n = realloc(r->ids, cap * sizeof(*n));

		if (n == NULL) {
			r->nomem = true;
			return -1;
		}
		r->ids = n;
		r->idcap = cap;
	}
	r->ids[r->nids++] = a->id;
	if (r->alerts == 0 || a->time_ns < r->first_ns)
		r->first_ns = a->time_ns;
	if (a->time_ns > r->last_ns)
		r->last_ns = a->time_ns;
	r->alerts++;
	r->bytes += a->bytes;
	if (a->severity > r->max_sev)
		r->max_sev = a->severity;
	for (i = 0; i < a->ncounts; i++) {
		for (j = 0; j < r->ntypes; j++)
			if (strlen(r->types[j].name) == a->counts[i].type.n &&
			    memcmp(r->types[j].name, a->counts[i].type.p,
			    a->counts[i].type.n) == 0)
				break;
		if (j == r->ntypes) {
			if (r->ntypes == REPORT_TYPES)
				continue;
			memcpy(r->types[j].name, a->counts[i].type.p,
			    a->counts[i].type.n);
			r->ntypes++;
		}
		r->types[j].alerts++;
		r->types[j].values += a->counts[i].count;
		r->types[j].distinct_sum += a->counts[i].distinct;
		if (a->counts[i].distinct > r->types[j].distinct_max)
			r->types[j].distinct_max = a->counts[i].distinct;
	}
	for (i = 0; i < a->nsamples; i++) {
		for (j = 0; j < r->ntypes; j++)
			if (strlen(r->types[j].name) == a->samples[i].type.n &&
			    memcmp(r->types[j].name, a->samples[i].type.p,
			    a->samples[i].type.n) == 0)
				break;
		if (j == r->ntypes || r->types[j].nsamples == 5)
			continue;
		r->types[j].samples[r->types[j].nsamples++] =
		    sdup(&a->samples[i].value);
	}
	addr_fmt(a, a->src, buf, sizeof(buf));
	rtally(r, &r->src, buf);
	if (a->consumer.n > 0) {
		snprintf(buf, sizeof(buf), "%.*s (%s)", (int)a->consumer.n,
		    a->consumer.p, a->flags & STORE_A_CONSUMER_VERIFIED ?
		    "identitas terverifikasi / identity verified" :
		    "identitas tidak terverifikasi / identity not verified");
		rtally(r, &r->cons, buf);
	}
	if (a->host.n > 0 || a->path.n > 0) {
		snprintf(buf, sizeof(buf), "%.*s %.*s%.*s", (int)a->method.n,
		    a->method.p, (int)a->host.n, a->host.p, (int)a->path.n,
		    a->path.p);
		rtally(r, &r->where, buf);
	}
	snprintf(buf, sizeof(buf), "%.*s", (int)a->rule.n, a->rule.p);
	rtally(r, &r->rules, buf);
	snprintf(buf, sizeof(buf), "%.*s", (int)a->sensor.n, a->sensor.p);
	rtally(r, &r->sensors, buf);
	return r->nomem ? -1 : 0;
}

static void
report_list(struct tallies *t, const char *none)
{
	size_t i, k = tallies_compact(t);

	if (k > 0)
		qsort(t->v, k, sizeof(struct tally), tally_cmp);
	if (k == 0)
		printf("- %s\n", none);
	for (i = 0; i < k && i < REPORT_LIST; i++)
		printf("- %s: %llu alert\n", t->v[i].key,
		    (unsigned long long)t->v[i].alerts);
	if (k > REPORT_LIST)
		printf("- (+%zu lainnya / more)\n", k - REPORT_LIST);
}

static void
wib(uint64_t ns, char *buf, size_t len)
{
	char t[40];

	/* WIB is UTC+7, no daylight saving. */
	store_time_fmt(ns + 7ULL * 3600 * 1000000000ULL, t, sizeof(t));
	snprintf(buf, len, "%.10s %.5s WIB", t, t + 11);
}

static int
cmd_report(struct store *st, struct opts *o)
{
	struct report r;
	struct store_query q;
	struct store_verify v;
	struct store_alert a;
	char t1[64], t2[64], t3[64], u1[40], u3[40];
	uint64_t deadline, now = store_now_ns(), id;
	size_t i, j;
	int rc = 0, vrc;
	char *end;

	if (o->nincidents == 0) {
		fprintf(stderr, "%s: report needs --incident ID\n"
		    "Try '%s --help' for the list of options.\n", prog, prog);
		return GB_EXIT_USAGE;
	}
	memset(&r, 0, sizeof(r));
	for (i = 0; i < o->nincidents && rc == 0; i++) {
		size_t before = r.nids;

		q = o->q;
		q.incident = o->incidents[i];
		rc = store_query_run(st, &q, report_cb, &r);
		/* A bare number that is no incident key is an alert id. */
		if (rc == 0 && r.nids == before) {
			errno = 0;
			id = strtoull(o->incidents[i], &end, 10);
			if (errno == 0 && *end == '\0' && id > 0 &&
			    (rc = store_get(st, id, &a, NULL)) == 0)
				rc = report_cb(&a, NULL, &r);
			else if (rc == STORE_NOTFOUND)
				rc = 0;
		}
	}
	if (rc == -1) {
		rc = r.nomem ? EXIT_STORE : run_error(st);
		goto out;
	}
	if (r.alerts == 0) {
		fprintf(stderr, "%s: no alert belongs to the incident(s) "
		    "given\n", prog);
		rc = GB_EXIT_FAIL;
		goto out;
	}
	if ((vrc = store_verify_run(st, NULL, 0, &v)) == -1) {
		rc = run_error(st);
		goto out;
	}
	deadline = r.first_ns + 72ULL * 3600 * 1000000000ULL;
	time_short(r.first_ns, u1, sizeof(u1));
	time_short(deadline, u3, sizeof(u3));
	wib(r.first_ns, t1, sizeof(t1));
	wib(r.last_ns, t2, sizeof(t2));
	wib(deadline, t3, sizeof(t3));
	if (o->fmt == FMT_JSON) {
		printf("{\"incidents\":[");
		for (i = 0; i < o->nincidents; i++) {
			printf("%s", i ? "," : "");
			json_key(o->incidents[i]);
		}
		printf("],\"alerts\":%llu,\"first\":\"%s\",\"deadline\":\"%s\","
		    "\"types\":[", (unsigned long long)r.alerts, u1, u3);
		for (i = 0; i < r.ntypes; i++)
			printf("%s{\"type\":\"%s\",\"values\":%llu,"
			    "\"distinct_min\":%llu,\"distinct_max\":%llu}",
			    i ? "," : "", r.types[i].name,
			    (unsigned long long)r.types[i].values,
			    (unsigned long long)r.types[i].distinct_max,
			    (unsigned long long)r.types[i].distinct_sum);
		printf("],\"chain_ok\":%s}\n", vrc == 0 ? "true" : "false");
		rc = GB_EXIT_OK;
		goto out;
	}
	printf("# DRAF Pemberitahuan Kegagalan Pelindungan Data Pribadi\n"
	    "# DRAFT Personal Data Breach Notification\n\n");
	printf("Kepada / To: Lembaga Pelindungan Data Pribadi (UU No. 27 "
	    "Tahun 2022, Pasal 46)\n");
	printf("Dari / From: [nama Pengendali Data Pribadi / data controller]"
	    "\n");
	printf("Insiden / Incident: ");
	for (i = 0; i < o->nincidents; i++)
		printf("%s%s", i ? ", " : "", o->incidents[i]);
	time_short(now, u1, sizeof(u1));
	printf("\nDibuat / Prepared: %s by gerbang-audit from the alert store"
	    "\n\n", u1);
	printf("## Tenggat 3x24 jam / 3x24-hour deadline\n\n");
	time_short(r.first_ns, u1, sizeof(u1));
	printf("Peringatan pertama / First alert: %s (%s)\n", t1, u1);
	printf("Batas pemberitahuan / Notify by: **%s** (%s)\n", t3, u3);
	if (now > deadline)
		printf("**Tenggat sudah lewat / The deadline has passed.**\n");
	else
		printf("Sisa waktu / Time left: %llu jam / hours\n",
		    (unsigned long long)((deadline - now) /
		    (3600ULL * 1000000000ULL)));
	printf("\n## Waktu / When\n\n");
	printf("- Pertama / first: %s\n- Terakhir / last: %s\n", t1, t2);
	printf("- Jumlah peringatan / alerts: %llu\n",
	    (unsigned long long)r.alerts);
	printf("- Volume data / bytes: %llu\n", (unsigned long long)r.bytes);
	printf("- Tingkat / highest severity: %s\n",
	    store_sev_str(r.max_sev));
	printf("\n## Jenis data pribadi / Kinds of personal data\n\n");
	printf("| jenis / type | nilai / values | subjek berbeda / distinct "
	    "subjects | contoh tersamar / masked samples |\n");
	printf("| --- | ---: | ---: | --- |\n");
	for (i = 0; i < r.ntypes; i++) {
		printf("| %s | %llu | ", r.types[i].name,
		    (unsigned long long)r.types[i].values);
		if (r.types[i].alerts == 1 ||
		    r.types[i].distinct_max == r.types[i].distinct_sum)
			printf("%llu", (unsigned long long)
			    r.types[i].distinct_max);
		else
			printf("%llu - %llu", (unsigned long long)
			    r.types[i].distinct_max, (unsigned long long)
			    r.types[i].distinct_sum);
		printf(" | ");
		for (j = 0; j < r.types[i].nsamples; j++)
			printf("%s`%s`", j ? ", " : "", r.types[i].samples[j]);
		printf(" |\n");
	}
	printf("\nSubjek berbeda dihitung oleh detektor per peringatan; "
	    "rentang = terbesar per peringatan sampai jumlah semua "
	    "peringatan.\nDistinct subjects are counted by the detector per "
	    "alert; a range is the largest single alert to the sum over "
	    "alerts (a subject seen in two alerts counts twice in the sum)."
	    "\n");
	printf("\n## Asal / Where from\n\nAlamat sumber / source "
	    "addresses:\n");
	report_list(&r.src, "-");
	printf("\nPermintaan / requests:\n");
	report_list(&r.where, "-");
	printf("\n## Konsumen / Consumer\n\n");
	report_list(&r.cons, "tidak teridentifikasi / not identified");
	printf("\n## Deteksi / Detection\n\nAturan / rules:\n");
	report_list(&r.rules, "-");
	printf("\nSensor:\n");
	report_list(&r.sensors, "-");
	printf("\n## Bukti / Evidence\n\n");
	printf("ID peringatan / alert ids:");
	for (i = 0; i < r.nids && i < 50; i++)
		printf(" %llu", (unsigned long long)r.ids[i]);
	printf("%s\n", r.nids > 50 ? " ..." : "");
	if (vrc == 0)
		printf("Rantai hash / hash chain: utuh / intact (%llu records, "
		    "%llu signatures; `gerbang-audit verify --pubkey KEY` to "
		    "confirm with the key you hold)\n",
		    (unsigned long long)v.records,
		    (unsigned long long)v.checkpoints);
	else
		printf("Rantai hash / hash chain: **RUSAK / BROKEN**: %s\n",
		    v.msg);
	printf("\n## Diisi oleh pengendali / To be completed by the "
	    "controller\n\n"
	    "- Dampak dan risiko / impact and risk: [isi / fill in]\n"
	    "- Langkah penanganan dan pemulihan / measures taken: [isi]\n"
	    "- Pemberitahuan kepada subjek data / subjects notified: [isi]\n"
	    "- Narahubung / contact: [isi]\n\n"
	    "Nilai pada draf ini tersamar; nilai asli tidak disimpan.\n"
	    "Values in this draft are masked; clear values are never "
	    "stored.\n");
	rc = GB_EXIT_OK;
out:
	for (i = 0; i < r.ntypes; i++)
		for (j = 0; j < r.types[i].nsamples; j++)
			free(r.types[i].samples[j]);
	tallies_free(&r.src);
	tallies_free(&r.cons);
	tallies_free(&r.where);
	tallies_free(&r.rules);
	tallies_free(&r.sensors);
	free(r.ids);
	return rc;
}

/* --- command line --- */

enum {
	O_SINCE = 256, O_UNTIL, O_RULE, O_SEV, O_SRC, O_CONSUMER, O_TYPE,
	O_INCIDENT, O_SENSOR, O_LIMIT, O_INTERVAL, O_COUNT, O_TOP, O_PUBKEY,
};

static int
bad_value(const char *opt, const char *val, const char *what)
{
	fprintf(stderr, "%s: %s '%s': %s\n"
	    "Try '%s --help' for the list of options.\n", prog, opt, val,
	    what, prog);
	return GB_EXIT_USAGE;
}

static int
parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno != 0 || *end != '\0' ? -1 : 0;
}

static int
cmd_opts(int argc, char *argv[], struct opts *o, const char *cmd)
{
	static const struct option longopts[] = {
		{ "since", required_argument, NULL, O_SINCE },
		{ "until", required_argument, NULL, O_UNTIL },
		{ "rule", required_argument, NULL, O_RULE },
		{ "severity", required_argument, NULL, O_SEV },
		{ "src", required_argument, NULL, O_SRC },
		{ "consumer", required_argument, NULL, O_CONSUMER },
		{ "type", required_argument, NULL, O_TYPE },
		{ "incident", required_argument, NULL, O_INCIDENT },
		{ "sensor", required_argument, NULL, O_SENSOR },
		{ "limit", required_argument, NULL, O_LIMIT },
		{ "interval", required_argument, NULL, O_INTERVAL },
		{ "count", required_argument, NULL, O_COUNT },
		{ "top", required_argument, NULL, O_TOP },
		{ "pubkey", required_argument, NULL, O_PUBKEY },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char optstring[] = ":f:h";
	uint64_t now = store_now_ns();
	bool filters = strcmp(cmd, "verify") != 0 && strcmp(cmd, "show") != 0;
	bool report = strcmp(cmd, "report") == 0;
	int ch, sev;

	optind = 0;	/* glibc: 0 re-initialises getopt for the second scan */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, optstring, longopts, NULL)) != -1) {
		if ((ch >= O_SINCE && ch <= O_LIMIT && ch != O_INCIDENT &&
		    !filters) || (ch == O_INCIDENT && !filters) ||
		    ((ch == O_INTERVAL || ch == O_COUNT) &&
		    strcmp(cmd, "follow") != 0) ||
		    (ch == O_TOP && strcmp(cmd, "stats") != 0) ||
		    (ch == O_PUBKEY && strcmp(cmd, "verify") != 0)) {
			fprintf(stderr, "%s: %s does not take '%s'\n"
			    "Try '%s --help' for the list of options.\n", prog,
			    cmd, argv[optind - 1], prog);
			return GB_EXIT_USAGE;
		}
		switch (ch) {
		case O_SINCE:
			if (store_time_parse(optarg, now, &o->q.since_ns))
				return bad_value("--since", optarg, "not an "
				    "ISO 8601 time or a duration like 24h");
			break;
		case O_UNTIL:
			if (store_time_parse(optarg, now, &o->q.until_ns))
				return bad_value("--until", optarg, "not an "
				    "ISO 8601 time or a duration like 24h");
			break;
		case O_RULE:
			o->q.rule = optarg;
			break;
		case O_SEV:
			if ((sev = store_sev_from_str(optarg)) < 0)
				return bad_value("--severity", optarg, "expected "
				    "info, low, medium, high or critical");
			o->q.min_sev = sev;
			break;
		case O_SRC:
			if (store_cidr_parse(optarg, o->q.src_net,
			    &o->q.src_bits) == -1)
				return bad_value("--src", optarg, "not an "
				    "address or network (host bits must be 0)");
			o->q.has_src = true;
			break;
		case O_CONSUMER:
			o->q.consumer = optarg;
			break;
		case O_TYPE:
			o->q.type = optarg;
			break;
		case O_INCIDENT:
			if (report) {
				if (o->nincidents == MAX_INCIDENTS)
					return bad_value("--incident", optarg,
					    "too many incidents");
				o->incidents[o->nincidents++] = optarg;
			} else
				o->q.incident = optarg;
			break;
		case O_SENSOR:
			o->q.sensor = optarg;
			break;
		case O_LIMIT:
			if (parse_u64(optarg, &o->limit) == -1)
				return bad_value("--limit", optarg,
				    "not a number");
			break;
		case O_COUNT:
			if (parse_u64(optarg, &o->count) == -1)
				return bad_value("--count", optarg,
				    "not a number");
			break;
		case O_TOP:
			if (parse_u64(optarg, &o->top) == -1 || o->top == 0)
				return bad_value("--top", optarg,
				    "not a positive number");
			break;
		case O_INTERVAL:
			if (gb_parse_duration_ms(optarg, &o->interval_ms) ==
			    -1 || o->interval_ms == 0 ||
			    o->interval_ms > 3600000)
				return bad_value("--interval", optarg,
				    "expected a duration like 500ms or 2s");
			break;
		case O_PUBKEY:
			if (o->npubkeys == MAX_PUBKEYS)
				return bad_value("--pubkey", optarg,
				    "too many keys");
			o->pubkeys[o->npubkeys++] = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "table") == 0)
				o->fmt = FMT_TABLE;
			else if (strcmp(optarg, "json") == 0)
				o->fmt = FMT_JSON;
			else if (strcmp(optarg, "csv") == 0)
				o->fmt = FMT_CSV;
			else
				return bad_value("--format", optarg,
				    "expected table, json or csv");
			o->fmt_set = true;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			return gb_cli_bad_option(prog, argv, optstring);
		}
	}
	if (o->q.until_ns != 0 && o->q.until_ns <= o->q.since_ns) {
		fprintf(stderr, "%s: --until is not after --since\n", prog);
		return GB_EXIT_USAGE;
	}
	return 0;
}

/* The store folder from --store, the configuration, or the default. */
static int
store_path(struct opts *o, const char **out)
{
	static char path[4096];
	struct gb_ydoc *doc;
	struct gb_diags d;
	struct gb_ynode *n;
	const char *cfg = o->config != NULL ? o->config : DEFAULT_CONFIG;
	const char *s;
	static const char *const keys[] = { "store", NULL };

	if (o->store != NULL) {
		*out = o->store;
		return 0;
	}
	if (o->config == NULL && access(cfg, F_OK) == -1) {
		*out = DEFAULT_STORE;
		return 0;
	}
	gb_diags_init(&d, 0);
	if (gb_yaml_load_file(cfg, NULL, &doc, &d) == -1) {
		gb_diags_print(&d, stderr);
		gb_diags_free(&d);
		return -1;
	}
	if (doc->root == NULL || gb_yexpect(doc, &d, doc->root, "the file",
	    GB_Y_MAP) == -1 ||
	    gb_ymap_check(doc, &d, doc->root, "the file", keys) == -1 ||
	    (n = gb_ymap_need(doc, &d, doc->root, "the file", "store")) ==
	    NULL || gb_ystr(doc, &d, n, "store", &s) == -1 ||
	    snprintf(path, sizeof(path), "%s", s) >= (int)sizeof(path)) {
		if (d.nerrors == 0)
			fprintf(stderr, "%s: %s: no 'store:' folder\n", prog,
			    cfg);
		gb_diags_print(&d, stderr);
		gb_ydoc_free(doc);
		gb_diags_free(&d);
		return -1;
	}
	gb_ydoc_free(doc);
	gb_diags_free(&d);
	*out = path;
	return 0;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "config", required_argument, NULL, 'c' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	/* "+": stop at the command; its own flags follow it. */
	static const char optstring[] = "+:s:c:f:hV";
	static const char *const commands[] = {
		"list", "show", "stats", "follow", "export", "verify", "report",
		NULL,
	};
	struct opts o;
	struct store *st;
	const char *cmd, *dir;
	char err[512];
	int ch, rc;
	size_t i;

	memset(&o, 0, sizeof(o));
	o.interval_ms = 1000;
	o.top = 20;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, optstring, longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			o.store = optarg;
			break;
		case 'c':
			o.config = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "table") == 0)
				o.fmt = FMT_TABLE;
			else if (strcmp(optarg, "json") == 0)
				o.fmt = FMT_JSON;
			else if (strcmp(optarg, "csv") == 0)
				o.fmt = FMT_CSV;
			else
				return bad_value("--format", optarg,
				    "expected table, json or csv");
			o.fmt_set = true;
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
	cmd = argv[optind];
	for (i = 0; commands[i] != NULL; i++)
		if (strcmp(commands[i], cmd) == 0)
			break;
	if (commands[i] == NULL) {
		fprintf(stderr, "%s: unknown command '%s'\n"
		    "Try '%s --help' for the list of commands.\n", prog, cmd,
		    prog);
		return GB_EXIT_USAGE;
	}
	argc -= optind;
	argv += optind;
	if ((rc = cmd_opts(argc, argv, &o, cmd)) != 0)
		return rc == -1 ? GB_EXIT_OK : rc;
	if (strcmp(cmd, "show") == 0 && argc - optind != 1) {
		fprintf(stderr, "%s: show needs one alert ID\n", prog);
		return GB_EXIT_USAGE;
	}
	if (strcmp(cmd, "show") != 0 && optind < argc) {
		fprintf(stderr, "%s: %s: unexpected argument '%s'\n", prog, cmd,
		    argv[optind]);
		return GB_EXIT_USAGE;
	}
	if (strcmp(cmd, "export") == 0 && !o.fmt_set)
		o.fmt = FMT_JSON;
	o.colour = isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL;
	if (store_path(&o, &dir) == -1)
		return GB_EXIT_USAGE;
	if (store_open(dir, STORE_RDONLY, &st, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return EXIT_STORE;
	}
	if (store_nolock(st))
		fprintf(stderr, "%s: note: %s/lock.mdb is not writable: reading "
		    "without locks (results are consistent only while no "
		    "writer is active)\n", prog, dir);
	if (strcmp(cmd, "list") == 0 || strcmp(cmd, "export") == 0)
		rc = cmd_list(st, &o, o.fmt);
	else if (strcmp(cmd, "show") == 0)
		rc = cmd_show(st, &o, argv[optind]);
	else if (strcmp(cmd, "stats") == 0)
		rc = cmd_stats(st, &o);
	else if (strcmp(cmd, "follow") == 0)
		rc = cmd_follow(st, &o);
	else if (strcmp(cmd, "verify") == 0)
		rc = cmd_verify(st, &o);
	else
		rc = cmd_report(st, &o);
	store_close(st);
	return rc;
}
