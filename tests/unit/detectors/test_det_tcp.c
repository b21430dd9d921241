/*
 * Unit tests for detectors/det_tcp.c: in-order delivery, reordering,
 * retransmissions, overlaps (first data wins, different bytes counted),
 * gaps (by ACK, by a full queue, at the end), sequence wraparound, the
 * memcap, snap-cut segments and the property that any arrival order of the
 * same segments gives the same stream.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detectors/det_tcp.h"

struct out {
	uint8_t		buf[8192];
	size_t		len;
	uint64_t	gaps;
	uint64_t	gap_bytes;
};

static void
collect(void *arg, uint64_t off, const uint8_t *p, size_t n)
{
	struct out *o = arg;
	size_t i;

	/* bytes come out in order, each offset once */
	assert_int_equal(off, o->len);
	assert_true(o->len + n <= sizeof(o->buf));
	for (i = 0; i < n; i++)
		o->buf[o->len + i] = p != NULL ? p[i] : '#';
	if (p == NULL) {
		o->gaps++;
		o->gap_bytes += n;
	}
	o->len += n;
}

static const char text[] = "0123456789abcdefghijklmnopqrstuvwxyz"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

static int
seg(struct det_tcp_ctx *c, struct det_tcp_half *h, uint32_t isn, size_t off,
    size_t n, struct out *o)
{
	return det_tcp_half_segment(c, h, isn + 1 + (uint32_t)off,
	    (const uint8_t *)text + off, n, n, false, collect, o);
}

static void
test_in_order(void **state)
{
	struct det_tcp_ctx c;
	struct det_tcp_half h;
	struct out o;

	(void)state;
	det_tcp_ctx_init(&c, 1 << 16, 1 << 20);
	memset(&h, 0, sizeof(h));
	memset(&o, 0, sizeof(o));
	det_tcp_half_syn(&h, 100);
	assert_int_equal(seg(&c, &h, 100, 0, 10, &o), 0);
	assert_int_equal(seg(&c, &h, 100, 10, 20, &o), 0);
	assert_int_equal(o.len, 30);
	assert_memory_equal(o.buf, text, 30);
	assert_int_equal(c.mem, 0);	/* nothing copied */
	assert_int_equal(c.c.ooo, 0);
	det_tcp_half_free(&c, &h);
}

static void
test_reorder_and_retrans(void **state)
{
	struct det_tcp_ctx c;
	struct det_tcp_half h;
	struct out o;

	(void)state;
	det_tcp_ctx_init(&c, 1 << 16, 1 << 20);
	memset(&h, 0, sizeof(h));
	memset(&o, 0, sizeof(o));
	det_tcp_half_syn(&h, 7);
	seg(&c, &h, 7, 20, 10, &o);
	seg(&c, &h, 7, 10, 10, &o);
	assert_int_equal(o.len, 0);
	assert_int_equal(h.queued, 2 * DET_TCP_SEG_COST(10));
	assert_int_equal(h.nseg, 2);
	seg(&c, &h, 7, 0, 10, &o);
	assert_int_equal(o.len, 30);
	assert_memory_equal(o.buf, text, 30);
	assert_int_equal(h.queued, 0);
	assert_int_equal(c.mem, 0);
	/* a retransmission, and one that also carries new bytes */
	seg(&c, &h, 7, 0, 10, &o);
	seg(&c, &h, 7, 25, 15, &o);
	assert_int_equal(o.len, 40);
	assert_memory_equal(o.buf, text, 40);
	assert_int_equal(c.c.retrans, 2);
	assert_int_equal(c.c.retrans_bytes, 15);
	det_tcp_half_free(&c, &h);
}

static void
test_overlap_first_wins(void **state)
{
	struct det_tcp_ctx c;
	struct det_tcp_half h;
	struct out o;
	uint8_t evil[16];

	(void)state;
	det_tcp_ctx_init(&c, 1 << 16, 1 << 20);
	memset(&h, 0, sizeof(h));
	memset(&o, 0, sizeof(o));
	det_tcp_half_syn(&h, 0);
	seg(&c, &h, 0, 10, 10, &o);		/* queued: 10..20 */
	memset(evil, 'X', sizeof(evil));
	/* 6..22 overlaps the queued bytes with other data */
	det_tcp_half_segment(&c, &h, 1 + 6, evil, 16, 16, false, collect, &o);
	assert_int_equal(c.c.overlap, 1);
	assert_int_equal(c.c.overlap_diff, 1);
	/* the same bytes again: an overlap, not a different one */
	seg(&c, &h, 0, 12, 4, &o);
	assert_int_equal(c.c.overlap, 2);
	assert_int_equal(c.c.overlap_diff, 1);
	seg(&c, &h, 0, 0, 6, &o);
	assert_int_equal(o.len, 22);
	assert_memory_equal(o.buf, text, 6);
	assert_memory_equal(o.buf + 6, "XXXX", 4);	/* first for 6..10 */
	assert_memory_equal(o.buf + 10, text + 10, 10);	/* first wins */
	assert_memory_equal(o.buf + 20, "XX", 2);
	det_tcp_half_free(&c, &h);
	assert_int_equal(c.mem, 0);
}

static void
test_gap_by_ack(void **state)
{
	struct det_tcp_ctx c;
	struct det_tcp_half h;
	struct out o;

	(void)state;
	det_tcp_ctx_init(&c, 1 << 16, 1 << 20);
	memset(&h, 0, sizeof(h));
	memset(&o, 0, sizeof(o));
	det_tcp_half_syn(&h, 1000);
	seg(&c, &h, 1000, 0, 10, &o);
	seg(&c, &h, 1000, 20, 10, &o);		/* 10..20 lost */
	/* the peer has up to 15: 10..15 is lost, 15..20 may still come */
	det_tcp_half_ack(&c, &h, 1000 + 1 + 15, collect, &o);
	assert_int_equal(o.len, 15);
	assert_int_equal(o.gaps, 1);
	assert_int_equal(o.gap_bytes, 5);
	det_tcp_half_ack(&c, &h, 1000 + 1 + 21, collect, &o);
	assert_int_equal(o.len, 30);	/* rest of the hole, the queue */
	assert_int_equal(o.gaps, 2);
	assert_int_equal(o.gap_bytes, 10);
	assert_memory_equal(o.buf + 20, text + 20, 10);
	/* an ACK past everything seen declares nothing (forged, or ahead of
	   the data in the capture) ... */
	det_tcp_half_ack(&c, &h, 1000 + 1 + 40, collect, &o);
	assert_int_equal(o.len, 30);
	assert_int_equal(c.c.gaps, 2);
	/* ... until bytes beyond the hole are seen: 30..35 never captured */
	seg(&c, &h, 1000, 35, 5, &o);
	assert_int_equal(o.len, 30);
	det_tcp_half_ack(&c, &h, 1000 + 1 + 40, collect, &o);
	assert_int_equal(o.len, 40);
	assert_int_equal(c.c.gaps, 3);
	assert_memory_equal(o.buf + 35, text + 35, 5);
	/* old ACKs change nothing */
	det_tcp_half_ack(&c, &h, 1000, collect, &o);
	assert_int_equal(o.len, 40);
	det_tcp_half_free(&c, &h);
}

static void
test_wraparound(void **state)
{
	struct det_tcp_ctx c;
	struct det_tcp_half h;
	struct out o;
	uint32_t isn = 0xfffffff0u;

	(void)state;
	det_tcp_ctx_init(&c, 1 << 16, 1 << 20);
	memset(&h, 0, sizeof(h));
	memset(&o, 0, sizeof(o));
	det_tcp_half_syn(&h, isn);
	/* 0..10 ends before 2^32, 30..40 after it, 10..30 straddles it */
	seg(&c, &h, isn, 30, 10, &o);
	seg(&c, &h, isn, 0, 10, &o);
	seg(&c, &h, isn, 10, 20, &o);
	assert_int_equal(o.len, 40);
	assert_memory_equal(o.buf, text, 40);
	assert_int_equal(h.next_seq, isn + 41);
	assert_int_equal(o.gaps, 0);
	assert_int_equal(c.c.bogus, 0);
	/* the FIN after the wrap closes the half */
	det_tcp_half_segment(&c, &h, isn + 41, NULL, 0, 0, true, collect, &o);
	assert_true(h.closed);
	det_tcp_half_free(&c, &h);
}

static void
test_queue_cap_and_memcap(void **state)
{
	struct det_tcp_ctx c;
	struct det_tcp_half h, h2;
	struct out o, o2;

	(void)state;
	/* per half: two segments of 10 and 14 bytes; in all: the same */
	det_tcp_ctx_init(&c, DET_TCP_SEG_COST(10) + DET_TCP_SEG_COST(14),
	    DET_TCP_SEG_COST(10) + DET_TCP_SEG_COST(14));
	memset(&h, 0, sizeof(h));
	memset(&h2, 0, sizeof(h2));
	memset(&o, 0, sizeof(o));
	memset(&o2, 0, sizeof(o2));
	det_tcp_half_syn(&h, 0);
	det_tcp_half_syn(&h2, 0);
	seg(&c, &h, 0, 10, 10, &o);
	seg(&c, &h, 0, 30, 10, &o);		/* 20 queued */
	assert_int_equal(c.mem, 2 * DET_TCP_SEG_COST(10));
	/* the second half hits the shared memcap: dropped, counted */
	assert_int_equal(seg(&c, &h2, 0, 10, 10, &o2), -1);
	assert_int_equal(c.c.memcap_drop, 1);
	/* a third segment is over the cap: the hole 0..10 is given up,
	   10..20 comes out */
	seg(&c, &h, 0, 48, 14, &o);
	assert_int_equal(c.c.queue_full, 1);
	assert_int_equal(o.gaps, 1);
	assert_int_equal(o.len, 20);
	assert_int_equal(h.queued, DET_TCP_SEG_COST(10) +
	    DET_TCP_SEG_COST(14));
	assert_true(c.mem <= c.memcap);
	/* end of stream: the rest comes out with its holes */
	det_tcp_half_flush(&c, &h, collect, &o);
	assert_int_equal(o.len, 62);
	assert_int_equal(o.gaps, 3);
	assert_memory_equal(o.buf + 48, text + 48, 14);
	det_tcp_half_flush(&c, &h2, collect, &o2);
	assert_int_equal(o2.len, 0);
	det_tcp_half_free(&c, &h);
	det_tcp_half_free(&c, &h2);
	assert_int_equal(c.mem, 0);
}

static void
test_snap_cut_and_bogus(void **state)
{
	struct det_tcp_ctx c;
	struct det_tcp_half h;
	struct out o;

	(void)state;
	det_tcp_ctx_init(&c, 1 << 16, 1 << 20);
	memset(&h, 0, sizeof(h));
	memset(&o, 0, sizeof(o));
	det_tcp_half_syn(&h, 0);
	/* 10 bytes captured of 30 on the wire: 20 missing at once */
	det_tcp_half_segment(&c, &h, 1, (const uint8_t *)text, 10, 30, false,
	    collect, &o);
	assert_int_equal(o.len, 30);
	assert_int_equal(o.gap_bytes, 20);
	seg(&c, &h, 0, 30, 5, &o);
	assert_int_equal(o.len, 35);
	/* far outside any window */
	assert_int_equal(det_tcp_half_segment(&c, &h, 1u << 31,
	    (const uint8_t *)text, 5, 5, false, collect, &o), -1);
	assert_int_equal(c.c.bogus, 1);
	det_tcp_half_free(&c, &h);
}

/* A forged ACK 100 MB ahead does not turn the data that follows into a
   gap (red team: bogus_ack_ahead). */
static void
test_forged_ack_ahead(void **state)
{
	struct det_tcp_ctx c;
	struct det_tcp_half h;
	struct out o;

	(void)state;
	det_tcp_ctx_init(&c, 1 << 16, 1 << 20);
	memset(&h, 0, sizeof(h));
	memset(&o, 0, sizeof(o));
	det_tcp_half_syn(&h, 500);
	det_tcp_half_ack(&c, &h, 500 + 1 + 100000000, collect, &o);
	assert_int_equal(o.len, 0);
	seg(&c, &h, 500, 0, 20, &o);
	seg(&c, &h, 500, 20, 20, &o);
	assert_int_equal(o.len, 40);
	assert_int_equal(o.gaps, 0);
	assert_memory_equal(o.buf, text, 40);
	det_tcp_half_free(&c, &h);
}

/* A FIN from a direction that sent no data closes it, without a gap when
   it is acknowledged (red team: fin_nodata). */
static void
test_bare_fin(void **state)
{
	struct det_tcp_ctx c;
	struct det_tcp_half h;
	struct out o;

	(void)state;
	det_tcp_ctx_init(&c, 1 << 16, 1 << 20);
	memset(&h, 0, sizeof(h));
	memset(&o, 0, sizeof(o));
	det_tcp_half_syn(&h, 77);
	assert_int_equal(det_tcp_half_segment(&c, &h, 78, NULL, 0, 0, true,
	    collect, &o), 0);
	assert_true(h.fin);
	assert_true(h.closed);
	det_tcp_half_ack(&c, &h, 79, collect, &o);
	assert_int_equal(o.len, 0);
	assert_int_equal(o.gaps, 0);
	assert_int_equal(c.c.retrans, 0);
	det_tcp_half_free(&c, &h);
}

struct count_out {
	uint64_t	len;
	uint64_t	gap_bytes;
};

static void
count_bytes(void *arg, uint64_t off, const uint8_t *p, size_t n)
{
	struct count_out *o = arg;

	assert_int_equal(off, o->len);
	if (p == NULL)
		o->gap_bytes += n;
	o->len += n;
}

/*
 * 40000 one-byte segments after a hole (red team: gen_ooo_dos.py): each
 * is appended at the tail in O(1), the queue holds at most
 * DET_TCP_SEG_MAX segments and their headers count against the caps.
 */
static void
test_many_tiny_segments(void **state)
{
	struct det_tcp_ctx c;
	struct det_tcp_half h;
	struct count_out o = { 0, 0 };
	uint32_t i;
	const uint8_t a = 'A';

	(void)state;
	det_tcp_ctx_init(&c, 1 << 20, 1 << 30);
	memset(&h, 0, sizeof(h));
	det_tcp_half_syn(&h, 0);
	for (i = 0; i < 40000; i++) {
		assert_int_equal(det_tcp_half_segment(&c, &h, 2 + i, &a, 1, 1,
		    false, count_bytes, &o), 0);
		assert_true(h.nseg <= DET_TCP_SEG_MAX);
		assert_true(h.queued <= c.max_queued);
		assert_int_equal(c.mem, h.queued);
	}
	assert_true(c.c.queue_full > 0);
	assert_int_equal(o.gap_bytes, 1);	/* the first byte, once */
	det_tcp_half_flush(&c, &h, count_bytes, &o);
	assert_int_equal(o.len, 40001);
	assert_int_equal(o.gap_bytes, 1);
	det_tcp_half_free(&c, &h);
	assert_int_equal(c.mem, 0);
}

/* Every permutation of 5 segments (with one duplicate) gives the text. */
static void
test_every_order(void **state)
{
	static const size_t offs[6] = { 0, 7, 13, 20, 31, 13 };
	static const size_t lens[6] = { 7, 6, 7, 11, 9, 7 };
	unsigned perm[6], i, j, k, iter;

	(void)state;
	for (iter = 0; iter < 720; iter++) {
		struct det_tcp_ctx c;
		struct det_tcp_half h;
		struct out o;
		unsigned x = iter;
		bool used[6] = { false };

		/* iter-th permutation (factorial number system) */
		for (i = 0; i < 6; i++) {
			k = x % (6 - i);
			x /= 6 - i;
			for (j = 0; j < 6; j++)
				if (!used[j] && k-- == 0)
					break;
			used[j] = true;
			perm[i] = j;
		}
		det_tcp_ctx_init(&c, 1 << 16, 1 << 20);
		memset(&h, 0, sizeof(h));
		memset(&o, 0, sizeof(o));
		det_tcp_half_syn(&h, 0xfffffffau);
		for (i = 0; i < 6; i++)
			seg(&c, &h, 0xfffffffau, offs[perm[i]], lens[perm[i]],
			    &o);
		assert_int_equal(o.len, 40);
		assert_memory_equal(o.buf, text, 40);
		assert_int_equal(o.gaps, 0);
		assert_int_equal(c.c.overlap_diff, 0);
		det_tcp_half_free(&c, &h);
		assert_int_equal(c.mem, 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_reorder_and_retrans),
		cmocka_unit_test(test_overlap_first_wins),
		cmocka_unit_test(test_gap_by_ack),
		cmocka_unit_test(test_wraparound),
		cmocka_unit_test(test_queue_cap_and_memcap),
		cmocka_unit_test(test_snap_cut_and_bogus),
		cmocka_unit_test(test_every_order),
		cmocka_unit_test(test_forged_ack_ahead),
		cmocka_unit_test(test_bare_fin),
		cmocka_unit_test(test_many_tiny_segments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
