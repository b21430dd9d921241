/*
 * det_pkt.c: link layers, IPv4/IPv6, fragment reassembly, TCP header.
 * See det_pkt.h.
 */
#include "detectors/det_pkt.h"

#include <stdlib.h>
#include <string.h>

#define ETH_IPV4	0x0800
#define ETH_IPV6	0x86dd
#define ETH_VLAN	0x8100
#define ETH_QINQ	0x88a8
#define ETH_QINQ_OLD	0x9100
#define MAX_VLAN_TAGS	4
#define IPPROTO_TCP_	6
#define FRAG_MAX	65535u

struct frag {
	bool		 used;
	uint8_t		 family;
	uint8_t		 proto;
	uint8_t		 src[16];
	uint8_t		 dst[16];
	uint32_t	 id;
	uint64_t	 first_us;
	uint8_t		*buf;
	size_t		 cap;
	size_t		 total;		/* known when have_last */
	bool		 have_last;
	size_t		 got;		/* bytes received (disjoint) */
	/* The fragments received, as extents sorted by offset. */
	struct extent {
		uint32_t	 off;
		uint32_t	 end;
	}		*ext;
	size_t		 next;
	size_t		 ext_cap;
};

struct det_pkt_dec {
	struct det_pkt_limits	 lim;
	struct det_pkt_counters	 c;
	struct frag		*frags;
	size_t			 mem;		/* buffers + held */
	uint8_t			*held;		/* last completed datagram */
	size_t			 held_cap;
};

/* Network-layer facts handed from IP to TCP. */
struct ipinfo {
	uint8_t		 family;
	uint8_t		 src[16];
	uint8_t		 dst[16];
	size_t		 wire_len;	/* upper-layer bytes on the wire */
};

void
det_pkt_limits_default(struct det_pkt_limits *lim)
{
	lim->max_datagrams = 256;
	lim->frag_memcap = 8u << 20;
	lim->frag_timeout_us = 30ull * 1000000;
}

int
det_pkt_dec_new(const struct det_pkt_limits *lim, struct det_pkt_dec **out)
{
	struct det_pkt_dec *d;

	*out = NULL;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return -1;
	if (lim != NULL)
		d->lim = *lim;
	else
		det_pkt_limits_default(&d->lim);
	if (d->lim.max_datagrams == 0)
		d->lim.max_datagrams = 1;
	if ((d->frags = calloc(d->lim.max_datagrams, sizeof(*d->frags))) ==
	    NULL) {
		free(d);
		return -1;
	}
	*out = d;
	return 0;
}

static void
frag_drop(struct det_pkt_dec *d, struct frag *f)
{
	d->mem -= f->cap + f->ext_cap * sizeof(*f->ext);
	free(f->buf);
	free(f->ext);
	memset(f, 0, sizeof(*f));
}

void
det_pkt_dec_free(struct det_pkt_dec *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->lim.max_datagrams; i++)
		if (d->frags[i].used)
			frag_drop(d, &d->frags[i]);
	free(d->frags);
	free(d->held);
	free(d);
}

const struct det_pkt_counters *
det_pkt_counters(const struct det_pkt_dec *d)
{
	return &d->c;
}

size_t
det_pkt_frag_mem(const struct det_pkt_dec *d)
{
	return d->mem;
}

const char *
det_pkt_dlt_str(int dlt)
{
	switch (dlt) {
	case DET_DLT_NULL:	return "null";
	case DET_DLT_EN10MB:	return "ethernet";
	case DET_DLT_RAW:
	case DET_DLT_RAW_OBSD:
	case DET_DLT_RAW_LINUX:	return "raw";
	case DET_DLT_LOOP:	return "loop";
	case DET_DLT_LINUX_SLL:	return "linux-sll";
	case DET_DLT_IPV4:	return "ipv4";
	case DET_DLT_IPV6:	return "ipv6";
	case DET_DLT_LINUX_SLL2: return "linux-sll2";
	default:		return NULL;
	}
}

void
det_pkt_expire(struct det_pkt_dec *d, uint64_t now_us)
{
	size_t i;

	for (i = 0; i < d->lim.max_datagrams; i++) {
		struct frag *f = &d->frags[i];

		if (f->used && now_us > f->first_us &&
		    now_us - f->first_us > d->lim.frag_timeout_us) {
			frag_drop(d, f);
			d->c.frag_timeout++;
		}
	}
}

static struct frag *
frag_find(struct det_pkt_dec *d, const struct ipinfo *ip, uint8_t proto,
    uint32_t id, uint64_t now_us)
{
	struct frag *f, *free_slot = NULL, *oldest = NULL;
	size_t i;

	for (i = 0; i < d->lim.max_datagrams; i++) {
		f = &d->frags[i];
		if (!f->used) {
			if (free_slot == NULL)
				free_slot = f;
			continue;
		}
		if (f->family == ip->family && f->proto == proto &&
		    f->id == id && memcmp(f->src, ip->src, 16) == 0 &&
		    memcmp(f->dst, ip->dst, 16) == 0)
			return f;
		if (oldest == NULL || f->first_us < oldest->first_us)
			oldest = f;
	}
	if (free_slot == NULL) {
		frag_drop(d, oldest);
		d->c.frag_evicted++;
		free_slot = oldest;
	}
	f = free_slot;
	f->used = true;
	f->family = ip->family;
	f->proto = proto;
	f->id = id;
	memcpy(f->src, ip->src, 16);
	memcpy(f->dst, ip->dst, 16);
	f->first_us = now_us;
	return f;
}

/* Evict the oldest datagrams other than keep until need more bytes fit. */
static int
frag_make_room(struct det_pkt_dec *d, struct frag *keep, size_t need)
{
	while (d->mem + need > d->lim.frag_memcap) {
		struct frag *oldest = NULL;
		size_t i;

		for (i = 0; i < d->lim.max_datagrams; i++) {
			struct frag *f = &d->frags[i];

			if (f->used && f != keep && f->cap > 0 &&
			    (oldest == NULL || f->first_us < oldest->first_us))
				oldest = f;
		}
		if (oldest == NULL)
			return -1;
		frag_drop(d, oldest);
		d->c.frag_evicted++;
	}
	return 0;
}

/* Extents of f that [off, end) overlaps: [*lo, *hi). */
static void
ext_range(const struct frag *f, size_t off, size_t end, size_t *lo,
    size_t *hi)
{
	size_t a = 0, b = f->next, m;

	/* The first extent that ends after off. */
	while (a < b) {
		m = a + (b - a) / 2;
		if (f->ext[m].end <= off)
			a = m + 1;
		else
			b = m;
	}
	*lo = a;
	for (b = a; b < f->next && f->ext[b].off < end; b++)
		;
	*hi = b;
}

static int
ext_insert(struct det_pkt_dec *d, struct frag *f, size_t at, size_t off,
    size_t end)
{
	if (f->next == f->ext_cap) {
		size_t ncap = f->ext_cap == 0 ? 8 : f->ext_cap * 2;
		struct extent *ne;

		if (frag_make_room(d, f, (ncap - f->ext_cap) *
		    sizeof(*ne)) == -1 ||
		    (ne = realloc(f->ext, ncap * sizeof(*ne))) == NULL)
			return -1;
		d->mem += (ncap - f->ext_cap) * sizeof(*ne);
		f->ext = ne;
		f->ext_cap = ncap;
	}
	memmove(f->ext + at + 1, f->ext + at, (f->next - at) *
	    sizeof(*f->ext));
	f->ext[at].off = (uint32_t)off;
	f->ext[at].end = (uint32_t)end;
	f->next++;
	return 0;
}

/*
 * Add fragment p[0..n) at byte offset off (more: not the last one).
 * Returns 1 with *dgram, *dlen set when the datagram is complete (the bytes
 * are held by the decoder until the next call), 0 when held, -1 when
 * dropped (counted).
 *
 * Overlaps follow the receiver (Linux's inet_frag_queue_insert(), and RFC
 * 5722 for IPv6): a fragment that lies inside one received earlier is a
 * duplicate and dropped (the first copy stays); any other overlap
 * discards the whole datagram, so that bytes the host never accepted are
 * never scanned in place of the ones TCP sends again.
 */
static int
frag_add(struct det_pkt_dec *d, const struct ipinfo *ip, uint8_t proto,
    uint32_t id, size_t off, bool more, const uint8_t *p, size_t n,
    uint64_t now_us, const uint8_t **dgram, size_t *dlen)
{
	struct frag *f;
	size_t end = off + n, b, lo, hi;

	d->c.frags++;
	if (end > FRAG_MAX || (more && (n == 0 || n % 8 != 0))) {
		d->c.frag_bad++;
		return -1;
	}
	f = frag_find(d, ip, proto, id, now_us);
	if ((f->have_last && end > f->total) ||
	    (!more && f->have_last && end != f->total)) {
		d->c.frag_bad++;
		return -1;
	}
	if (!more && !f->have_last && f->next > 0 &&
	    f->ext[f->next - 1].end > end) {
		d->c.frag_bad++;	/* something lies beyond the end */
		return -1;
	}
	ext_range(f, off, end, &lo, &hi);
	if (hi > lo) {
		d->c.frag_overlap++;
		if (hi - lo == 1 && f->ext[lo].off <= off &&
		    end <= f->ext[lo].end) {
			/* A duplicate: the first copy stays. */
			if (memcmp(f->buf + off, p, n) != 0)
				d->c.frag_overlap_diff++;
			return -1;
		}
		for (b = lo; b < hi; b++) {
			size_t a = f->ext[b].off > off ? f->ext[b].off : off;
			size_t z = f->ext[b].end < end ? f->ext[b].end : end;

			if (memcmp(f->buf + a, p + (a - off), z - a) != 0) {
				d->c.frag_overlap_diff++;
				break;
			}
		}
		d->c.frag_discarded++;
		frag_drop(d, f);
		return -1;
	}
	if (end > f->cap) {
		size_t ncap = end < 2048 ? 2048 : (end + 4095) & ~(size_t)4095;
		uint8_t *nb;

		if (ncap > FRAG_MAX + 1)
			ncap = FRAG_MAX + 1;
		if (frag_make_room(d, f, ncap - f->cap) == -1 ||
		    (nb = realloc(f->buf, ncap)) == NULL) {
			d->c.frag_evicted++;
			frag_drop(d, f);
			return -1;
		}
		d->mem += ncap - f->cap;
		f->buf = nb;
		f->cap = ncap;
	}
	if (n > 0 && ext_insert(d, f, lo, off, end) == -1) {
		d->c.frag_evicted++;
		frag_drop(d, f);
		return -1;
	}
	if (!more) {
		f->have_last = true;
		f->total = end;
	}
	memcpy(f->buf + off, p, n);
	f->got += n;		/* the extents are disjoint */
	if (!f->have_last || f->got != f->total)
		return 0;
	/* Complete: hand the buffer over as the held datagram. */
	free(d->held);
	d->mem -= d->held_cap;
	d->held = f->buf;
	d->held_cap = f->cap;
	*dgram = f->buf;
	*dlen = f->total;
	f->buf = NULL;
	f->cap = 0;
	frag_drop(d, f);
	d->c.frag_reassembled++;
	return 1;
}

/* The window scale option (RFC 7323) in options p[0..n), or -1. */
static int8_t
tcp_wscale(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		if (p[i] == 0)			/* end of options */
			break;
		if (p[i] == 1) {		/* no-op */
			i++;
			continue;
		}
		if (i + 1 >= n || p[i + 1] < 2 || i + p[i + 1] > n)
			break;
		if (p[i] == 3 && p[i + 1] == 3)
			return (int8_t)(p[i + 2] > 14 ? 14 : p[i + 2]);
		i += p[i + 1];
	}
	return -1;
}

static int
decode_tcp(struct det_pkt_dec *d, const struct ipinfo *ip, const uint8_t *p,
    size_t n, struct det_pkt *out)
{
	struct det_rd c = { p, n };
	uint16_t off_flags;
	size_t hlen;

	memset(out, 0, sizeof(*out));
	/* A header cut by the snap length (the IP length says more): cut. */
	if (n < 20 && ip->wire_len >= 20) {
		d->c.snap_cut++;
		return 0;
	}
	if (det_rd_be16(&c, &out->sport) == -1 ||
	    det_rd_be16(&c, &out->dport) == -1 ||
	    det_rd_be32(&c, &out->seq) == -1 ||
	    det_rd_be32(&c, &out->ack) == -1 ||
	    det_rd_be16(&c, &off_flags) == -1) {
		d->c.tcp_bad++;
		return 0;
	}
	hlen = (size_t)(off_flags >> 12) * 4;
	if (hlen >= 20 && hlen > n && hlen <= ip->wire_len) {
		d->c.snap_cut++;
		return 0;
	}
	if (hlen < 20 || hlen > n) {
		d->c.tcp_bad++;
		return 0;
	}
	out->tcp_flags = (uint8_t)(off_flags & 0x3f);
	out->wscale = -1;
	if (det_rd_be16(&c, &out->win) == -1) {
		d->c.tcp_bad++;
		return 0;
	}
	if ((out->tcp_flags & DET_TCP_SYN) != 0)
		out->wscale = tcp_wscale(p + 20, hlen - 20);
	out->family = ip->family;
	memcpy(out->src, ip->src, 16);
	memcpy(out->dst, ip->dst, 16);
	out->payload = p + hlen;
	out->plen = n - hlen;
	out->wire_plen = ip->wire_len > hlen ? ip->wire_len - hlen : 0;
	if (out->wire_plen < out->plen)
		out->wire_plen = out->plen;
	if (out->wire_plen > out->plen)
		d->c.snap_cut++;
	d->c.tcp++;
	return 1;
}

static int
decode_ipv4(struct det_pkt_dec *d, const uint8_t *p, size_t n, uint64_t ts,
    struct det_pkt *out)
{
	struct det_rd c = { p, n };
	struct ipinfo ip;
	uint8_t vihl, tos, ttl, proto;
	uint16_t tot16, id, frag, sum;
	size_t tot, hlen, avail, off;
	const uint8_t *dg;
	size_t dlen;
	int r;

	d->c.ipv4++;
	memset(&ip, 0, sizeof(ip));
	if (det_rd_u8(&c, &vihl) == -1 || det_rd_u8(&c, &tos) == -1 ||
	    det_rd_be16(&c, &tot16) == -1 || det_rd_be16(&c, &id) == -1 ||
	    det_rd_be16(&c, &frag) == -1 || det_rd_u8(&c, &ttl) == -1 ||
	    det_rd_u8(&c, &proto) == -1 || det_rd_be16(&c, &sum) == -1 ||
	    det_rd_copy(&c, ip.src, 4) == -1 ||
	    det_rd_copy(&c, ip.dst, 4) == -1) {
		d->c.ip_bad++;
		return 0;
	}
	(void)tos;
	(void)ttl;
	(void)sum;
	hlen = (size_t)(vihl & 0x0f) * 4;
	tot = tot16;
	/*
	 * A total length of 0: a segmentation-offload packet captured on the
	 * sending host before the NIC cut it (more than 64 KiB); its length
	 * is what was captured.
	 */
	if (tot == 0 && hlen >= 20 && n > hlen && (frag & 0x3fff) == 0) {
		d->c.ip_len0++;
		tot = n;
	}
	if ((vihl >> 4) != 4 || hlen < 20 || tot < hlen || hlen > n) {
		d->c.ip_bad++;
		return 0;
	}
	ip.family = 4;
	ip.wire_len = tot - hlen;
	avail = n < tot ? n : tot;	/* trailing bytes: link padding */
	if (proto != IPPROTO_TCP_) {
		d->c.not_tcp++;
		return 0;
	}
	off = (size_t)(frag & 0x1fff) * 8;
	if ((frag & 0x2000) != 0 || off != 0) {
		if (avail < tot) {	/* a cut fragment cannot be rebuilt */
			d->c.frags++;
			d->c.frag_bad++;
			return 0;
		}
		r = frag_add(d, &ip, proto, id, off, (frag & 0x2000) != 0,
		    p + hlen, tot - hlen, ts, &dg, &dlen);
		if (r != 1)
			return 0;
		ip.wire_len = dlen;
		r = decode_tcp(d, &ip, dg, dlen, out);
		out->reassembled = true;
		return r;
	}
	return decode_tcp(d, &ip, p + hlen, avail - hlen, out);
}

static int
decode_ipv6(struct det_pkt_dec *d, const uint8_t *p, size_t n, uint64_t ts,
    struct det_pkt *out)
{
	struct det_rd c = { p, n };
	struct ipinfo ip;
	uint32_t vtf, id;
	uint16_t plen, fo;
	uint8_t nh, hop, len8, res;
	size_t avail, used;
	const uint8_t *dg;
	size_t dlen;
	int r;

	d->c.ipv6++;
	memset(&ip, 0, sizeof(ip));
	if (det_rd_be32(&c, &vtf) == -1 || det_rd_be16(&c, &plen) == -1 ||
	    det_rd_u8(&c, &nh) == -1 || det_rd_u8(&c, &hop) == -1 ||
	    det_rd_copy(&c, ip.src, 16) == -1 ||
	    det_rd_copy(&c, ip.dst, 16) == -1 || (vtf >> 28) != 6 ||
	    plen == 0) {
		d->c.ip_bad++;
		return 0;
	}
	ip.family = 6;
	avail = c.n < plen ? c.n : plen;
	c.n = avail;
	used = 0;	/* extension header bytes */
	while (nh != IPPROTO_TCP_) {
		struct det_rd h = c;

		switch (nh) {
		case 0:		/* hop-by-hop */
		case 43:	/* routing */
		case 60:	/* destination options */
			if (det_rd_u8(&h, &nh) == -1 ||
			    det_rd_u8(&h, &len8) == -1 ||
			    det_rd_skip(&c, ((size_t)len8 + 1) * 8) == -1) {
				d->c.ip6_ext_bad++;
				return 0;
			}
			used += ((size_t)len8 + 1) * 8;
			break;
		case 51:	/* AH */
			if (det_rd_u8(&h, &nh) == -1 ||
			    det_rd_u8(&h, &len8) == -1 ||
			    det_rd_skip(&c, ((size_t)len8 + 2) * 4) == -1) {
				d->c.ip6_ext_bad++;
				return 0;
			}
			used += ((size_t)len8 + 2) * 4;
			break;
		case 44:	/* fragment */
			if (det_rd_u8(&c, &nh) == -1 ||
			    det_rd_u8(&c, &res) == -1 ||
			    det_rd_be16(&c, &fo) == -1 ||
			    det_rd_be32(&c, &id) == -1) {
				d->c.ip6_ext_bad++;
				return 0;
			}
			(void)res;
			used += 8;
			if ((fo & 0xfff8) == 0 && (fo & 1) == 0)
				break;	/* atomic fragment */
			/* TCP, or options for the destination before it. */
			if (nh != IPPROTO_TCP_ && nh != 60) {
				d->c.not_tcp++;
				return 0;
			}
			if (avail < plen) {
				d->c.frags++;
				d->c.frag_bad++;
				return 0;
			}
			r = frag_add(d, &ip, nh, id, fo & 0xfff8,
			    (fo & 1) != 0, c.p, c.n, ts, &dg, &dlen);
			if (r != 1)
				return 0;
			/* Destination options in the reassembled part. */
			while (nh == 60) {
				size_t hl;

				if (dlen < 8 || (hl = ((size_t)dg[1] + 1) * 8) >
				    dlen) {
					d->c.ip6_ext_bad++;
					return 0;
				}
				nh = dg[0];
				dg += hl;
				dlen -= hl;
			}
			if (nh != IPPROTO_TCP_) {
				d->c.not_tcp++;
				return 0;
			}
			ip.wire_len = dlen;
			r = decode_tcp(d, &ip, dg, dlen, out);
			out->reassembled = true;
			return r;
		case 59:	/* no next header */
		default:	/* UDP, ICMPv6, ESP, ... */
			d->c.not_tcp++;
			return 0;
		}
	}
	ip.wire_len = plen > used ? plen - used : 0;
	return decode_tcp(d, &ip, c.p, c.n, out);
}

static int
decode_ethertype(struct det_pkt_dec *d, struct det_rd *c, uint16_t et,
    uint64_t ts, struct det_pkt *out)
{
	unsigned tags = 0;
	uint16_t tci;

	while (et == ETH_VLAN || et == ETH_QINQ || et == ETH_QINQ_OLD) {
		if (++tags > MAX_VLAN_TAGS || det_rd_be16(c, &tci) == -1 ||
		    det_rd_be16(c, &et) == -1) {
			d->c.link_bad++;
			return 0;
		}
		(void)tci;
	}
	if (tags > 0)
		d->c.vlan++;
	if (et == ETH_IPV4)
		return decode_ipv4(d, c->p, c->n, ts, out);
	if (et == ETH_IPV6)
		return decode_ipv6(d, c->p, c->n, ts, out);
	d->c.not_ip++;
	return 0;
}

static int
decode_ipver(struct det_pkt_dec *d, const uint8_t *p, size_t n, uint64_t ts,
    struct det_pkt *out)
{
	if (n < 1) {
		d->c.link_bad++;
		return 0;
	}
	if ((p[0] >> 4) == 4)
		return decode_ipv4(d, p, n, ts, out);
	if ((p[0] >> 4) == 6)
		return decode_ipv6(d, p, n, ts, out);
	d->c.not_ip++;
	return 0;
}

/* BSD address families seen in DLT_NULL / DLT_LOOP headers. */
static int
decode_af(struct det_pkt_dec *d, uint32_t af, struct det_rd *c, uint64_t ts,
    struct det_pkt *out)
{
	switch (af) {
	case 2:
		return decode_ipv4(d, c->p, c->n, ts, out);
	case 10:	/* Linux */
	case 24:	/* NetBSD, OpenBSD */
	case 28:	/* FreeBSD */
	case 30:	/* macOS */
		return decode_ipv6(d, c->p, c->n, ts, out);
	default:
		d->c.not_ip++;
		return 0;
	}
}

int
det_pkt_decode(struct det_pkt_dec *d, int dlt, uint64_t ts_us,
    const uint8_t *frame, size_t caplen, struct det_pkt *out)
{
	struct det_rd c = { frame, caplen };
	uint16_t et;
	uint32_t af;
	int r;

	d->c.frames++;
	d->c.bytes += caplen;
	switch (dlt) {
	case DET_DLT_EN10MB:
		if (det_rd_skip(&c, 12) == -1 || det_rd_be16(&c, &et) == -1) {
			d->c.link_bad++;
			return 0;
		}
		if (et < 0x0600) {	/* 802.3 length: LLC, not IP */
			d->c.not_ip++;
			return 0;
		}
		r = decode_ethertype(d, &c, et, ts_us, out);
		break;
	case DET_DLT_LINUX_SLL:
		if (det_rd_skip(&c, 14) == -1 || det_rd_be16(&c, &et) == -1) {
			d->c.link_bad++;
			return 0;
		}
		r = decode_ethertype(d, &c, et, ts_us, out);
		break;
	case DET_DLT_LINUX_SLL2:
		if (det_rd_be16(&c, &et) == -1 || det_rd_skip(&c, 18) == -1) {
			d->c.link_bad++;
			return 0;
		}
		r = decode_ethertype(d, &c, et, ts_us, out);
		break;
	case DET_DLT_NULL:
		/* Host byte order of the capturing machine: try both. */
		if (det_rd_le32(&c, &af) == -1) {
			d->c.link_bad++;
			return 0;
		}
		if (af > 0xffff)
			af = (af >> 24) | ((af >> 8) & 0xff00);
		r = decode_af(d, af, &c, ts_us, out);
		break;
	case DET_DLT_LOOP:
		if (det_rd_be32(&c, &af) == -1) {
			d->c.link_bad++;
			return 0;
		}
		r = decode_af(d, af, &c, ts_us, out);
		break;
	case DET_DLT_RAW:
	case DET_DLT_RAW_OBSD:
	case DET_DLT_RAW_LINUX:
		r = decode_ipver(d, c.p, c.n, ts_us, out);
		break;
	case DET_DLT_IPV4:
		r = decode_ipv4(d, c.p, c.n, ts_us, out);
		break;
	case DET_DLT_IPV6:
		r = decode_ipv6(d, c.p, c.n, ts_us, out);
		break;
	default:
		d->c.link_unsupported++;
		return 0;
	}
	if (r == 1)
		out->ts_us = ts_us;
	return r;
}
