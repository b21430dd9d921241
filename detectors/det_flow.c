/*
 * det_flow.c: flow table, SipHash-2-4 keyed lookup, LRU eviction and
 * timeouts. See det_flow.h.
 */
#include "detectors/det_flow.h"

#include "detectors/det_count.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#define CLOSING_TIMEOUT_US	(30ull * 1000000)

struct det_flow_table {
	struct det_flow_limits	 lim;
	struct det_flow_app	 app;
	struct det_flow_counters c;
	struct det_tcp_ctx	 tcp;
	struct det_flow		**bucket;
	size_t			 nbuckets;	/* power of two */
	struct det_flow		*lru_head;	/* most recently active */
	struct det_flow		*lru_tail;
	/* The flow of the last packet, or NULL: the next packet is most
	   often of the same one, found without hashing its key. */
	struct det_flow		*last;
	uint64_t		 next_id;
	uint8_t			 hkey[DET_COUNT_KEY_LEN];	/* SipHash key */
};

void
det_flow_limits_default(struct det_flow_limits *lim)
{
	lim->max_flows = 262144;
	lim->memcap = 512u << 20;
	lim->max_queued = 1u << 20;
	lim->idle_timeout_us = 120ull * 1000000;
}

const char *
det_flow_end_str(enum det_flow_end why)
{
	switch (why) {
	case DET_FLOW_END_CLOSE:	return "close";
	case DET_FLOW_END_RST:		return "rst";
	case DET_FLOW_END_IDLE:		return "idle";
	case DET_FLOW_END_EVICT:	return "evict";
	case DET_FLOW_END_SHUTDOWN:	return "shutdown";
	case DET_FLOW_END_REUSE:	return "reuse";
	}
	return "?";
}

/* SipHash-2-4 (Aumasson, Bernstein), written from the paper. */
int
det_flow_table_new(const struct det_flow_limits *lim,
    const struct det_flow_app *app, struct det_flow_table **out)
{
	struct det_flow_table *t;
	size_t nb = 1024;

	*out = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -1;
	if (lim != NULL)
		t->lim = *lim;
	else
		det_flow_limits_default(&t->lim);
	if (t->lim.max_flows == 0)
		t->lim.max_flows = 1;
	t->app = *app;
	while (nb < t->lim.max_flows && nb < (1u << 22))
		nb <<= 1;
	if ((t->bucket = calloc(nb, sizeof(*t->bucket))) == NULL) {
		free(t);
		return -1;
	}
	t->nbuckets = nb;
	if (det_count_key_random(t->hkey) == -1) {
		free(t->bucket);
		free(t);
		return -1;
	}
	det_tcp_ctx_init(&t->tcp, t->lim.max_queued, t->lim.memcap);
	*out = t;
	return 0;
}

const struct det_flow_counters *
det_flow_counters(const struct det_flow_table *t)
{
	return &t->c;
}

const struct det_tcp_counters *
det_flow_tcp_counters(const struct det_flow_table *t)
{
	return &t->tcp.c;
}

size_t
det_flow_mem(const struct det_flow_table *t)
{
	return (size_t)t->c.active * sizeof(struct det_flow) + t->tcp.mem;
}

const char *
det_flow_addr_str(const struct det_flow *f, int i, char *buf, size_t len)
{
	if (inet_ntop(f->key.family == 4 ? AF_INET : AF_INET6,
	    f->key.addr[i], buf, (socklen_t)len) == NULL && len > 0)
		buf[0] = '\0';
	return buf;
}

static size_t
key_hash(const struct det_flow_table *t, const struct det_flow_key *k)
{
	return (size_t)det_siphash24(t->hkey, k, sizeof(*k)) &
	    (t->nbuckets - 1);
}

static void
lru_unlink(struct det_flow_table *t, struct det_flow *f)
{
	if (f->lprev != NULL)
		f->lprev->lnext = f->lnext;
	else
		t->lru_head = f->lnext;
	if (f->lnext != NULL)
		f->lnext->lprev = f->lprev;
	else
		t->lru_tail = f->lprev;
	f->lprev = f->lnext = NULL;
}

static void
lru_push(struct det_flow_table *t, struct det_flow *f)
{
	f->lprev = NULL;
	f->lnext = t->lru_head;
	if (t->lru_head != NULL)
		t->lru_head->lprev = f;
	t->lru_head = f;
	if (t->lru_tail == NULL)
		t->lru_tail = f;
}

/* Context for det_tcp's callback: which flow and endpoint. */
struct half_arg {
	struct det_flow_table	*t;
	struct det_flow		*f;
	int			 from;
};

static void
on_data(void *arg, uint64_t off, const uint8_t *p, size_t n)
{
	struct half_arg *ha = arg;

	ha->t->app.data(ha->t->app.ctx, ha->f, ha->from, off, p, n);
}

static void
notify_fin(struct det_flow_table *t, struct det_flow *f, int i)
{
	if (f->half[i].closed && !f->closed_seen[i]) {
		f->closed_seen[i] = true;
		t->app.fin(t->app.ctx, f, i);
	}
}

static void
flow_end(struct det_flow_table *t, struct det_flow *f, enum det_flow_end why)
{
	struct det_flow **pp;
	struct half_arg ha = { t, f, 0 };
	int i;

	for (i = 0; i < 2; i++) {
		ha.from = i;
		det_tcp_half_flush(&t->tcp, &f->half[i], on_data, &ha);
		notify_fin(t, f, i);
	}
	t->app.end(t->app.ctx, f, why);
	for (i = 0; i < 2; i++)
		det_tcp_half_free(&t->tcp, &f->half[i]);
	for (pp = &t->bucket[key_hash(t, &f->key)]; *pp != NULL;
	    pp = &(*pp)->hnext)
		if (*pp == f) {
			*pp = f->hnext;
			break;
		}
	lru_unlink(t, f);
	if (t->last == f)
		t->last = NULL;
	t->c.active--;
	switch (why) {
	case DET_FLOW_END_CLOSE:	t->c.ended_close++; break;
	case DET_FLOW_END_RST:		t->c.ended_rst++; break;
	case DET_FLOW_END_IDLE:		t->c.ended_idle++; break;
	case DET_FLOW_END_EVICT:	t->c.evicted++; break;
	case DET_FLOW_END_SHUTDOWN:	t->c.ended_shutdown++; break;
	case DET_FLOW_END_REUSE:	t->c.ended_reuse++; break;
	}
	free(f);
}

void
det_flow_table_free(struct det_flow_table *t)
{
	if (t == NULL)
		return;
	det_flow_flush(t);
	free(t->bucket);
	free(t);
}

void
det_flow_flush(struct det_flow_table *t)
{
	while (t->lru_tail != NULL)
		flow_end(t, t->lru_tail, DET_FLOW_END_SHUTDOWN);
}

void
det_flow_expire(struct det_flow_table *t, uint64_t now_us)
{
	struct det_flow *f, *prev;

	for (f = t->lru_tail; f != NULL; f = prev) {
		uint64_t idle = now_us > f->last_us ? now_us - f->last_us : 0;
		bool closing = f->half[0].fin || f->half[1].fin;

		prev = f->lprev;
		if (idle > t->lim.idle_timeout_us ||
		    (closing && idle > CLOSING_TIMEOUT_US))
			flow_end(t, f, DET_FLOW_END_IDLE);
		else if (idle <= CLOSING_TIMEOUT_US)
			break;	/* every newer flow is less idle */
	}
}

/* Key with the lower (address, port) endpoint first; *from is pkt's src. */
static void
make_key(const struct det_pkt *pkt, struct det_flow_key *k, int *from)
{
	int c;

	memset(k, 0, sizeof(*k));
	k->family = pkt->family;
	c = memcmp(pkt->src, pkt->dst, 16);
	if (c == 0)
		c = pkt->sport < pkt->dport ? -1 : pkt->sport > pkt->dport;
	*from = c <= 0 ? 0 : 1;
	memcpy(k->addr[*from], pkt->src, 16);
	memcpy(k->addr[!*from], pkt->dst, 16);
	k->port[*from] = pkt->sport;
	k->port[!*from] = pkt->dport;
}

/*
 * The window endpoint i last advertised, in bytes: scaled when both SYNs
 * carried the option, assumed scaled by 7 (Linux's default) when the
 * handshake was not seen; 65535 << 7 before i advertised one.
 */
static uint32_t
rcv_window(const struct det_flow *f, int i)
{
	unsigned scale = 7;

	if (f->syn_seen[0] && f->syn_seen[1])
		scale = f->wscale[0] >= 0 && f->wscale[1] >= 0 ?
		    (unsigned)f->wscale[i] : 0;
	if (!f->win_seen[i])
		return 65535u << 7;
	return (uint32_t)f->win[i] << scale;
}

/* seq lies in [next expected from the sender, + the receiver's window]. */
static bool
in_window(const struct det_flow *f, int from, uint32_t seq)
{
	const struct det_tcp_half *h = &f->half[from];
	int32_t delta;

	if (!h->started)
		return true;	/* nothing to check against */
	delta = (int32_t)(seq - h->next_seq);
	return delta >= 0 && (uint32_t)delta <= rcv_window(f, !from);
}

/*
 * An RST from endpoint from with sequence number seq resets the connection
 * (RFC 5961 3.2, as Linux applies it): seq is exactly the next byte
 * expected from the sender, or the next after the highest byte seen past
 * a hole (Linux takes the end of its highest SACK block), or either one
 * plus one after the sender's FIN. An RST elsewhere in the window only
 * gets a challenge ACK from the receiver, and the connection goes on.
 */
static bool
rst_resets(const struct det_flow *f, int from, uint32_t seq)
{
	const struct det_tcp_half *h = &f->half[from];
	uint32_t top;

	if (!h->started)
		return true;	/* nothing to check against */
	if (seq == h->next_seq || (h->fin && seq == h->next_seq + 1))
		return true;
	if (h->seen_end <= h->next_off)
		return false;
	top = h->next_seq + (uint32_t)(h->seen_end - h->next_off);
	return seq == top || (h->fin && seq == top + 1);
}

/*
 * A SYN without ACK with sequence number isn from endpoint from of the
 * live flow f opens a new connection: another ISN, and the old one was
 * closing or isn is outside its window.
 */
static bool
syn_new_conn(const struct det_flow *f, int from, uint32_t isn)
{
	const struct det_tcp_half *h = &f->half[from];

	if (!h->started || (h->syn && h->isn == isn))
		return false;		/* first SYN, or a retransmission */
	if (f->half[0].fin || f->half[1].fin)
		return true;
	return !in_window(f, from, isn + 1);
}

int
det_flow_packet(struct det_flow_table *t, const struct det_pkt *pkt)
{
	struct det_flow_key k;
	struct det_flow *f;
	struct half_arg ha;
	size_t h;
	int from, to;
	bool syn = (pkt->tcp_flags & DET_TCP_SYN) != 0;
	bool ack = (pkt->tcp_flags & DET_TCP_ACK) != 0;
	bool rst = (pkt->tcp_flags & DET_TCP_RST) != 0;
	bool fin = (pkt->tcp_flags & DET_TCP_FIN) != 0;

	make_key(pkt, &k, &from);
	to = !from;
	if ((f = t->last) == NULL || memcmp(&f->key, &k, sizeof(k)) != 0) {
		h = key_hash(t, &k);
		for (f = t->bucket[h]; f != NULL; f = f->hnext)
			if (memcmp(&f->key, &k, sizeof(k)) == 0)
				break;
	}
	if (f != NULL && rst && !rst_resets(f, from, pkt->seq)) {
		t->c.rst_ignored++;	/* spoofed, challenged, or old */
		return -1;
	}
	if (f != NULL && syn && !ack && syn_new_conn(f, from, pkt->seq)) {
		t->c.syn_reuse++;
		flow_end(t, f, DET_FLOW_END_REUSE);
		f = NULL;
	}
	if (f == NULL) {
		if (rst || (!syn && !fin && pkt->wire_plen == 0)) {
			t->c.no_flow++;
			return -1;
		}
		while (t->lru_tail != NULL &&
		    (t->c.active >= t->lim.max_flows ||
		    det_flow_mem(t) + sizeof(*f) > t->lim.memcap))
			flow_end(t, t->lru_tail, DET_FLOW_END_EVICT);
		if ((f = calloc(1, sizeof(*f))) == NULL) {
			t->c.evicted++;
			return -1;
		}
		h = key_hash(t, &k);
		f->key = k;
		f->id = ++t->next_id;
		f->first_us = pkt->ts_us;
		/* A guess until SYN or HTTP: the lower port listens. */
		f->client = (uint8_t)(pkt->sport < pkt->dport ? to : from);
		f->hnext = t->bucket[h];
		t->bucket[h] = f;
		t->c.created++;
		if (++t->c.active > t->c.peak)
			t->c.peak = t->c.active;
		lru_push(t, f);
	} else if (f != t->lru_head) {
		lru_unlink(t, f);
		lru_push(t, f);
	}
	t->last = f;
	f->last_us = pkt->ts_us;
	f->pkts[from]++;
	f->bytes[from] += pkt->wire_plen;

	if (syn) {
		f->syn_seen[from] = true;
		f->wscale[from] = pkt->wscale;
	} else {
		f->win_seen[from] = true;
		f->win[from] = pkt->win;
	}
	if (syn) {
		if (!ack) {
			f->client = (uint8_t)from;
			f->client_known = true;
		} else if (!f->client_known) {
			f->client = (uint8_t)to;
			f->client_known = true;
		}
		if (f->half[from].started && f->half[from].syn &&
		    f->half[from].isn != pkt->seq)
			t->c.syn_reuse++;	/* in the window: ignored */
		det_tcp_half_syn(&f->half[from], pkt->seq);
	}
	ha.t = t;
	ha.f = f;
	ha.from = from;
	if (!syn && (pkt->wire_plen > 0 || fin))
		(void)det_tcp_half_segment(&t->tcp, &f->half[from], pkt->seq,
		    pkt->payload, pkt->plen, pkt->wire_plen, fin, on_data, &ha);
	else if (syn && pkt->wire_plen > 0)	/* data on a SYN: after it */
		(void)det_tcp_half_segment(&t->tcp, &f->half[from],
		    pkt->seq + 1, pkt->payload, pkt->plen, pkt->wire_plen, fin,
		    on_data, &ha);
	notify_fin(t, f, from);
	if (ack && !rst) {
		ha.from = to;
		det_tcp_half_ack(&t->tcp, &f->half[to], pkt->ack, on_data,
		    &ha);
		notify_fin(t, f, to);
	}
	if (rst)
		flow_end(t, f, DET_FLOW_END_RST);
	else if (f->half[0].closed && f->half[1].closed)
		flow_end(t, f, DET_FLOW_END_CLOSE);
	return 0;
}
