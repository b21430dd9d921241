/*
 * Unit tests for detectors/det_pkt.c: each link type, VLAN stacks, IPv4
 * options and padding, IPv6 extension headers, fragment reassembly (order,
 * overlaps with other bytes, inconsistent fragments, caps, timeout), the
 * snap length, and every prefix of a valid frame (decoded from an exact-size
 * heap copy, so an over-read is caught by ASan).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "detectors/det_pkt.h"

static size_t
put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return 2;
}

static size_t
put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
	return 4;
}

/* TCP header (20 bytes) + payload. */
static size_t
mk_tcp(uint8_t *p, uint16_t sport, uint16_t dport, uint32_t seq,
    uint8_t flags, const char *data)
{
	size_t n = data ? strlen(data) : 0;

	memset(p, 0, 20);
	put16(p, sport);
	put16(p + 2, dport);
	put32(p + 4, seq);
	put32(p + 8, 1);
	p[12] = 5 << 4;
	p[13] = flags;
	put16(p + 14, 65535);
	memcpy(p + 20, data, n);
	return 20 + n;
}

/* IPv4 header around upper[0..n) at p (p + 20 must hold upper already). */
static size_t
mk_ip4(uint8_t *p, size_t n, uint16_t id, unsigned frag)
{
	p[0] = 0x45;
	p[1] = 0;
	put16(p + 2, (unsigned)(20 + n));
	put16(p + 4, id);
	put16(p + 6, frag);
	p[8] = 64;
	p[9] = 6;
	put16(p + 10, 0);
	memcpy(p + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	return 20 + n;
}

static size_t
mk_eth(uint8_t *p, unsigned ethertype)
{
	memset(p, 0x02, 12);
	return put16(p + 12, ethertype) + 12;
}

/* Ethernet + IPv4 + TCP with payload data. */
static size_t
mk_frame(uint8_t *f, const char *data)
{
	size_t n = mk_eth(f, 0x0800);

	n += mk_ip4(f + n, mk_tcp(f + n + 20, 40000, 80, 1000, 0x18, data), 7,
	    0);
	return n;
}

static int
decode(struct det_pkt_dec *d, int dlt, const uint8_t *f, size_t n,
    struct det_pkt *out)
{
	uint8_t *copy = malloc(n ? n : 1);
	int r;

	assert_non_null(copy);
	memcpy(copy, f, n);
	r = det_pkt_decode(d, dlt, 1000000, copy, n, out);
	if (r == 1) {	/* the payload lies inside the frame or held data */
		assert_true(out->plen <= out->wire_plen);
	}
	free(copy);
	return r;
}

static void
test_ethernet_ipv4(void **state)
{
	struct det_pkt_dec *d;
	struct det_pkt k;
	uint8_t f[256];
	size_t n, i;

	(void)state;
	assert_int_equal(det_pkt_dec_new(NULL, &d), 0);
	n = mk_frame(f, "GET / HTTP/1.1\r\n");
	assert_int_equal(det_pkt_decode(d, DET_DLT_EN10MB, 5, f, n, &k), 1);
	assert_int_equal(k.family, 4);
	assert_int_equal(k.sport, 40000);
	assert_int_equal(k.dport, 80);
	assert_int_equal(k.seq, 1000);
	assert_int_equal(k.tcp_flags, DET_TCP_PSH | DET_TCP_ACK);
	assert_int_equal(k.plen, 16);
	assert_memory_equal(k.payload, "GET / HTTP/1.1\r\n", 16);
	assert_memory_equal(k.src, "\x0a\x00\x00\x01", 4);
	/* Ethernet padding after the IP datagram is not payload */
	memset(f + n, 0, 20);
	assert_int_equal(det_pkt_decode(d, DET_DLT_EN10MB, 5, f, n + 20, &k),
	    1);
	assert_int_equal(k.plen, 16);
	/* every prefix: no segment, no over-read */
	for (i = 0; i < n; i++)
		assert_int_equal(decode(d, DET_DLT_EN10MB, f, i, &k),
		    i >= 14 + 20 + 20 ? 1 : 0);
	/* a prefix cut inside the payload or the TCP header is a snap cut */
	assert_true(det_pkt_counters(d)->snap_cut > 0);
	assert_int_equal(det_pkt_counters(d)->tcp_bad, 0);
	det_pkt_dec_free(d);
}

static void
test_links(void **state)
{
	struct det_pkt_dec *d;
	struct det_pkt k;
	uint8_t f[256], ip[128];
	size_t n, ipn;

	(void)state;
	assert_int_equal(det_pkt_dec_new(NULL, &d), 0);
	ipn = mk_ip4(ip, mk_tcp(ip + 20, 1, 2, 3, 0x10, "x"), 1, 0);

	/* QinQ: 802.1ad outer, 802.1Q inner */
	n = 12;
	memset(f, 2, 12);
	n += put16(f + n, 0x88a8);
	n += put16(f + n, 100);
	n += put16(f + n, 0x8100);
	n += put16(f + n, 10);
	n += put16(f + n, 0x0800);
	memcpy(f + n, ip, ipn);
	assert_int_equal(decode(d, DET_DLT_EN10MB, f, n + ipn, &k), 1);
	assert_int_equal(det_pkt_counters(d)->vlan, 1);

	/* five tags is too many */
	n = 12;
	for (int i = 0; i < 5; i++) {
		n += put16(f + n, 0x8100);
		n += put16(f + n, 1);
	}
	n += put16(f + n, 0x0800);
	memcpy(f + n, ip, ipn);
	assert_int_equal(decode(d, DET_DLT_EN10MB, f, n + ipn, &k), 0);
	assert_int_equal(det_pkt_counters(d)->link_bad, 1);

	/* Linux cooked v1: protocol at offset 14 */
	memset(f, 0, 16);
	put16(f + 14, 0x0800);
	memcpy(f + 16, ip, ipn);
	assert_int_equal(decode(d, DET_DLT_LINUX_SLL, f, 16 + ipn, &k), 1);
	/* v2: protocol first, 20 bytes */
	memset(f, 0, 20);
	put16(f, 0x0800);
	memcpy(f + 20, ip, ipn);
	assert_int_equal(decode(d, DET_DLT_LINUX_SLL2, f, 20 + ipn, &k), 1);
	/* null: host order of the capturing machine, either way */
	memcpy(f, "\x02\x00\x00\x00", 4);
	memcpy(f + 4, ip, ipn);
	assert_int_equal(decode(d, DET_DLT_NULL, f, 4 + ipn, &k), 1);
	memcpy(f, "\x00\x00\x00\x02", 4);
	assert_int_equal(decode(d, DET_DLT_NULL, f, 4 + ipn, &k), 1);
	/* loop: network order */
	assert_int_equal(decode(d, DET_DLT_LOOP, f, 4 + ipn, &k), 1);
	/* raw: LINKTYPE_RAW and DLT_RAW of most systems and of OpenBSD */
	assert_int_equal(decode(d, DET_DLT_RAW_LINUX, ip, ipn, &k), 1);
	assert_int_equal(decode(d, DET_DLT_RAW, ip, ipn, &k), 1);
	assert_int_equal(decode(d, DET_DLT_RAW_OBSD, ip, ipn, &k), 1);
	/*
	 * Total length 0 (segmentation offload, captured on the sender): the
	 * captured length; a fragment with length 0 stays bad.
	 */
	put16(ip + 2, 0);
	assert_int_equal(decode(d, DET_DLT_RAW, ip, ipn, &k), 1);
	assert_int_equal(k.plen, 1);
	assert_int_equal(det_pkt_counters(d)->ip_len0, 1);
	put16(ip + 6, 0x2000);
	assert_int_equal(decode(d, DET_DLT_RAW, ip, ipn, &k), 0);
	assert_int_equal(det_pkt_counters(d)->ip_bad, 1);
	put16(ip + 6, 0);
	put16(ip + 2, (unsigned)ipn);
	/* ARP and unknown link types are counted, not decoded */
	mk_eth(f, 0x0806);
	assert_int_equal(decode(d, DET_DLT_EN10MB, f, 60, &k), 0);
	assert_int_equal(det_pkt_counters(d)->not_ip, 1);
	assert_int_equal(decode(d, 999, f, 60, &k), 0);
	assert_int_equal(det_pkt_counters(d)->link_unsupported, 1);
	det_pkt_dec_free(d);
}

/* IPv6 header with ext[0..extn) chain then nh_last upper. */
static size_t
mk_ip6(uint8_t *p, uint8_t nh, const uint8_t *ext, size_t extn,
    const uint8_t *up, size_t upn)
{
	memset(p, 0, 40);
	p[0] = 0x60;
	put16(p + 4, (unsigned)(extn + upn));
	p[6] = nh;
	p[7] = 64;
	p[23] = 1;
	p[39] = 2;
	if (extn > 0)		/* ext may be NULL */
		memcpy(p + 40, ext, extn);
	memcpy(p + 40 + extn, up, upn);
	return 40 + extn + upn;
}

static void
test_ipv6_ext(void **state)
{
	struct det_pkt_dec *d;
	struct det_pkt k;
	uint8_t f[512], t[64], ext[128];
	size_t tn, n, i;

	(void)state;
	assert_int_equal(det_pkt_dec_new(NULL, &d), 0);
	tn = mk_tcp(t, 5, 6, 7, 0x10, "v6");
	/* hop-by-hop -> destination options -> TCP */
	memset(ext, 0, sizeof(ext));
	ext[0] = 60;	/* next: dest opts */
	ext[1] = 0;
	ext[8] = 6;	/* next: TCP */
	ext[9] = 1;	/* 16 bytes */
	n = mk_ip6(f, 0, ext, 24, t, tn);
	assert_int_equal(decode(d, DET_DLT_IPV6, f, n, &k), 1);
	assert_int_equal(k.family, 6);
	assert_int_equal(k.plen, 2);
	assert_int_equal(k.sport, 5);
	/* every prefix */
	for (i = 0; i < n; i++)
		(void)decode(d, DET_DLT_IPV6, f, i, &k);
	/* nine extension headers: walked, as a host does */
	for (i = 0; i < 9; i++) {
		ext[i * 8] = i == 8 ? 6 : 60;
		ext[i * 8 + 1] = 0;
	}
	n = mk_ip6(f, 0, ext, 72, t, tn);
	assert_int_equal(decode(d, DET_DLT_IPV6, f, n, &k), 1);
	assert_int_equal(k.sport, 5);
	/* a chain that runs past the packet: refused */
	n = mk_ip6(f, 0, ext, 72, t, tn);
	f[40 + 64 + 1] = 200;	/* the last header claims 1608 bytes */
	assert_int_equal(decode(d, DET_DLT_IPV6, f, n, &k), 0);
	assert_true(det_pkt_counters(d)->ip6_ext_bad >= 1);
	/* UDP is counted as not TCP */
	n = mk_ip6(f, 17, NULL, 0, t, 8);
	assert_int_equal(decode(d, DET_DLT_IPV6, f, n, &k), 0);
	assert_true(det_pkt_counters(d)->not_tcp >= 1);
	/* IPv6 fragments, second first */
	{
		uint8_t fh[8];
		uint8_t up[64];
		size_t upn = mk_tcp(up, 9, 10, 11, 0x10, "fragmented-v6-data");

		fh[0] = 6;
		fh[1] = 0;
		put16(fh + 2, 16);		/* offset 16, last */
		put32(fh + 4, 77);
		n = mk_ip6(f, 44, fh, 8, up + 16, upn - 16);
		assert_int_equal(decode(d, DET_DLT_IPV6, f, n, &k), 0);
		put16(fh + 2, 0 | 1);		/* offset 0, more */
		n = mk_ip6(f, 44, fh, 8, up, 16);
		assert_int_equal(decode(d, DET_DLT_IPV6, f, n, &k), 1);
		assert_true(k.reassembled);
		assert_int_equal(k.plen, strlen("fragmented-v6-data"));
		assert_memory_equal(k.payload, "fragmented-v6-data", k.plen);
	}
	/* Fragment header, then destination options (8 bytes), then TCP. */
	{
		uint8_t fh[8];
		uint8_t up[96];
		size_t upn;

		memset(up, 0, 8);
		up[0] = 6;	/* dest opts: next TCP, 8 bytes */
		upn = 8 + mk_tcp(up + 8, 12, 13, 14, 0x10, "frag-dstopts");
		fh[0] = 60;
		fh[1] = 0;
		put16(fh + 2, 24);		/* offset 24, last */
		put32(fh + 4, 78);
		n = mk_ip6(f, 44, fh, 8, up + 24, upn - 24);
		assert_int_equal(decode(d, DET_DLT_IPV6, f, n, &k), 0);
		put16(fh + 2, 0 | 1);		/* offset 0, more */
		n = mk_ip6(f, 44, fh, 8, up, 24);
		assert_int_equal(decode(d, DET_DLT_IPV6, f, n, &k), 1);
		assert_int_equal(k.sport, 12);
		assert_int_equal(k.plen, strlen("frag-dstopts"));
		assert_memory_equal(k.payload, "frag-dstopts", k.plen);
	}
	det_pkt_dec_free(d);
}

/* Fragment of the IPv4 datagram whose upper part is up[0..upn). */
static size_t
mk_frag4(uint8_t *f, const uint8_t *up, size_t off, size_t n, bool more,
    uint16_t id)
{
	memcpy(f + 20, up + off, n);
	return mk_ip4(f, n, id, (more ? 0x2000 : 0) | (unsigned)(off / 8));
}

static void
test_ipv4_fragments(void **state)
{
	struct det_pkt_dec *d;
	struct det_pkt_limits lim;
	struct det_pkt k;
	uint8_t up[128], f[256], evil[16];
	size_t upn, n;

	(void)state;
	det_pkt_limits_default(&lim);
	lim.max_datagrams = 2;
	assert_int_equal(det_pkt_dec_new(&lim, &d), 0);
	upn = mk_tcp(up, 1, 2, 3, 0x18, "0123456789abcdefghijklmnopqrstuvwxyz");
	/* last, middle (then a copy with other bytes), first */
	n = mk_frag4(f, up, 32, upn - 32, false, 1);
	assert_int_equal(decode(d, DET_DLT_RAW_LINUX, f, n, &k), 0);
	n = mk_frag4(f, up, 16, 16, true, 1);
	assert_int_equal(decode(d, DET_DLT_RAW_LINUX, f, n, &k), 0);
	memset(evil, 'X', sizeof(evil));
	memcpy(f + 20, evil, 16);
	mk_ip4(f, 16, 1, 0x2000 | 2);
	assert_int_equal(decode(d, DET_DLT_RAW_LINUX, f, 36, &k), 0);
	assert_int_equal(det_pkt_counters(d)->frag_overlap, 1);
	assert_int_equal(det_pkt_counters(d)->frag_overlap_diff, 1);
	n = mk_frag4(f, up, 0, 16, true, 1);
	assert_int_equal(decode(d, DET_DLT_RAW_LINUX, f, n, &k), 1);
	assert_true(k.reassembled);
	assert_int_equal(k.plen, 36);
	assert_memory_equal(k.payload, "0123456789abcdefghijklmnopqrstuvwxyz",
	    36);	/* the first copy won */
	assert_int_equal(det_pkt_counters(d)->frag_reassembled, 1);

	/* A partial overlap discards the datagram, as the host does; the
	 * fragments sent again make it whole. */
	n = mk_frag4(f, up, 0, 16, true, 7);
	assert_int_equal(decode(d, DET_DLT_RAW_LINUX, f, n, &k), 0);
	memcpy(f + 20, evil, 16);
	mk_ip4(f, 16, 7, 0x2000 | 1);	/* [8, 24) */
	assert_int_equal(decode(d, DET_DLT_RAW_LINUX, f, 36, &k), 0);
	assert_int_equal(det_pkt_counters(d)->frag_discarded, 1);
	assert_int_equal(det_pkt_counters(d)->frag_overlap_diff, 2);
	n = mk_frag4(f, up, 16, upn - 16, false, 7);
	assert_int_equal(decode(d, DET_DLT_RAW_LINUX, f, n, &k), 0);
	n = mk_frag4(f, up, 0, 16, true, 7);
	assert_int_equal(decode(d, DET_DLT_RAW_LINUX, f, n, &k), 1);
	assert_memory_equal(k.payload, "0123456789abcdefghijklmnopqrstuvwxyz",
	    36);
	assert_int_equal(det_pkt_counters(d)->frag_reassembled, 2);

	/* a middle fragment whose length is not a multiple of 8 */
	n = mk_frag4(f, up, 0, 12, true, 2);
	assert_int_equal(decode(d, DET_DLT_RAW_LINUX, f, n, &k), 0);
	assert_int_equal(det_pkt_counters(d)->frag_bad, 1);
	/* data beyond the last fragment's end */
	n = mk_frag4(f, up, 8, 8, false, 3);
	assert_int_equal(decode(d, DET_DLT_RAW_LINUX, f, n, &k), 0);
	n = mk_frag4(f, up, 16, 8, true, 3);
	assert_int_equal(decode(d, DET_DLT_RAW_LINUX, f, n, &k), 0);
	assert_int_equal(det_pkt_counters(d)->frag_bad, 2);
	/* a third datagram in progress evicts the oldest (cap 2) */
	n = mk_frag4(f, up, 0, 8, true, 4);
	assert_int_equal(decode(d, DET_DLT_RAW_LINUX, f, n, &k), 0);
	n = mk_frag4(f, up, 0, 8, true, 5);
	assert_int_equal(decode(d, DET_DLT_RAW_LINUX, f, n, &k), 0);
	assert_true(det_pkt_counters(d)->frag_evicted >= 1);
	/* and the rest time out */
	det_pkt_expire(d, 1000000 + lim.frag_timeout_us + 1);
	assert_int_equal(det_pkt_counters(d)->frag_timeout, 2);
	det_pkt_dec_free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ethernet_ipv4),
		cmocka_unit_test(test_links),
		cmocka_unit_test(test_ipv6_ext),
		cmocka_unit_test(test_ipv4_fragments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
