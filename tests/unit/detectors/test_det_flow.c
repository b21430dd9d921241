/*
 * Unit tests for detectors/det_flow.c: both directions find one flow, the
 * SYN names the client, bytes reach the application per endpoint, RST and
 * FIN end flows, idle flows expire, and the max_flows cap evicts the least
 * recently active flow (counted, flushed through the application). An RST
 * outside the window is ignored, a SYN with a new ISN starts a new flow,
 * and without a handshake the lower port is the server.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "detectors/det_flow.h"

struct rec {
	size_t		bytes[2];
	unsigned	fins;
	int		first_from;	/* endpoint of the first bytes */
	bool		first_client;	/* ... was the flow's client */
	unsigned	ends[DET_FLOW_END_REUSE + 1];
	uint64_t	last_end_id;
};

static void
app_data(void *ctx, struct det_flow *f, int from, uint64_t off,
    const uint8_t *p, size_t n)
{
	struct rec *r = ctx;

	(void)off;
	if (p != NULL) {
		if (r->bytes[0] + r->bytes[1] == 0) {
			r->first_from = from;
			r->first_client = from == f->client;
		}
		r->bytes[from] += n;
	}
}

static void
app_fin(void *ctx, struct det_flow *f, int from)
{
	struct rec *r = ctx;

	(void)f;
	(void)from;
	r->fins++;
}

static void
app_end(void *ctx, struct det_flow *f, enum det_flow_end why)
{
	struct rec *r = ctx;

	r->ends[why]++;
	r->last_end_id = f->id;
}

static struct det_pkt
pkt(uint8_t client_last, uint16_t cport, bool to_server, uint32_t seq,
    uint32_t ack, uint8_t flags, const char *data, uint64_t ts)
{
	struct det_pkt k;
	uint8_t c[16] = { 10, 0, 0, client_last }, s[16] = { 10, 0, 0, 200 };

	memset(&k, 0, sizeof(k));
	k.family = 4;
	k.ts_us = ts;
	memcpy(to_server ? k.src : k.dst, c, 16);
	memcpy(to_server ? k.dst : k.src, s, 16);
	k.sport = to_server ? cport : 80;
	k.dport = to_server ? 80 : cport;
	k.seq = seq;
	k.ack = ack;
	k.tcp_flags = flags;
	k.payload = (const uint8_t *)data;
	k.plen = k.wire_plen = data ? strlen(data) : 0;
	return k;
}

static struct det_flow_table *
table(struct rec *r, size_t max_flows)
{
	struct det_flow_limits lim;
	struct det_flow_app app = { app_data, app_fin, app_end, r };
	struct det_flow_table *t;

	det_flow_limits_default(&lim);
	lim.max_flows = max_flows;
	assert_int_equal(det_flow_table_new(&lim, &app, &t), 0);
	return t;
}

static void
test_one_connection(void **state)
{
	struct rec r;
	struct det_flow_table *t;
	struct det_pkt k;

	(void)state;
	memset(&r, 0, sizeof(r));
	t = table(&r, 16);
	k = pkt(1, 40000, true, 100, 0, DET_TCP_SYN, NULL, 1);
	assert_int_equal(det_flow_packet(t, &k), 0);
	k = pkt(1, 40000, false, 900, 101, DET_TCP_SYN | DET_TCP_ACK, NULL, 2);
	det_flow_packet(t, &k);
	k = pkt(1, 40000, true, 101, 901, DET_TCP_ACK, "hello", 3);
	det_flow_packet(t, &k);
	k = pkt(1, 40000, false, 901, 106, DET_TCP_ACK, "world!", 4);
	det_flow_packet(t, &k);
	assert_int_equal(det_flow_counters(t)->created, 1);
	assert_int_equal(det_flow_counters(t)->active, 1);
	assert_int_equal(r.bytes[0] + r.bytes[1], 11);
	/* FIN both ways ends the flow */
	k = pkt(1, 40000, true, 106, 907, DET_TCP_FIN | DET_TCP_ACK, NULL, 5);
	det_flow_packet(t, &k);
	k = pkt(1, 40000, false, 907, 107, DET_TCP_FIN | DET_TCP_ACK, NULL, 6);
	det_flow_packet(t, &k);
	assert_int_equal(r.fins, 2);
	assert_int_equal(r.ends[DET_FLOW_END_CLOSE], 1);
	assert_int_equal(det_flow_counters(t)->active, 0);
	/* a late ACK creates nothing */
	k = pkt(1, 40000, true, 107, 908, DET_TCP_ACK, NULL, 7);
	assert_int_equal(det_flow_packet(t, &k), -1);
	assert_int_equal(det_flow_counters(t)->no_flow, 1);
	det_flow_table_free(t);
}

static void
test_rst_idle_evict(void **state)
{
	struct rec r;
	struct det_flow_table *t;
	struct det_pkt k;
	uint16_t port;

	(void)state;
	memset(&r, 0, sizeof(r));
	t = table(&r, 3);
	/* RST ends a flow at once */
	k = pkt(1, 1000, true, 1, 0, DET_TCP_SYN, NULL, 1);
	det_flow_packet(t, &k);
	k = pkt(1, 1000, false, 0, 0, DET_TCP_RST, NULL, 2);
	det_flow_packet(t, &k);
	assert_int_equal(r.ends[DET_FLOW_END_RST], 1);
	/* a fourth flow evicts the least recently active of three */
	for (port = 2000; port < 2003; port++) {
		k = pkt(2, port, true, 1, 0, DET_TCP_SYN, NULL, 10 + port);
		det_flow_packet(t, &k);
	}
	k = pkt(2, 2000, true, 2, 0, DET_TCP_ACK, "x", 5000);  /* touch */
	det_flow_packet(t, &k);
	k = pkt(3, 3000, true, 1, 0, DET_TCP_SYN, NULL, 5001);
	det_flow_packet(t, &k);
	assert_int_equal(det_flow_counters(t)->evicted, 1);
	assert_int_equal(r.ends[DET_FLOW_END_EVICT], 1);
	assert_int_equal(det_flow_counters(t)->active, 3);
	/* the evicted one was port 2001, the oldest untouched: flow id 3 */
	assert_int_equal(r.last_end_id, 3);
	/* all idle after the timeout */
	det_flow_expire(t, 5001 + 121ull * 1000000);
	assert_int_equal(r.ends[DET_FLOW_END_IDLE], 3);
	assert_int_equal(det_flow_counters(t)->active, 0);
	/* open at the end of capture: ended_shutdown; every flow is counted */
	k = pkt(4, 4000, true, 1, 0, DET_TCP_SYN, NULL, 200000000);
	det_flow_packet(t, &k);
	det_flow_flush(t);
	{
		const struct det_flow_counters *c = det_flow_counters(t);

		assert_int_equal(c->ended_shutdown, 1);
		assert_int_equal(c->created, c->ended_close + c->ended_rst +
		    c->ended_idle + c->evicted + c->ended_reuse +
		    c->ended_shutdown + c->active);
	}
	det_flow_table_free(t);
}

/* Red team: spoofed_rst, syn_newisn, reuse_half_closed. */
static void
test_spoofed_rst_and_reuse(void **state)
{
	struct rec r;
	struct det_flow_table *t;
	struct det_pkt k;

	(void)state;
	memset(&r, 0, sizeof(r));
	t = table(&r, 16);
	k = pkt(1, 40000, true, 100, 0, DET_TCP_SYN, NULL, 1);
	det_flow_packet(t, &k);
	k = pkt(1, 40000, false, 900, 101, DET_TCP_SYN | DET_TCP_ACK, NULL, 2);
	k.win = 65535;
	det_flow_packet(t, &k);
	k = pkt(1, 40000, true, 101, 901, DET_TCP_ACK, "hello", 3);
	k.win = 65535;
	det_flow_packet(t, &k);
	k = pkt(1, 40000, false, 901, 106, DET_TCP_ACK, "world!", 4);
	k.win = 65535;
	det_flow_packet(t, &k);
	/* an RST from the client 500000 past its next byte: ignored */
	k = pkt(1, 40000, true, 106 + 500000, 0, DET_TCP_RST, NULL, 5);
	assert_int_equal(det_flow_packet(t, &k), -1);
	assert_int_equal(det_flow_counters(t)->rst_ignored, 1);
	assert_int_equal(det_flow_counters(t)->active, 1);
	k = pkt(1, 40000, false, 907, 106, DET_TCP_ACK, "more", 6);
	det_flow_packet(t, &k);
	assert_int_equal(r.bytes[1], 10);
	/* a SYN retransmission changes nothing */
	k = pkt(1, 40000, true, 100, 0, DET_TCP_SYN, NULL, 7);
	det_flow_packet(t, &k);
	assert_int_equal(det_flow_counters(t)->created, 1);
	/* a SYN with an ISN 2^31 away: a new connection */
	k = pkt(1, 40000, true, 0x80000000u, 0, DET_TCP_SYN, NULL, 8);
	det_flow_packet(t, &k);
	assert_int_equal(r.ends[DET_FLOW_END_REUSE], 1);
	assert_int_equal(det_flow_counters(t)->ended_reuse, 1);
	assert_int_equal(det_flow_counters(t)->created, 2);
	k = pkt(1, 40000, false, 7000, 0x80000001u, DET_TCP_SYN | DET_TCP_ACK,
	    NULL, 9);
	det_flow_packet(t, &k);
	k = pkt(1, 40000, true, 0x80000001u, 7001, DET_TCP_ACK, "again", 10);
	k.win = 65535;
	det_flow_packet(t, &k);
	assert_int_equal(r.bytes[0], 10);
	/* an RST at the next byte is honoured */
	k = pkt(1, 40000, false, 7001, 0, DET_TCP_RST, NULL, 11);
	det_flow_packet(t, &k);
	assert_int_equal(r.ends[DET_FLOW_END_RST], 1);
	assert_int_equal(det_flow_counters(t)->active, 0);

	/* half closed (server FIN), then a SYN with a near ISN: new flow */
	k = pkt(2, 40001, true, 100, 0, DET_TCP_SYN, NULL, 20);
	det_flow_packet(t, &k);
	k = pkt(2, 40001, false, 900, 101, DET_TCP_SYN | DET_TCP_ACK, NULL, 21);
	det_flow_packet(t, &k);
	k = pkt(2, 40001, false, 901, 101, DET_TCP_FIN | DET_TCP_ACK, NULL,
	    22);
	det_flow_packet(t, &k);
	k = pkt(2, 40001, true, 5000, 0, DET_TCP_SYN, NULL, 23);
	det_flow_packet(t, &k);
	assert_int_equal(r.ends[DET_FLOW_END_REUSE], 2);
	assert_int_equal(det_flow_counters(t)->active, 1);
	det_flow_table_free(t);
}

/* Red team: mid_raw_server_first. No handshake: the server (port 80)
   speaks first, and is still the server. */
static void
test_midstream_roles_by_port(void **state)
{
	struct rec r;
	struct det_flow_table *t;
	struct det_pkt k;

	(void)state;
	memset(&r, 0, sizeof(r));
	t = table(&r, 16);
	k = pkt(1, 40000, false, 900, 101, DET_TCP_ACK, "REC 1\n", 1);
	det_flow_packet(t, &k);
	assert_false(r.first_client);
	det_flow_table_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_connection),
		cmocka_unit_test(test_rst_idle_evict),
		cmocka_unit_test(test_spoofed_rst_and_reuse),
		cmocka_unit_test(test_midstream_roles_by_port),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
