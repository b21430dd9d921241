/*
 * det_alert: attribution, bulk and scraping thresholds, health, and the
 * alerts they raise (det_alert.h).
 */
#include "detectors/det_alert.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/gb_buf.h"
#include "core/gb_log.h"
#include "core/gb_diag.h"

#define FORGED_SLOTS	1024	/* sources remembered for forged-header alerts */
#define FORGED_QUIET_US	(600ULL * 1000000)

enum attrib_kind {
	AT_NONE = 0,		/* no header */
	AT_VERIFIED,		/* signature good, time close */
	AT_UNVERIFIED,		/* no key here to check it, or stale */
	AT_REJECTED,		/* unsigned where signing is expected,
				   forged, malformed */
};

struct attrib {
	uint64_t		 flow_id;
	uint64_t		 seq;		/* the txn's, in its flow */
	bool			 valid;
	enum attrib_kind	 kind;
	enum gb_idhdr_status	 st;
	struct gb_idhdr		 h;
};

#define PEND_MAX	1024	/* responses with a crossing, waiting for it */
/*
 * Attributions of open transactions, by (flow, transaction seq): the packets
 * of concurrent connections interleave, and a transaction's header is
 * verified (an HMAC) once, not once per packet between others.
 */
#define ATC_N		256

struct pend {
	bool			 used;
	uint64_t		 flow_id;
	uint64_t		 seq;
	struct det_bulk_alert	 ba;
	uint8_t			 key[16];
	size_t			 key_len;
};

/*
 * The findings of one response body wait here, hashed, and are counted
 * together (det_bulk_count): the subject is looked up and each rule
 * checks its threshold once per batch, not once per finding. A batch
 * ends when it is full, when a finding of another transaction comes (the
 * flows' packets interleave) and before any transaction ends, so its
 * transaction is alive whenever its alerts are raised.
 */
#define BATCH_MAX	128

struct batch {
	const struct det_sensor_txn *t;
	const struct attrib	*at;		/* t's, in the cache */
	uint64_t		 flow_id;
	uint64_t		 seq;
	uint64_t		 now_ms;
	struct det_bulk_subject	 who;
	uint8_t			 rk[16];
	uint8_t			 src[17];
	char			 consumer[GB_IDHDR_ID_MAX + 1];
	size_t			 n;
	struct det_bulk_val	 v[BATCH_MAX];
};

struct forged_slot {
	uint8_t		addr[17];
	uint64_t	last_us;
};

struct det_alert {
	struct det_alert_conf	 c;
	struct det_bulk		*bulk;
	struct det_rules	*scrape_rules;
	struct det_bulk		*scrape;
	struct gb_idhdr_mac	*mac;
	struct attrib		 atc[ATC_N];
	const struct attrib	*at;		/* of cur */
	const struct det_sensor_txn *cur;	/* txn of the finding at hand */
	const char		*cur_template;	/* its path template (scraping) */
	const char		*cur_path;	/* the path to show, when t's is
						   not masked yet (a canary) */
	struct forged_slot	 forged[FORGED_SLOTS];
	struct pend		 pend[PEND_MAX];
	size_t			 npend;		/* used in pend */
	struct batch		 batch;
	uint64_t		 last_recv;
	uint64_t		 last_drop;
	struct gb_buf		 line;
	struct det_alert_stats	 st;
};

void
det_alert_conf_default(struct det_alert_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->max_skew_s = 300;
	c->scrape_distinct = 100;
	c->scrape_window_ms = 10 * 60 * 1000;
	c->scrape_severity = DET_SEV_HIGH;
	c->loss_ratio = 0.001;
}

static const char *const sev_names[] = { "info", "low", "medium", "high",
    "critical" };

int
det_alert_new(const struct det_alert_conf *c, struct det_alert **out)
{
	struct det_alert *a;
	struct gb_diags d;
	char y[512];
	int n;

	*out = NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return -1;
	a->c = *c;
	gb_buf_init(&a->line, 1 << 20);
	if (det_bulk_new(c->rules, NULL, &c->bulk, &a->bulk) == -1)
		goto fail;
	if (c->consumer_key != NULL &&
	    gb_idhdr_mac_new(c->consumer_key, &a->mac) == -1)
		goto fail;
	if (c->scrape_distinct > 0) {
		/* Scraping is two bulk rules over identifiers in paths. */
		n = snprintf(y, sizeof(y),
		    "bulk:\n"
		    "  - { name: scraping-by-consumer, type: any, "
		    "scope: consumer, distinct: %" PRIu64 ", window: %" PRIu64
		    "ms, severity: %s }\n"
		    "  - { name: scraping-by-source, type: any, "
		    "scope: source, distinct: %" PRIu64 ", window: %" PRIu64
		    "ms, severity: %s }\n",
		    c->scrape_distinct, c->scrape_window_ms,
		    sev_names[c->scrape_severity], c->scrape_distinct,
		    c->scrape_window_ms, sev_names[c->scrape_severity]);
		gb_diags_init(&d, 0);
		if (n < 0 || (size_t)n >= sizeof(y) ||
		    det_rules_load_mem("(scraping)", y, (size_t)n,
		    &a->scrape_rules, &d) == -1) {
			gb_diags_log(&d);
			gb_diags_free(&d);
			goto fail;
		}
		gb_diags_free(&d);
		if (det_bulk_new(a->scrape_rules, NULL, &c->bulk,
		    &a->scrape) == -1)
			goto fail;
	}
	*out = a;
	return 0;
fail:
	det_alert_free(a);
	return -1;
}

void
det_alert_free(struct det_alert *a)
{
	if (a == NULL)
		return;
	det_bulk_free(a->bulk);
	det_bulk_free(a->scrape);
	det_rules_free(a->scrape_rules);
	gb_idhdr_mac_free(a->mac);
	gb_buf_free(&a->line);
	free(a);
}

/* ---- attribution ---- */

static struct attrib *
atc_slot(struct det_alert *a, const struct det_sensor_txn *t)
{
	uint64_t h = (t->flow->id ^ t->seq * 0x9e3779b97f4a7c15ULL) *
	    0xff51afd7ed558ccdULL;

	return &a->atc[h >> 56];
}

/* The capture time of t: its request's, else its response's. */
static uint64_t
txn_time_us(const struct det_sensor_txn *t)
{
	return t->ts_req_us != 0 ? t->ts_req_us : t->ts_resp_us;
}

/* Response-scope subject key of t: (flow id, seq), 16 bytes. */
static void
resp_key(const struct det_sensor_txn *t, uint8_t rk[16])
{
	memcpy(rk, &t->flow->id, 8);
	memcpy(rk + 8, &t->seq, 8);
}

/* The id of header value v as it is (trimmed, before any ';' or ',', cut to
   GB_IDHDR_ID_MAX) into h->consumer. Returns false when it is empty. */
static bool
id_unverified(const char *v, struct gb_idhdr *h)
{
	size_t n;

	while (*v == ' ' || *v == '\t')
		v++;
	for (n = 0; v[n] != '\0' && v[n] != ';' && v[n] != ','; n++)
		;
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	if (n > GB_IDHDR_ID_MAX)
		n = GB_IDHDR_ID_MAX;
	memcpy(h->consumer, v, n);
	h->consumer[n] = '\0';
	return n > 0;
}

/* The attribution of t (kept until det_alert_on_txn()); also a->at. */
static const struct attrib *
attribute(struct det_alert *a, const struct det_sensor_txn *t)
{
	struct attrib *at = atc_slot(a, t);
	int64_t skew;

	a->at = at;
	if (at->valid && at->flow_id == t->flow->id && at->seq == t->seq)
		return at;
	memset(at, 0, sizeof(*at));
	at->valid = true;
	at->flow_id = t->flow->id;
	at->seq = t->seq;
	if (!t->has_consumer) {
		at->kind = AT_NONE;
		return at;
	}
	at->st = gb_idhdr_verify(a->mac, t->consumer, strlen(t->consumer),
	    &at->h);
	switch (at->st) {
	case GB_IDHDR_SIGNED:
		skew = at->h.ts - (int64_t)(txn_time_us(t) / 1000000);
		/* Out of range: a replayed header, or clocks apart. */
		at->kind = skew < -a->c.max_skew_s || skew > a->c.max_skew_s ?
		    AT_UNVERIFIED : AT_VERIFIED;
		break;
	case GB_IDHDR_UNCHECKED:
		at->kind = AT_UNVERIFIED;
		break;
	case GB_IDHDR_UNSIGNED:
		/* With a key here the gateway signs: a bare id is not its. */
		at->kind = a->mac != NULL ? AT_REJECTED : AT_UNVERIFIED;
		break;
	case GB_IDHDR_BADSIG:
		at->kind = AT_REJECTED;
		break;
	case GB_IDHDR_MALFORMED:
		if (a->mac != NULL) {
			/* The alert names the id claimed, if any. */
			(void)id_unverified(t->consumer, &at->h);
			at->kind = AT_REJECTED;
			break;
		}
		/* No key: nothing says the gateway signs; the id (before any
		   ';') is used unverified, whatever its spelling. */
		at->kind = id_unverified(t->consumer, &at->h) ? AT_UNVERIFIED :
		    AT_NONE;
		break;
	}
	return at;
}

/* Counted once per transaction, when it ends. */
static void
attrib_count(struct det_alert *a, const struct attrib *at)
{
	if (at->kind == AT_NONE)
		return;
	switch (at->st) {
	case GB_IDHDR_SIGNED:
		if (at->kind == AT_VERIFIED)
			a->st.consumer_verified++;
		else
			a->st.consumer_stale++;
		break;
	case GB_IDHDR_UNCHECKED:
	case GB_IDHDR_UNSIGNED:
		a->st.consumer_unsigned++;
		break;
	case GB_IDHDR_BADSIG:
		a->st.consumer_forged++;
		break;
	case GB_IDHDR_MALFORMED:
		a->st.consumer_malformed++;
		break;
	}
}

/* ---- alerts ---- */

static void
flow_into(struct store_alert *sa, const struct det_sensor_txn *t)
{
	const struct det_flow_key *k = &t->flow->key;
	int c = t->flow->client, s = !c;

	sa->proto = 6;
	sa->af = k->family == 6 ? STORE_AF_INET6 : STORE_AF_INET;
	memcpy(sa->src, k->addr[c], 16);
	memcpy(sa->dst, k->addr[s], 16);
	sa->sport = k->port[c];
	sa->dport = k->port[s];
}

static void
emit(struct det_alert *a, struct store_alert *sa)
{
	const char *why = NULL;
	uint64_t n;

	a->st.alerts++;
	if (a->c.store != NULL) {
		if (store_writer_append(a->c.store, sa) == 0)
			a->st.stored++;
		else {
			n = ++a->st.store_refused;
			if ((n & (n - 1)) == 0) {	/* 1, 2, 4, 8 ... */
				if (store_alert_check(sa, &why) == 0)
					why = strerror(errno);
				gb_error("alert store: alert %s refused (%s); "
				    "%llu so far", sa->rule.p, why,
				    (unsigned long long)n);
			}
		}
	}
	if (a->c.json != NULL) {
		gb_buf_reset(&a->line);
		if (store_json_alert(&a->line, sa, NULL) == 0 &&
		    gb_buf_putc(&a->line, '\n') == 0)
			fwrite(gb_buf_head(&a->line), 1, gb_buf_used(&a->line),
			    a->c.json);
	}
}

/* The txn's own details: consumer, request line, status, samples. */
static void
txn_into(struct det_alert *a, struct store_alert *sa,
    const struct det_sensor_txn *t, const struct attrib *at)
{
	unsigned i;

	flow_into(sa, t);
	sa->sensor = store_str(a->c.sensor_id);
	if (at->kind == AT_VERIFIED || at->kind == AT_UNVERIFIED) {
		sa->consumer = store_str(at->h.consumer);
		if (at->kind == AT_VERIFIED)
			sa->flags |= STORE_A_CONSUMER_VERIFIED;
	}
	sa->method = store_str(t->method);
	sa->host = store_str(t->host);
	sa->path = store_str(t->path);
	sa->status = (uint16_t)(t->status > 0 ? t->status : 0);
	sa->bytes = t->resp_bytes;
	for (i = 0; i < t->nsamples && sa->nsamples < STORE_SAMPLES_MAX;
	    i++) {
		sa->samples[sa->nsamples].type =
		    store_str(det_type_str(t->samples[i].type));
		sa->samples[sa->nsamples].value =
		    store_str(t->samples[i].masked);
		sa->nsamples++;
	}
}

static void
bulk_emit(struct det_alert *a, const struct det_sensor_txn *t,
    const struct det_bulk_alert *ba)
{
	const struct attrib *at = a->at;
	struct store_alert sa;
	char msg[512], inc[160], flags[64], key[80];
	size_t i, kn;
	int ty;

	memset(&sa, 0, sizeof(sa));
	txn_into(a, &sa, t, at);
	sa.time_ns = txn_time_us(t) * 1000;
	sa.severity = (uint8_t)ba->severity;
	sa.win_start_ns = ba->since_ms * 1000000;
	sa.win_end_ns = ba->now_ms * 1000000;
	sa.rule = store_str(ba->rule != NULL ? ba->rule->name : "canary");
	if (a->cur_template != NULL)
		sa.path = store_str(a->cur_template);	/* never the raw one */
	else if (a->cur_path != NULL)
		sa.path = store_str(a->cur_path);
	for (ty = 0; ty < DET_T_COUNT && sa.ncounts < STORE_COUNTS_MAX;
	    ty++) {
		if (ba->count[ty] == 0)
			continue;
		sa.counts[sa.ncounts].type = store_str(det_type_str(ty));
		sa.counts[sa.ncounts].count = ba->count[ty];
		sa.counts[sa.ncounts].distinct = ba->distinct_type[ty];
		sa.ncounts++;
	}
	/* The subject key as text: printable keys as they are, else hex. */
	kn = ba->key_len > 32 ? 32 : ba->key_len;
	for (i = 0; i < kn && ba->key[i] >= 0x20 && ba->key[i] < 0x7f; i++)
		;
	if (i == kn && ba->scope == DET_SCOPE_CONSUMER)
		snprintf(key, sizeof(key), "%.*s", (int)kn,
		    (const char *)ba->key);
	else
		gb_hex(key, ba->key, kn);
	snprintf(inc, sizeof(inc), "%s/%s/%s", sa.rule.p,
	    det_scope_str(ba->scope), key);
	sa.incident = store_str(inc);
	if (a->cur_template != NULL)
		snprintf(msg, sizeof(msg), "%" PRIu64 " distinct identifiers%s "
		    "asked one by one in %s %s from one %s (%s)%s",
		    ba->distinct, ba->exact ? "" : " (estimated)", t->method,
		    a->cur_template, det_scope_str(ba->scope),
		    det_bulk_flags_str(ba->flags, flags, sizeof(flags)),
		    at->kind == AT_UNVERIFIED ? "; consumer not verified" : "");
	else
		snprintf(msg, sizeof(msg), "%" PRIu64 " distinct identifiers%s "
		    "in one %s (%s)%s", ba->distinct, ba->exact ? "" :
		    " (estimated)", det_scope_str(ba->scope),
		    det_bulk_flags_str(ba->flags, flags, sizeof(flags)),
		    at->kind == AT_UNVERIFIED ? "; consumer not verified" : "");
	sa.message = store_str(msg);
	emit(a, &sa);
}

/*
 * Response-scope crossings wait for the end of their response, so that one
 * response gives one alert per rule with its final counts (not one per
 * doubling while it streams). Returns 0 when kept, -1 when the table is
 * full (the caller alerts at once).
 */
static int
pend_put(struct det_alert *a, const struct det_sensor_txn *t,
    const struct det_bulk_alert *ba)
{
	struct pend *p, *free_p = NULL;
	size_t i, seen = 0;

	for (i = 0; i < PEND_MAX && (seen < a->npend || free_p == NULL);
	    i++) {
		p = &a->pend[i];
		if (!p->used) {
			if (free_p == NULL)
				free_p = p;
			continue;
		}
		seen++;
		if (p->flow_id == t->flow->id && p->seq == t->seq &&
		    p->ba.rule == ba->rule) {
			p->ba = *ba;
			goto key;
		}
	}
	if ((p = free_p) == NULL)
		return -1;
	p->used = true;
	a->npend++;
	p->flow_id = t->flow->id;
	p->seq = t->seq;
	p->ba = *ba;
key:
	p->key_len = ba->key_len > sizeof(p->key) ? sizeof(p->key) :
	    ba->key_len;
	memcpy(p->key, ba->key, p->key_len);
	p->ba.key = p->key;
	p->ba.key_len = p->key_len;
	/* One alert per response: a first one, at the rule's severity,
	   however its batches doubled the count on the way. */
	p->ba.flags = DET_BULK_A_FIRST;
	if (p->ba.rule != NULL)
		p->ba.severity = p->ba.rule->severity;
	return 0;
}

static void
pend_flush(struct det_alert *a, const struct det_sensor_txn *t)
{
	struct pend *p;
	size_t i, seen = 0;

	for (i = 0; i < PEND_MAX && seen < a->npend; i++) {
		p = &a->pend[i];
		if (p->used)
			seen++;
		if (p->used && p->flow_id == t->flow->id &&
		    p->seq == t->seq) {
			struct det_bulk_alert fin;

			/* The response's final counts, not the last doubling. */
			if (det_bulk_peek(a->bulk, p->ba.rule, p->key,
			    p->key_len, p->ba.now_ms, &fin) == 0 &&
			    fin.distinct >= p->ba.distinct) {
				fin.severity = p->ba.severity;
				fin.flags = DET_BULK_A_FIRST;
				p->ba = fin;
				p->ba.key = p->key;
				p->ba.key_len = p->key_len;
			}
			bulk_emit(a, t, &p->ba);
			p->used = false;
			a->npend--;
			seen--;
		}
	}
}

static void
on_bulk(const struct det_bulk_alert *ba, void *arg)
{
	struct det_alert *a = arg;
	const struct det_sensor_txn *t = a->cur;

	if (ba->scope == DET_SCOPE_RESPONSE &&
	    (ba->flags & DET_BULK_A_CANARY) == 0 && a->cur_template == NULL &&
	    pend_put(a, t, ba) == 0)
		return;
	bulk_emit(a, t, ba);
}

static void
forged_alert(struct det_alert *a, const struct det_sensor_txn *t,
    const struct attrib *at)
{
	const struct det_flow_key *k = &t->flow->key;
	struct forged_slot *fs;
	struct store_alert sa;
	uint64_t h = 1469598103934665603ULL;
	char msg[256];
	int i;

	for (i = 0; i < 16; i++)
		h = (h ^ k->addr[t->flow->client][i]) * 1099511628211ULL;
	fs = &a->forged[h % FORGED_SLOTS];
	if (memcmp(fs->addr, k->addr[t->flow->client], 16) == 0 &&
	    fs->addr[16] == 1 && txn_time_us(t) >= fs->last_us &&
	    txn_time_us(t) - fs->last_us < FORGED_QUIET_US)
		return;
	memcpy(fs->addr, k->addr[t->flow->client], 16);
	fs->addr[16] = 1;
	fs->last_us = txn_time_us(t);
	memset(&sa, 0, sizeof(sa));
	txn_into(a, &sa, t, at);
	sa.consumer = store_str(at->h.consumer);	/* as claimed */
	sa.time_ns = txn_time_us(t) * 1000;
	sa.severity = STORE_SEV_HIGH;
	sa.rule = store_str("consumer-header-rejected");
	snprintf(msg, sizeof(msg), "X-Gerbang-Consumer %s: not the "
	    "gateway's attribution (forged, replayed or sent around the "
	    "gateway)", gb_idhdr_status_str(at->st));
	sa.message = store_str(msg);
	emit(a, &sa);
}

/* ---- the observer's hooks ---- */

/*
 * The target with every identifier replaced: the finding's own span by
 * {type}, any other run of 6 or more digits (with separators) by {n}, so
 * that /api/penduduk/3171... and /api/penduduk/3172... are one template and
 * no identifier is kept. The query is left out (a cache-busting parameter
 * must not make every request a template of its own), but for the name of
 * the parameter that holds the finding: /warga?nik={nik}. Returns the
 * length written to out.
 */
static size_t
path_template(const char *path, const struct det_finding *f, char *out,
    size_t outlen)
{
	size_t n = strlen(path), i = 0, o = 0, j, digits, q;
	const char *ty = det_type_str(f->type);

	while (i < n && path[i] != '#' && path[i] != '?' && o + 1 < outlen) {
		if (i == f->offset && f->length > 0) {
			o += (size_t)snprintf(out + o, outlen - o, "{%s}", ty);
			i += f->length;
			continue;
		}
		for (j = i, digits = 0; j < n && ((path[j] >= '0' &&
		    path[j] <= '9') || path[j] == '.' || path[j] == '-'); j++)
			digits += path[j] >= '0' && path[j] <= '9';
		if (digits >= 6) {
			o += (size_t)snprintf(out + o, outlen - o, "{n}");
			i = j;
			continue;
		}
		out[o++] = path[i++];
	}
	if (i < n && path[i] == '?' && f->offset > i && f->offset < n &&
	    o + 1 < outlen) {
		/* The parameter holding the finding: from the '?' or '&'
		   before it to its '='. */
		for (q = f->offset; q > i && path[q - 1] != '&' &&
		    path[q - 1] != '?'; q--)
			;
		for (j = q; j < f->offset && path[j] != '='; j++)
			;
		if (j < f->offset && j - q < 32 && o + (j - q) + 4 +
		    strlen(ty) < outlen) {
			out[o++] = '?';
			memcpy(out + o, path + q, j - q);
			o += j - q;
			o += (size_t)snprintf(out + o, outlen - o, "={%s}",
			    ty);
		}
	}
	if (o >= outlen)
		o = outlen - 1;
	out[o] = '\0';
	return o;
}

/* Host h as one origin: lower case, no default port (:80, :443), no
   trailing dot. Returns the length written to out (size outlen). */
static size_t
host_norm(const char *h, char *out, size_t outlen)
{
	size_t n = strlen(h), i;

	if (n >= outlen)
		n = outlen - 1;
	for (i = 0; i < n; i++)
		out[i] = h[i] >= 'A' && h[i] <= 'Z' ? (char)(h[i] + 32) : h[i];
	if (n > 3 && memcmp(out + n - 3, ":80", 3) == 0)
		n -= 3;
	else if (n > 4 && memcmp(out + n - 4, ":443", 4) == 0)
		n -= 4;
	if (n > 0 && out[n - 1] == '.')
		n--;
	out[n] = '\0';
	return n;
}

static void
scrape(struct det_alert *a, const struct det_sensor_txn *t,
    const struct attrib *at, const struct det_finding *f, const uint8_t *src,
    size_t srclen)
{
	struct det_bulk_subject who;
	char tpl[DET_TXN_PATH_MAX + 64], host[DET_TXN_HOST_MAX];
	uint8_t key[DET_TXN_CONSUMER_MAX + DET_TXN_HOST_MAX + sizeof(tpl)];
	size_t tn, hn = host_norm(t->host, host, sizeof(host)), cn, o;

	tn = path_template(t->path, f, tpl, sizeof(tpl));
	memset(&who, 0, sizeof(who));
	/* Per consumer when known, else per source; host + template. */
	if (at->kind == AT_VERIFIED || at->kind == AT_UNVERIFIED) {
		cn = strlen(at->h.consumer);
		memcpy(key, at->h.consumer, cn);
		o = cn;
	} else {
		memcpy(key, src, srclen);
		o = srclen;
	}
	key[o++] = 0;
	memcpy(key + o, host, hn);
	o += hn;
	key[o++] = 0;
	memcpy(key + o, tpl, tn);
	o += tn;
	if (at->kind == AT_VERIFIED || at->kind == AT_UNVERIFIED) {
		who.key[DET_SCOPE_CONSUMER] = key;
		who.len[DET_SCOPE_CONSUMER] = o;
	} else {
		who.key[DET_SCOPE_SOURCE] = key;
		who.len[DET_SCOPE_SOURCE] = o;
	}
	a->cur_template = tpl;
	det_bulk_add(a->scrape, &who, f, txn_time_us(t) / 1000, on_bulk, a);
	a->cur_template = NULL;
	explicit_bzero(key, sizeof(key));
}

/*
 * A finding sent to the server (path, request body): not counted, but a
 * canary alerts (det_bulk_value() checks, its value is not counted).
 */
static void
canary_seen(struct det_alert *a, const struct det_sensor_txn *t,
    const struct attrib *at, const struct det_finding *f,
    enum det_where where, const uint8_t src[17], uint64_t now_ms)
{
	struct det_bulk_subject who;
	struct det_bulk_val v;
	uint8_t rk[16];
	uint64_t flow_id = t->flow->id;
	char tpl[DET_TXN_PATH_MAX + 64];

	memset(&who, 0, sizeof(who));
	resp_key(t, rk);
	who.key[DET_SCOPE_RESPONSE] = rk;
	who.len[DET_SCOPE_RESPONSE] = sizeof(rk);
	who.key[DET_SCOPE_FLOW] = &flow_id;
	who.len[DET_SCOPE_FLOW] = sizeof(flow_id);
	who.key[DET_SCOPE_SOURCE] = src;
	who.len[DET_SCOPE_SOURCE] = 17;
	if (at->kind == AT_VERIFIED || at->kind == AT_UNVERIFIED) {
		who.key[DET_SCOPE_CONSUMER] = at->h.consumer;
		who.len[DET_SCOPE_CONSUMER] = strlen(at->h.consumer);
	}
	a->at = at;
	a->cur_template = NULL;
	if (where == DET_WHERE_PATH) {	/* t->path is not masked yet */
		(void)path_template(t->path, f, tpl, sizeof(tpl));
		a->cur_path = tpl;
	}
	(void)det_bulk_value(a->bulk, &who, f, now_ms, on_bulk, a, &v);
	a->cur_path = NULL;
}

/* Count the batch's findings (its transaction is alive: see struct batch). */
static void
batch_flush(struct det_alert *a)
{
	struct batch *bt = &a->batch;
	size_t n = bt->n;

	if (n == 0)
		return;
	bt->n = 0;
	a->cur = bt->t;
	(void)attribute(a, bt->t);	/* the batch's, for its alerts */
	a->cur_template = NULL;
	det_bulk_count(a->bulk, &bt->who, bt->v, n, bt->now_ms, on_bulk, a);
}

/* A finding in a request (path or body): see det_alert_on_finding(). */
static __attribute__((noinline)) void
on_request_finding(struct det_alert *a, const struct det_sensor_txn *t,
    enum det_where where, const struct det_finding *f)
{
	const struct det_flow_key *k = &t->flow->key;
	const struct attrib *at;
	uint8_t src[17];
	uint64_t now_ms = txn_time_us(t) / 1000;
	/* Data into the agency is not a leak, and not counted; but a canary
	   alerts wherever it is seen, and identifiers asked in paths are
	   scraping. */
	bool canaries = a->c.rules != NULL &&
	    det_rules_canary_count(a->c.rules) > 0;

	if (!canaries && (where != DET_WHERE_PATH || a->scrape == NULL))
		return;
	batch_flush(a);
	at = attribute(a, t);
	a->cur = t;
	src[0] = k->family;
	memcpy(src + 1, k->addr[t->flow->client], 16);
	if (canaries)
		canary_seen(a, t, at, f, where, src, now_ms);
	if (where == DET_WHERE_PATH && a->scrape != NULL)
		scrape(a, t, at, f, src, sizeof(src));
}

/* A new batch for the findings of t's response at now_ms (the last one
   counted first). Out of line: once per batch, not per finding. */
static __attribute__((noinline)) void
batch_start(struct det_alert *a, const struct det_sensor_txn *t,
    uint64_t now_ms)
{
	struct batch *bt = &a->batch;
	const struct det_flow_key *k = &t->flow->key;
	const struct attrib *at;
	size_t cn;

	batch_flush(a);
	at = attribute(a, t);
	bt->at = at;
	bt->t = t;
	bt->flow_id = t->flow->id;
	bt->seq = t->seq;
	bt->now_ms = now_ms;
	memset(&bt->who, 0, sizeof(bt->who));
	resp_key(t, bt->rk);
	bt->who.key[DET_SCOPE_RESPONSE] = bt->rk;
	bt->who.len[DET_SCOPE_RESPONSE] = sizeof(bt->rk);
	bt->src[0] = k->family;
	memcpy(bt->src + 1, k->addr[t->flow->client], 16);
	/*
	 * A verified consumer came through the gateway: the address and the
	 * (pooled) connection are the gateway's, shared by every consumer,
	 * so it counts for its consumer only.
	 */
	if (at->kind != AT_VERIFIED) {
		bt->who.key[DET_SCOPE_FLOW] = &bt->flow_id;
		bt->who.len[DET_SCOPE_FLOW] = sizeof(bt->flow_id);
		bt->who.key[DET_SCOPE_SOURCE] = bt->src;
		bt->who.len[DET_SCOPE_SOURCE] = sizeof(bt->src);
	}
	if (at->kind == AT_VERIFIED || at->kind == AT_UNVERIFIED) {
		cn = strlen(at->h.consumer);
		memcpy(bt->consumer, at->h.consumer, cn + 1);
		bt->who.key[DET_SCOPE_CONSUMER] = bt->consumer;
		bt->who.len[DET_SCOPE_CONSUMER] = cn;
	}
}

void
det_alert_on_finding(const struct det_sensor_txn *t, enum det_where where,
    const struct det_finding *f, void *arg)
{
	struct det_alert *a = arg;
	struct batch *bt = &a->batch;
	uint64_t now_ms;

	if (where != DET_WHERE_RESP_BODY) {
		on_request_finding(a, t, where, f);
		return;
	}
	/* The response's time, else the request's (txn_time_us reversed). */
	now_ms = (t->ts_resp_us != 0 ? t->ts_resp_us : t->ts_req_us) / 1000;
	if (bt->n == 0 || bt->n == BATCH_MAX || bt->t != t ||
	    bt->flow_id != t->flow->id || bt->seq != t->seq ||
	    bt->now_ms != now_ms)
		batch_start(a, t, now_ms);
	/* Canaries alert at once, with this finding's transaction. */
	a->cur = t;
	a->at = bt->at;
	a->cur_template = NULL;
	(void)det_bulk_value(a->bulk, &bt->who, f, now_ms, on_bulk, a,
	    &bt->v[bt->n]);
	if (bt->v[bt->n].type < DET_T_COUNT)
		bt->n++;
}

void
det_alert_on_txn(const struct det_sensor_txn *t, void *arg)
{
	struct det_alert *a = arg;
	const struct attrib *at;
	uint8_t rk[16];

	batch_flush(a);
	at = attribute(a, t);
	attrib_count(a, at);
	if (at->kind == AT_REJECTED)
		forged_alert(a, t, at);
	a->cur_template = NULL;
	pend_flush(a, t);
	resp_key(t, rk);
	det_bulk_end(a->bulk, DET_SCOPE_RESPONSE, rk, sizeof(rk));
	atc_slot(a, t)->valid = false;
}

void
det_alert_health(struct det_alert *a, const struct det_sensor_capstats *cap,
    uint64_t now_us)
{
	uint64_t recv, drop;
	struct store_alert sa;
	char msg[256];

	if (!cap->live)
		return;
	drop = cap->dropped + cap->if_dropped;
	recv = cap->received;
	if (recv < a->last_recv || drop < a->last_drop) {
		/* Counters wrapped or were reset: start over. */
		a->last_recv = recv;
		a->last_drop = drop;
		return;
	}
	if (drop - a->last_drop > 0 && (double)(drop - a->last_drop) >
	    a->c.loss_ratio * (double)(recv - a->last_recv + drop -
	    a->last_drop)) {
		memset(&sa, 0, sizeof(sa));
		sa.time_ns = now_us * 1000;
		sa.sensor = store_str(a->c.sensor_id);
		sa.rule = store_str("sensor-packet-loss");
		sa.severity = STORE_SEV_HIGH;
		snprintf(msg, sizeof(msg), "capture lost %" PRIu64 " of %"
		    PRIu64 " packets since the last check: detection is "
		    "incomplete", drop - a->last_drop, recv - a->last_recv +
		    drop - a->last_drop);
		sa.message = store_str(msg);
		emit(a, &sa);
	}
	a->last_recv = recv;
	a->last_drop = drop;
}

void
det_alert_stats(const struct det_alert *a, struct det_alert_stats *s)
{
	*s = a->st;
}
