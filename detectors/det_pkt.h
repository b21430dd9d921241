/*
 * det_pkt: the sensor's link and network layers. One captured frame in,
 * at most one TCP segment out, with every byte read through a bounds-checked
 * cursor (det_rd_*), never by casting to a struct (tcpdump, Suricata).
 *
 *   link     DLT_EN10MB (with 802.1Q / 802.1ad VLAN tags, QinQ included),
 *            DLT_LINUX_SLL and DLT_LINUX_SLL2 ("-i any"), DLT_NULL and
 *            DLT_LOOP (BSD loopback), DLT_RAW / IPV4 / IPV6
 *   network  IPv4 (options skipped; fragments reassembled) and IPv6
 *            (extension headers walked, fragments reassembled)
 *   TCP      header and options skipped; the payload is a slice of the
 *            frame, or of the reassembled datagram
 *
 * Fragment reassembly is bounded: at most max_datagrams in progress, each
 * at most 65535 bytes, a total memory cap, and a timeout. Overlapping
 * fragments keep the bytes that arrived first (the later copy is counted,
 * and counted again when its bytes differ: an evasion signal). Checksums
 * are not verified: captures from hosts with offloading carry wrong ones.
 *
 * A decoder belongs to one thread. Nothing here allocates per packet except
 * fragment reassembly.
 */
#ifndef DET_PKT_H
#define DET_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Link types (pcap DLT_ values, as the pcap file header gives them). */
#define DET_DLT_NULL		0
#define DET_DLT_EN10MB		1
#define DET_DLT_RAW		12	/* DLT_RAW on most systems */
#define DET_DLT_RAW_OBSD	14	/* DLT_RAW on OpenBSD */
#define DET_DLT_RAW_LINUX	101	/* LINKTYPE_RAW */
#define DET_DLT_LOOP		108
#define DET_DLT_LINUX_SLL	113
#define DET_DLT_IPV4		228
#define DET_DLT_IPV6		229
#define DET_DLT_LINUX_SLL2	276

/* Bounds-checked reader over packet bytes. */
struct det_rd {
	const uint8_t	*p;
	size_t		 n;
};

static inline int
det_rd_skip(struct det_rd *c, size_t k)
{
	if (c->n < k)
		return -1;
	c->p += k;
	c->n -= k;
	return 0;
}

static inline int
det_rd_u8(struct det_rd *c, uint8_t *v)
{
	if (c->n < 1)
		return -1;
	*v = c->p[0];
	c->p++;
	c->n--;
	return 0;
}

static inline int
det_rd_be16(struct det_rd *c, uint16_t *v)
{
	if (c->n < 2)
		return -1;
	*v = (uint16_t)((unsigned)c->p[0] << 8 | c->p[1]);
	c->p += 2;
	c->n -= 2;
	return 0;
}

static inline int
det_rd_le32(struct det_rd *c, uint32_t *v)
{
	if (c->n < 4)
		return -1;
	*v = (uint32_t)c->p[0] | (uint32_t)c->p[1] << 8 |
	    (uint32_t)c->p[2] << 16 | (uint32_t)c->p[3] << 24;
	c->p += 4;
	c->n -= 4;
	return 0;
}

static inline int
det_rd_be32(struct det_rd *c, uint32_t *v)
{
	if (c->n < 4)
		return -1;
	*v = (uint32_t)c->p[0] << 24 | (uint32_t)c->p[1] << 16 |
	    (uint32_t)c->p[2] << 8 | (uint32_t)c->p[3];
	c->p += 4;
	c->n -= 4;
	return 0;
}

/* Copy k bytes out. */
static inline int
det_rd_copy(struct det_rd *c, void *dst, size_t k)
{
	size_t i;

	if (c->n < k)
		return -1;
	for (i = 0; i < k; i++)
		((uint8_t *)dst)[i] = c->p[i];
	c->p += k;
	c->n -= k;
	return 0;
}

/* TCP flags. */
#define DET_TCP_FIN	0x01
#define DET_TCP_SYN	0x02
#define DET_TCP_RST	0x04
#define DET_TCP_PSH	0x08
#define DET_TCP_ACK	0x10

/*
 * One decoded TCP segment. Addresses are 16 bytes: IPv4 in the first 4
 * (the rest zero). payload is borrowed: a slice of the frame, or of a
 * reassembled datagram held by the decoder, valid until the next
 * det_pkt_decode() call on the same decoder.
 */
struct det_pkt {
	uint64_t	 ts_us;		/* capture time, microseconds */
	uint8_t		 family;	/* 4 or 6 */
	uint8_t		 tcp_flags;	/* DET_TCP_* */
	uint16_t	 sport;
	uint16_t	 dport;
	uint8_t		 src[16];
	uint8_t		 dst[16];
	uint32_t	 seq;
	uint32_t	 ack;
	uint16_t	 win;		/* window field, unscaled */
	int8_t		 wscale;	/* SYN window-scale option; -1: none */
	const uint8_t	*payload;
	size_t		 plen;		/* captured payload bytes */
	size_t		 wire_plen;	/* payload on the wire (>= plen when the
					   snap length cut the frame) */
	bool		 reassembled;	/* came out of fragment reassembly */
};

/* Counters: every frame that does not become a segment is in one. */
struct det_pkt_counters {
	uint64_t	frames;
	uint64_t	bytes;		/* captured bytes */
	uint64_t	link_unsupported;	/* link type we do not decode */
	uint64_t	link_bad;	/* link header truncated */
	uint64_t	vlan;		/* frames with one or more VLAN tags */
	uint64_t	not_ip;		/* ARP, LLDP, ... */
	uint64_t	ipv4;
	uint64_t	ipv6;
	uint64_t	ip_bad;		/* bad version, length, header */
	uint64_t	ip_len0;	/* IPv4 total length 0 (offload): taken
					   from the capture */
	uint64_t	ip6_ext_bad;	/* extension header chain unusable */
	uint64_t	not_tcp;	/* UDP, ICMP, ESP ... */
	uint64_t	tcp;		/* segments handed out */
	uint64_t	tcp_bad;	/* TCP header truncated or bad offset */
	uint64_t	snap_cut;	/* payload cut by the snap length */
	uint64_t	frags;		/* fragments seen (v4 + v6) */
	uint64_t	frag_reassembled; /* datagrams completed */
	uint64_t	frag_overlap;	/* fragments overlapping earlier ones */
	uint64_t	frag_overlap_diff; /* ... with different bytes */
	uint64_t	frag_discarded;	/* datagrams dropped on a partial overlap */
	uint64_t	frag_bad;	/* inconsistent offsets, lengths */
	uint64_t	frag_timeout;	/* incomplete datagrams expired */
	uint64_t	frag_evicted;	/* dropped to respect the caps */
};

struct det_pkt_limits {
	size_t		max_datagrams;	/* in reassembly at once; 256 */
	size_t		frag_memcap;	/* bytes for all of them; 8 MiB */
	uint64_t	frag_timeout_us; /* 30 s */
};

struct det_pkt_dec;

/* --- det_pkt.c --- */

/* Fill lim with the defaults above. */
void	det_pkt_limits_default(struct det_pkt_limits *lim);

/*
 * A decoder (fragment table included). lim NULL: the defaults. Returns 0
 * with *out set (caller owns, det_pkt_dec_free()), or -1 when memory is
 * short.
 */
int	det_pkt_dec_new(const struct det_pkt_limits *lim,
	    struct det_pkt_dec **out);
void	det_pkt_dec_free(struct det_pkt_dec *d);

/*
 * Decode frame[0..caplen) of link type dlt (DET_DLT_*), captured at ts_us.
 * Returns 1 with *out filled when a TCP segment came out, 0 when the frame
 * was consumed without one (not TCP, a fragment held, a counted error).
 * frame is borrowed for the call; see struct det_pkt for out->payload.
 */
int	det_pkt_decode(struct det_pkt_dec *d, int dlt, uint64_t ts_us,
	    const uint8_t *frame, size_t caplen, struct det_pkt *out);

/* Expire fragment reassemblies older than the timeout at now_us. */
void	det_pkt_expire(struct det_pkt_dec *d, uint64_t now_us);

/* Counters (borrowed, valid until det_pkt_dec_free()). */
const struct det_pkt_counters *det_pkt_counters(const struct det_pkt_dec *d);

/* Bytes held by fragment reassembly now. */
size_t	det_pkt_frag_mem(const struct det_pkt_dec *d);

/* "ethernet", "linux-sll2", ... for a supported dlt, else NULL. */
const char *det_pkt_dlt_str(int dlt);

#endif /* DET_PKT_H */
