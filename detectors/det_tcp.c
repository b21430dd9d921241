/*
 * det_tcp.c: per-direction TCP reassembly. See det_tcp.h.
 */
#include "detectors/det_tcp.h"

#include <stdlib.h>
#include <string.h>

/* Further than this from the expected sequence number: not this stream. */
#define BOGUS_DELTA	(1 << 30)

struct det_tcp_seg {
	struct det_tcp_seg	*next;
	uint64_t		 off;
	size_t			 len;
	uint8_t			 data[];
};

void
det_tcp_ctx_init(struct det_tcp_ctx *ctx, size_t max_queued, size_t memcap)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->max_queued = max_queued;
	ctx->memcap = memcap;
}

static void
seg_free(struct det_tcp_ctx *ctx, struct det_tcp_half *h,
    struct det_tcp_seg *s)
{
	h->queued -= DET_TCP_SEG_COST(s->len);
	ctx->mem -= DET_TCP_SEG_COST(s->len);
	h->nseg--;
	if (h->qtail == s)
		h->qtail = NULL;
	free(s);
}

void
det_tcp_half_free(struct det_tcp_ctx *ctx, struct det_tcp_half *h)
{
	struct det_tcp_seg *s;

	while ((s = h->q) != NULL) {
		h->q = s->next;
		seg_free(ctx, h, s);
	}
}

void
det_tcp_half_syn(struct det_tcp_half *h, uint32_t isn)
{
	if (h->started)
		return;
	h->started = true;
	h->syn = true;
	h->isn = isn;
	h->next_seq = isn + 1;
	h->next_off = 0;
	h->seen_end = 0;
}

static void
check_closed(struct det_tcp_half *h)
{
	if (h->fin && h->next_off >= h->fin_off)
		h->closed = true;
}

static void
deliver(struct det_tcp_ctx *ctx, struct det_tcp_half *h, const uint8_t *p,
    size_t n, det_tcp_data_cb *cb, void *arg)
{
	if (n == 0)
		return;
	cb(arg, h->next_off, p, n);
	if (p != NULL) {
		ctx->c.bytes += n;
	} else {
		ctx->c.gaps++;
		ctx->c.gap_bytes += n;
	}
	h->next_off += n;
	h->next_seq += (uint32_t)n;
}

/* Hand out queued segments that start at next_off. */
static void
drain(struct det_tcp_ctx *ctx, struct det_tcp_half *h, det_tcp_data_cb *cb,
    void *arg)
{
	struct det_tcp_seg *s;

	while ((s = h->q) != NULL && s->off <= h->next_off) {
		h->q = s->next;
		if (s->off + s->len > h->next_off) {
			size_t skip = (size_t)(h->next_off - s->off);

			deliver(ctx, h, s->data + skip, s->len - skip, cb, arg);
		}
		seg_free(ctx, h, s);
	}
	check_closed(h);
}

/* Give up on the hole before the first queued segment. */
static void
skip_hole(struct det_tcp_ctx *ctx, struct det_tcp_half *h,
    det_tcp_data_cb *cb, void *arg)
{
	if (h->q == NULL)
		return;
	if (h->q->off > h->next_off)
		deliver(ctx, h, NULL, (size_t)(h->q->off - h->next_off), cb,
		    arg);
	drain(ctx, h, cb, arg);
}

static int
queue_piece(struct det_tcp_ctx *ctx, struct det_tcp_half *h,
    struct det_tcp_seg **link, uint64_t off, const uint8_t *p, size_t n)
{
	struct det_tcp_seg *s;

	if (n == 0)
		return 0;
	if ((s = malloc(sizeof(*s) + n)) == NULL)
		return -1;
	s->off = off;
	s->len = n;
	memcpy(s->data, p, n);
	s->next = *link;
	*link = s;
	if (s->next == NULL)
		h->qtail = s;
	h->nseg++;
	h->queued += DET_TCP_SEG_COST(n);
	ctx->mem += DET_TCP_SEG_COST(n);
	return 0;
}

/*
 * Queue p[0..n) at off (> next_off), keeping bytes already queued
 * (first data wins) and counting overlaps.
 */
static int
queue_insert(struct det_tcp_ctx *ctx, struct det_tcp_half *h, uint64_t off,
    const uint8_t *p, size_t n)
{
	struct det_tcp_seg **link = &h->q, *s;
	uint64_t cur = off, end = off + n;
	bool overlap = false, diff = false;

	/* The common case, in order after the last queued: O(1). */
	if (h->qtail != NULL && h->qtail->off + h->qtail->len <= off)
		return queue_piece(ctx, h, &h->qtail->next, off, p, n);
	while (cur < end && (s = *link) != NULL) {
		uint64_t send = s->off + s->len;

		if (send <= cur) {
			link = &s->next;
			continue;
		}
		if (s->off > cur) {
			uint64_t piece_end = s->off < end ? s->off : end;

			if (queue_piece(ctx, h, link, cur, p + (cur - off),
			    (size_t)(piece_end - cur)) == -1)
				return -1;
			link = &(*link)->next;
			cur = piece_end;
			continue;
		}
		/* s covers cur: compare the overlapping bytes. */
		{
			uint64_t oend = send < end ? send : end;

			overlap = true;
			if (memcmp(s->data + (cur - s->off), p + (cur - off),
			    (size_t)(oend - cur)) != 0)
				diff = true;
			cur = oend;
			link = &s->next;
		}
	}
	if (cur < end && queue_piece(ctx, h, link, cur, p + (cur - off),
	    (size_t)(end - cur)) == -1)
		return -1;
	if (overlap)
		ctx->c.overlap++;
	if (diff)
		ctx->c.overlap_diff++;
	return 0;
}

int
det_tcp_half_segment(struct det_tcp_ctx *ctx, struct det_tcp_half *h,
    uint32_t seq, const uint8_t *p, size_t n, size_t wire_n, bool fin,
    det_tcp_data_cb *cb, void *arg)
{
	int32_t delta;
	int64_t soff;
	uint64_t end;
	size_t k;

	if (wire_n < n)
		wire_n = n;
	if (wire_n == 0 && !fin)
		return 0;
	if (!h->started) {
		h->started = true;
		h->next_seq = seq;
		h->next_off = 0;
		ctx->c.midstream++;
	}
	delta = (int32_t)(seq - h->next_seq);
	if (delta > BOGUS_DELTA || delta < -BOGUS_DELTA) {
		ctx->c.bogus++;
		return -1;
	}
	if (wire_n > 0)
		ctx->c.segments++;
	soff = (int64_t)h->next_off + delta;
	/* Entirely before the start; a bare FIN at offset 0 (a direction
	   that sent no data) is not. */
	if (soff + (int64_t)wire_n < 0 ||
	    (soff + (int64_t)wire_n == 0 && wire_n > 0)) {
		if (wire_n > 0) {
			ctx->c.retrans++;
			ctx->c.retrans_bytes += wire_n;
		}
		return 0;
	}
	if (soff < 0) {
		k = (size_t)-soff;
		if (k >= n) {
			p = NULL;
			n = 0;
		} else {
			p += k;
			n -= k;
		}
		wire_n -= k;
		soff = 0;
	}
	end = (uint64_t)soff + wire_n;
	if (end > h->seen_end)
		h->seen_end = end;
	if (fin && !h->fin) {
		h->fin = true;
		h->fin_off = end;
	}
	if (end <= h->next_off) {
		if (wire_n > 0) {
			ctx->c.retrans++;
			ctx->c.retrans_bytes += wire_n;
		}
		check_closed(h);
		return 0;
	}
	if ((uint64_t)soff < h->next_off) {
		k = (size_t)(h->next_off - (uint64_t)soff);
		ctx->c.retrans++;
		ctx->c.retrans_bytes += k;
		if (k >= n) {
			p = NULL;
			n = 0;
		} else {
			p += k;
			n -= k;
		}
		wire_n -= k;
		soff = (int64_t)h->next_off;
	}
	if ((uint64_t)soff == h->next_off &&
	    (h->q == NULL || h->q->off >= (uint64_t)soff + n)) {
		/* In order: straight from the packet. */
		deliver(ctx, h, p, n, cb, arg);
		if (wire_n > n)		/* cut by the snap length */
			deliver(ctx, h, NULL, wire_n - n, cb, arg);
		drain(ctx, h, cb, arg);
		return 0;
	}
	if (n == 0) {
		check_closed(h);
		return 0;
	}
	while (h->q != NULL && (h->queued + DET_TCP_SEG_COST(n) >
	    ctx->max_queued || h->nseg >= DET_TCP_SEG_MAX) &&
	    (uint64_t)soff > h->next_off) {
		ctx->c.queue_full++;
		skip_hole(ctx, h, cb, arg);
	}
	if ((uint64_t)soff < h->next_off) {	/* the skip passed it */
		k = (size_t)(h->next_off - (uint64_t)soff);
		if (k >= n) {
			check_closed(h);
			return 0;
		}
		p += k;
		n -= k;
		soff = (int64_t)h->next_off;
	}
	if (ctx->mem + DET_TCP_SEG_COST(n) > ctx->memcap ||
	    DET_TCP_SEG_COST(n) > ctx->max_queued) {
		ctx->c.memcap_drop++;
		return -1;
	}
	ctx->c.ooo++;
	if (queue_insert(ctx, h, (uint64_t)soff, p, n) == -1) {
		ctx->c.memcap_drop++;
		return -1;
	}
	drain(ctx, h, cb, arg);
	return 0;
}

void
det_tcp_half_ack(struct det_tcp_ctx *ctx, struct det_tcp_half *h,
    uint32_t ack, det_tcp_data_cb *cb, void *arg)
{
	int32_t delta;
	uint64_t target;

	if (!h->started || h->closed)
		return;
	delta = (int32_t)(ack - h->next_seq);
	if (delta <= 0 || delta > BOGUS_DELTA)
		return;
	target = h->next_off + (uint64_t)delta;
	if (target > h->seen_end)
		target = h->seen_end;	/* never declare unseen bytes lost */
	if (h->fin && target > h->fin_off)
		target = h->fin_off;	/* the FIN's own sequence number */
	while (h->next_off < target) {
		if (h->q != NULL && h->q->off <= target) {
			skip_hole(ctx, h, cb, arg);
			continue;
		}
		deliver(ctx, h, NULL, (size_t)(target - h->next_off), cb, arg);
	}
	check_closed(h);
}

void
det_tcp_half_flush(struct det_tcp_ctx *ctx, struct det_tcp_half *h,
    det_tcp_data_cb *cb, void *arg)
{
	while (h->q != NULL)
		skip_hole(ctx, h, cb, arg);
	if (h->fin && h->next_off < h->fin_off)
		deliver(ctx, h, NULL, (size_t)(h->fin_off - h->next_off), cb,
		    arg);
	h->closed = true;
}
