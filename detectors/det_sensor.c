/*
 * det_sensor.c: the sensor pipeline over frames, transaction JSON and the
 * health counters. See det_sensor.h.
 */
#include "detectors/det_sensor.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Expire flows and fragments once per second of capture time. */
#define TICK_US		1000000ull
/* A frame further ahead of the capture clock than this is a glitch unless
   the next frame confirms the jump. */
#define JUMP_US		(300ull * 1000000)

struct det_sensor {
	struct det_sensor_conf	 conf;
	const struct det_scanner *sc;
	struct det_pkt_dec	*pkt;
	struct det_http_obs	*http;
	struct det_flow_table	*flows;
	det_sensor_txn_cb	*cb;
	void			*cb_arg;
	det_sensor_txn_cb	*obs_txn;	/* detection: every txn */
	void			*obs_arg;
	struct gb_buf		 line;
	uint64_t		 last_tick_us;
	uint64_t		 txns;
	uint64_t		 txns_written;
	uint64_t		 json_errors;
	uint64_t		 ts_backwards;	/* frames older than the last */
	uint64_t		 clock_us;	/* latest frame time taken */
	uint64_t		 jump_us;	/* a frame JUMP_US ahead */
	uint64_t		 clock_jumps;	/* frames taken as glitches */
};

void
det_sensor_conf_default(struct det_sensor_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	det_pkt_limits_default(&conf->pkt);
	det_flow_limits_default(&conf->flow);
	conf->head_memcap = 64u << 20;
	conf->layers = DET_DEC_TEXT;
	conf->max_decoders = 4096;
}

/* The default handler: JSON lines for transactions with findings (or
   all of them with json_all). */
static void
json_handler(const struct det_sensor_txn *t, void *arg)
{
	struct det_sensor *s = arg;

	if (s->conf.json == NULL || (t->nfindings == 0 && !s->conf.json_all))
		return;
	gb_buf_reset(&s->line);
	if (det_sensor_txn_json(&s->line, t, s->conf.sensor_id) == -1 ||
	    fwrite(gb_buf_head(&s->line), 1, gb_buf_used(&s->line),
	    s->conf.json) != gb_buf_used(&s->line)) {
		s->json_errors++;
		return;
	}
	s->txns_written++;
}

/* Every transaction passes here first (counted), then to the handler. */
static void
txn_dispatch(const struct det_sensor_txn *t, void *arg)
{
	struct det_sensor *s = arg;

	s->txns++;
	if (s->obs_txn != NULL)
		s->obs_txn(t, s->obs_arg);
	s->cb(t, s->cb_arg);
}

int
det_sensor_new(const struct det_sensor_conf *conf,
    const struct det_scanner *sc, struct det_sensor **out)
{
	struct det_sensor *s;
	struct det_flow_app app;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -1;
	s->conf = *conf;
	s->sc = sc;
	s->cb = json_handler;
	s->cb_arg = s;
	gb_buf_init(&s->line, 1u << 20);
	if (det_pkt_dec_new(&conf->pkt, &s->pkt) == -1 ||
	    det_http_obs_new(sc, conf->head_memcap, txn_dispatch, s,
	    &s->http) == -1)
		goto fail;
	if (det_http_obs_set_layers(s->http, conf->layers,
	    conf->max_decoders) == -1)
		goto fail;
	det_http_obs_app(s->http, &app);
	if (det_flow_table_new(&conf->flow, &app, &s->flows) == -1)
		goto fail;
	*out = s;
	return 0;
fail:
	det_http_obs_free(s->http);
	det_pkt_dec_free(s->pkt);
	gb_buf_free(&s->line);
	free(s);
	return -1;
}

void
det_sensor_free(struct det_sensor *s)
{
	if (s == NULL)
		return;
	det_flow_table_free(s->flows);	/* flushes: txns still go out */
	det_http_obs_free(s->http);
	det_pkt_dec_free(s->pkt);
	gb_buf_free(&s->line);
	free(s);
}

void
det_sensor_set_handler(struct det_sensor *s, det_sensor_txn_cb *cb,
    void *arg)
{
	if (cb == NULL) {
		s->cb = json_handler;
		s->cb_arg = s;
	} else {
		s->cb = cb;
		s->cb_arg = arg;
	}
}

void
det_sensor_set_detector(struct det_sensor *s, det_finding_hook *finding,
    det_sensor_txn_cb *txn, void *arg)
{
	det_http_obs_set_finding_hook(s->http, finding, arg);
	s->obs_txn = txn;
	s->obs_arg = arg;
}

void
det_sensor_set_decoder(struct det_sensor *s,
    const struct det_body_decoder *dec)
{
	det_http_obs_set_decoder(s->http, dec);
}

void
det_sensor_tick(struct det_sensor *s, uint64_t now_us)
{
	if (now_us < s->last_tick_us || now_us - s->last_tick_us < TICK_US)
		return;
	if (s->last_tick_us != 0) {
		det_flow_expire(s->flows, now_us);
		det_pkt_expire(s->pkt, now_us);
	}
	s->last_tick_us = now_us;
}

void
det_sensor_frame(struct det_sensor *s, int dlt, uint64_t ts_us,
    const uint8_t *p, size_t caplen)
{
	struct det_pkt pkt;
	uint64_t ref = s->clock_us > s->last_tick_us ? s->clock_us :
	    s->last_tick_us;

	/*
	 * One frame far ahead (a bad timestamp) must not expire every flow:
	 * it is taken at the clock's time; a second one near it confirms
	 * the jump (a quiet capture, a new file) and the clock moves.
	 */
	if (ref != 0 && ts_us > ref + JUMP_US) {
		if (s->jump_us != 0 && ts_us >= s->jump_us &&
		    ts_us - s->jump_us <= JUMP_US) {
			/* Confirmed. Expire a tick later: the held frame's
			   connection (taken at the old time) is most likely
			   this one's and gets this time first. */
			s->jump_us = 0;
			s->last_tick_us = ts_us;
		} else {
			s->jump_us = ts_us;
			s->clock_jumps++;
			ts_us = ref;
		}
	} else {
		s->jump_us = 0;
	}
	if (ts_us < ref) {	/* older than the last frame taken */
		s->ts_backwards++;
		ts_us = ref;		/* the clock only moves on */
	}
	if (ts_us > s->clock_us)
		s->clock_us = ts_us;
	det_sensor_tick(s, ts_us);
	if (det_pkt_decode(s->pkt, dlt, ts_us, p, caplen, &pkt) == 1)
		(void)det_flow_packet(s->flows, &pkt);
}

void
det_sensor_finish(struct det_sensor *s)
{
	det_flow_flush(s->flows);
}

void
det_sensor_flush(struct det_sensor *s)
{
	if (s->conf.json != NULL && fflush(s->conf.json) == EOF)
		s->json_errors++;
}

uint64_t
det_sensor_frames(const struct det_sensor *s)
{
	return det_pkt_counters(s->pkt)->frames;
}

uint64_t
det_sensor_txns(const struct det_sensor *s)
{
	return s->txns;
}

/* --- JSON --- */

/*
 * The writer appends pieces (puts, put_u64, json_str): printf was most of
 * the cost of a transaction's line. The date is made once per second.
 */
static void
put_time(struct gb_buf *b, uint64_t us)
{
	static _Thread_local time_t last = -1;
	static _Thread_local char t[32];
	time_t sec = (time_t)(us / 1000000);
	unsigned frac = (unsigned)(us % 1000000), k;
	char f[9];
	struct tm tm;

	if (sec != last) {
		gmtime_r(&sec, &tm);
		strftime(t, sizeof(t), "\"%Y-%m-%dT%H:%M:%S.", &tm);
		last = sec;
	}
	for (k = 6; k-- > 0; frac /= 10)
		f[k] = (char)('0' + frac % 10);
	f[6] = 'Z';
	f[7] = '"';
	f[8] = '\0';
	(void)gb_buf_puts(b, t);
	(void)gb_buf_append(b, f, 8);
}

/* ,"key": */
static void
put_key(struct gb_buf *b, const char *key)
{
	(void)gb_buf_puts(b, ",\"");
	(void)gb_buf_puts(b, key);
	(void)gb_buf_puts(b, "\":");
}

static void
put_str(struct gb_buf *b, const char *key, const char *v)
{
	put_key(b, key);
	(void)gb_buf_putc(b, '"');
	(void)gb_buf_json_str(b, v, strlen(v));
	(void)gb_buf_putc(b, '"');
}

static void
put_num(struct gb_buf *b, const char *key, uint64_t v)
{
	put_key(b, key);
	(void)gb_buf_put_u64(b, v);
}

static void
put_counts(struct gb_buf *b, const char *key, const uint32_t *a,
    const uint32_t *c)
{
	int t, n = 0;

	put_key(b, key);
	(void)gb_buf_putc(b, '{');
	for (t = 0; t < DET_T_COUNT; t++) {
		uint32_t v = a[t] + (c != NULL ? c[t] : 0);

		if (v == 0)
			continue;
		(void)gb_buf_puts(b, n++ ? ",\"" : "\"");
		(void)gb_buf_puts(b, det_type_str((enum det_type)t));
		(void)gb_buf_puts(b, "\":");
		(void)gb_buf_put_u64(b, v);
	}
	(void)gb_buf_putc(b, '}');
}

int
det_sensor_txn_json(struct gb_buf *b, const struct det_sensor_txn *t,
    const char *sensor_id)
{
	const struct det_flow *f = t->flow;
	char a[2][48], fl[128];
	int c = f->client, sv = !f->client;
	unsigned i;
	size_t start = b->len;

	(void)gb_buf_puts(b, "{\"time\":");
	put_time(b, t->ts_resp_us ? t->ts_resp_us : t->ts_req_us);
	if (sensor_id != NULL)
		put_str(b, "sensor", sensor_id);
	det_flow_addr_str(f, c, a[0], sizeof(a[0]));
	det_flow_addr_str(f, sv, a[1], sizeof(a[1]));
	(void)gb_buf_puts(b, ",\"flow\":{\"id\":");
	(void)gb_buf_put_u64(b, f->id);
	(void)gb_buf_puts(b, ",\"proto\":\"tcp\"");
	put_str(b, "src", a[0]);
	put_num(b, "sport", f->key.port[c]);
	put_str(b, "dst", a[1]);
	put_num(b, "dport", f->key.port[sv]);
	(void)gb_buf_putc(b, '}');
	if (t->kind == DET_TXN_RAW) {
		(void)gb_buf_puts(b, ",\"kind\":\"raw\"");
	} else {
		(void)gb_buf_puts(b, ",\"kind\":\"http\"");
		if (t->method[0] != '\0') {
			put_str(b, "method", t->method);
			put_str(b, "host", t->host);
			put_str(b, "path", t->path);
		}
		if (t->status != 0)
			put_num(b, "status", (uint64_t)t->status);
		if (t->has_consumer)
			put_str(b, "consumer", t->consumer);
		if (t->coding[0] != '\0')
			put_str(b, "coding", t->coding);
	}
	put_num(b, "req_bytes", t->req_bytes);
	put_num(b, "resp_bytes", t->resp_bytes);
	put_num(b, "req_body", t->req_body);
	put_num(b, "resp_body", t->resp_body);
	put_num(b, "findings", t->nfindings);
	put_counts(b, "counts", t->req_counts, t->resp_counts);
	put_counts(b, "req_counts", t->req_counts, NULL);
	put_counts(b, "resp_counts", t->resp_counts, NULL);
	(void)gb_buf_puts(b, ",\"samples\":[");
	for (i = 0; i < t->nsamples; i++) {
		(void)gb_buf_puts(b, i ? ",{\"type\":\"" : "{\"type\":\"");
		(void)gb_buf_puts(b, det_type_str(t->samples[i].type));
		(void)gb_buf_puts(b, t->samples[i].in_request ?
		    "\",\"in\":\"request\",\"value\":\"" :
		    "\",\"in\":\"response\",\"value\":\"");
		(void)gb_buf_json_str(b, t->samples[i].masked,
		    strlen(t->samples[i].masked));
		(void)gb_buf_puts(b, "\"}");
	}
	(void)gb_buf_putc(b, ']');
	det_txn_flags_str(t->flags, fl, sizeof(fl));
	put_str(b, "flags", fl);
	if (gb_buf_puts(b, "}\n") == -1) {
		b->len = start;
		return -1;
	}
	return 0;
}

#define J(name, v) (void)gb_buf_printf(out, "%s\"%s\":%llu", \
	n++ ? "," : "", name, (unsigned long long)(v))

int
det_sensor_stats_json(const struct det_sensor *s,
    const struct det_sensor_capstats *cap, struct gb_buf *out)
{
	const struct det_pkt_counters *p = det_pkt_counters(s->pkt);
	const struct det_flow_counters *f = det_flow_counters(s->flows);
	const struct det_tcp_counters *t = det_flow_tcp_counters(s->flows);
	const struct det_http_counters *h = det_http_obs_counters(s->http);
	int n, ty;

	(void)gb_buf_puts(out, "{\"capture\":{");
	n = 0;
	if (cap != NULL && cap->live) {
		J("received", cap->received);
		J("dropped", cap->dropped);
		J("if_dropped", cap->if_dropped);
	}
	J("frames", p->frames);
	J("bytes", p->bytes);
	J("ts_backwards", s->ts_backwards);
	J("clock_jumps", s->clock_jumps);
	(void)gb_buf_puts(out, "},\"decode\":{");
	n = 0;
	J("link_unsupported", p->link_unsupported);
	J("link_bad", p->link_bad);
	J("vlan", p->vlan);
	J("not_ip", p->not_ip);
	J("ipv4", p->ipv4);
	J("ipv6", p->ipv6);
	J("ip_bad", p->ip_bad);
	J("ip_len0", p->ip_len0);
	J("ip6_ext_bad", p->ip6_ext_bad);
	J("not_tcp", p->not_tcp);
	J("tcp", p->tcp);
	J("tcp_bad", p->tcp_bad);
	J("snap_cut", p->snap_cut);
	J("frags", p->frags);
	J("frag_reassembled", p->frag_reassembled);
	J("frag_overlap", p->frag_overlap);
	J("frag_overlap_diff", p->frag_overlap_diff);
	J("frag_discarded", p->frag_discarded);
	J("frag_bad", p->frag_bad);
	J("frag_timeout", p->frag_timeout);
	J("frag_evicted", p->frag_evicted);
	J("frag_mem", det_pkt_frag_mem(s->pkt));
	(void)gb_buf_puts(out, "},\"flow\":{");
	n = 0;
	J("created", f->created);
	J("active", f->active);
	J("peak", f->peak);
	J("ended_close", f->ended_close);
	J("ended_rst", f->ended_rst);
	J("ended_idle", f->ended_idle);
	J("evicted", f->evicted);
	J("ended_shutdown", f->ended_shutdown);
	J("no_flow", f->no_flow);
	J("syn_reuse", f->syn_reuse);
	J("ended_reuse", f->ended_reuse);
	J("rst_ignored", f->rst_ignored);
	J("mem", det_flow_mem(s->flows));
	(void)gb_buf_puts(out, "},\"tcp\":{");
	n = 0;
	J("segments", t->segments);
	J("bytes", t->bytes);
	J("ooo", t->ooo);
	J("retrans", t->retrans);
	J("retrans_bytes", t->retrans_bytes);
	J("overlap", t->overlap);
	J("overlap_diff", t->overlap_diff);
	J("gaps", t->gaps);
	J("gap_bytes", t->gap_bytes);
	J("queue_full", t->queue_full);
	J("memcap_drop", t->memcap_drop);
	J("bogus", t->bogus);
	J("midstream", t->midstream);
	(void)gb_buf_puts(out, "},\"http\":{");
	n = 0;
	J("requests", h->requests);
	J("responses", h->responses);
	J("skipped_1xx", h->skipped_1xx);
	J("txns", h->txns);
	J("txns_with_findings", h->txns_with_findings);
	J("req_parse_errors", h->req_parse_errors);
	J("resp_parse_errors", h->resp_parse_errors);
	J("chunked_errors", h->chunked_errors);
	J("anomalies", h->anomalies);
	J("resyncs", h->resyncs);
	J("resync_skipped", h->resync_skipped);
	J("gaps_body", h->gaps_body);
	J("gaps_lost", h->gaps_lost);
	J("unpaired_responses", h->unpaired_responses);
	J("unanswered", h->unanswered);
	J("queue_overflow", h->queue_overflow);
	J("tunnels", h->tunnels);
	J("h2_preface", h->h2_preface);
	J("truncated", h->truncated);
	J("bodies_scanned", h->bodies_scanned);
	J("body_bytes_scanned", h->body_bytes_scanned);
	J("not_inspected", h->not_inspected);
	J("not_inspected_bytes", h->not_inspected_bytes);
	J("decode_errors", h->decode_errors);
	J("decode_limit_hits", h->decode_limit_hits);
	J("decode_skipped_bytes", h->decode_skipped_bytes);
	J("decoded_escapes", h->decoded_escapes);
	J("decoder_unavailable", h->decoder_unavailable);
	J("head_memcap", h->head_memcap);
	J("head_mem", det_http_obs_mem(s->http));
	J("raw_streams", h->raw_streams);
	J("raw_bytes", h->raw_bytes);
	(void)gb_buf_puts(out, "},\"findings\":{");
	n = 0;
	for (ty = 0; ty < DET_T_COUNT; ty++)
		J(det_type_str((enum det_type)ty), h->findings[ty]);
	(void)gb_buf_puts(out, "},\"output\":{");
	n = 0;
	J("txns", s->txns);
	J("written", s->txns_written);
	J("errors", s->json_errors);
	return gb_buf_puts(out, "}}\n");
}
