/*
 * det_tcp: TCP stream reassembly for one direction of one connection
 * (a "half"). Segments go in in capture order; bytes come out in stream
 * order through a callback, each byte once.
 *
 * Positions are 64-bit stream offsets, so sequence-number wraparound is
 * invisible above this layer. Policy:
 *   - in-order data is handed out directly from the packet (no copy);
 *   - out-of-order data is copied and queued, up to max_queued bytes per
 *     half (DET_TCP_SEG_COST() each: the segment's header is counted, so
 *     many tiny segments fill it as fast as their memory does), at most
 *     DET_TCP_SEG_MAX segments per half, and the shared memcap; a segment
 *     that starts after the last one queued is appended in O(1);
 *   - bytes already handed out that arrive again are retransmissions
 *     (counted, dropped);
 *   - queued bytes that arrive again keep the first copy ("first data
 *     wins"); a copy with different bytes is counted in overlap_diff, an
 *     evasion signal;
 *   - a hole becomes a gap (handed out as a gap of n bytes, never as data)
 *     when the other side acknowledges past it, when the queue is full,
 *     or when the stream ends. An acknowledgement declares bytes lost only
 *     up to the highest sequence number seen from the sending side (a
 *     forged ACK far ahead cannot blind the sensor to the data that
 *     follows);
 *   - a FIN is honoured wherever it falls, also on a direction that sent
 *     no data.
 * Checksums are not verified (offloading makes them unreliable in captures).
 *
 * A half and its counters belong to one thread.
 */
#ifndef DET_TCP_H
#define DET_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Stream output: data p[0..n) (borrowed for the call), or, when p is NULL,
 * a gap of n missing bytes. off is the stream offset of the first byte.
 */
typedef void det_tcp_data_cb(void *arg, uint64_t off, const uint8_t *p,
    size_t n);

/* Shared by every half of a flow table. */
struct det_tcp_counters {
	uint64_t	segments;	/* with payload */
	uint64_t	bytes;		/* handed out as data */
	uint64_t	ooo;		/* segments queued out of order */
	uint64_t	retrans;	/* segments (or parts) seen before */
	uint64_t	retrans_bytes;
	uint64_t	overlap;	/* queued bytes arriving again */
	uint64_t	overlap_diff;	/* ... with different bytes */
	uint64_t	gaps;		/* holes given up on */
	uint64_t	gap_bytes;
	uint64_t	queue_full;	/* holes forced by max_queued */
	uint64_t	memcap_drop;	/* segments dropped at the memcap */
	uint64_t	bogus;		/* far outside any window: dropped */
	uint64_t	midstream;	/* halves picked up without a SYN */
};

struct det_tcp_ctx {
	struct det_tcp_counters	 c;
	size_t			 max_queued;	/* per half; 1 MiB */
	size_t			 memcap;	/* queued, all halves */
	size_t			 mem;		/* queued now (segment costs) */
};

struct det_tcp_seg;

/* Segments queued per half at most, and what one costs against the caps
   (header and allocator overhead included). */
#define DET_TCP_SEG_MAX		4096
#define DET_TCP_SEG_OVERHEAD	64
#define DET_TCP_SEG_COST(n)	((size_t)(n) + DET_TCP_SEG_OVERHEAD)

struct det_tcp_half {
	bool			 started;	/* next_seq is known */
	bool			 syn;		/* started by SYN; isn valid */
	uint32_t		 isn;
	bool			 fin;		/* FIN seen; fin_off valid */
	bool			 closed;	/* all bytes through FIN out */
	uint32_t		 next_seq;	/* seq. number of next_off */
	uint64_t		 next_off;	/* next offset to hand out */
	uint64_t		 fin_off;
	uint64_t		 seen_end;	/* highest offset seen + 1 */
	struct det_tcp_seg	*q;		/* queued, sorted, disjoint */
	struct det_tcp_seg	*qtail;		/* last of q */
	size_t			 nseg;		/* segments in q */
	size_t			 queued;	/* DET_TCP_SEG_COST()s of q */
};

/* --- det_tcp.c --- */

/* Zero ctx and set the caps. */
void	det_tcp_ctx_init(struct det_tcp_ctx *ctx, size_t max_queued,
	    size_t memcap);

/* A zeroed half is ready; det_tcp_half_free() releases its queue. */
void	det_tcp_half_free(struct det_tcp_ctx *ctx, struct det_tcp_half *h);

/*
 * A SYN with sequence number isn: the stream starts at isn + 1. A SYN for a
 * half already started is ignored (retransmission or port reuse inside the
 * flow: counted by the caller).
 */
void	det_tcp_half_syn(struct det_tcp_half *h, uint32_t isn);

/*
 * One segment: seq, payload p[0..n) (borrowed for the call), wire_n >= n
 * bytes on the wire (more when the snap length cut it: the missing tail is
 * a hole), fin when FIN is set. In-order bytes go to cb. Returns 0, or -1
 * when the segment was dropped (counted).
 */
int	det_tcp_half_segment(struct det_tcp_ctx *ctx, struct det_tcp_half *h,
	    uint32_t seq, const uint8_t *p, size_t n, size_t wire_n, bool fin,
	    det_tcp_data_cb *cb, void *arg);

/*
 * The other side acknowledged ack: a hole below it will never be filled
 * in this capture, so hand it out as a gap (and the queued bytes that
 * follow it). Only up to the highest offset seen from this half: an ACK
 * for bytes never seen declares nothing (it may be forged, or ahead of the
 * data in the capture).
 */
void	det_tcp_half_ack(struct det_tcp_ctx *ctx, struct det_tcp_half *h,
	    uint32_t ack, det_tcp_data_cb *cb, void *arg);

/* End of stream (RST, timeout, eviction, end of capture): hand out what is
   queued, holes as gaps, then free the queue. */
void	det_tcp_half_flush(struct det_tcp_ctx *ctx, struct det_tcp_half *h,
	    det_tcp_data_cb *cb, void *arg);

#endif /* DET_TCP_H */
