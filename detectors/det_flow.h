/*
 * det_flow: the sensor's flow table. One entry per TCP connection, found by
 * a hash of its 5-tuple keyed with a random key (no hash flooding), with
 * a reassembling half (det_tcp.h) per direction and an application layer
 * (the HTTP observer, det_flow_http.h) plugged in through struct
 * det_flow_app.
 *
 * Bounded: at most max_flows entries and memcap bytes (entries plus queued
 * out-of-order bytes); a new connection beyond a cap evicts the least
 * recently active one, which is flushed (holes handed out as gaps) and
 * counted. Idle flows expire after idle_timeout; a flow ends after RST or
 * when both directions are closed by FIN.
 *
 * Spoofing and reuse (a passive observer cannot ask, so it checks what a
 * receiver would): an RST ends a flow only when its sequence number is
 * the next byte expected from its sender (RFC 5961 3.2: next_seq, or the
 * end of the bytes seen past a hole, each + 1 after a FIN); others are
 * counted (rst_ignored) and dropped, as a receiver answers them with a
 * challenge ACK. The window is the receiver's (RFC 5961: from next_seq to
 * next_seq + the last window the other side advertised, scaled when both
 * SYNs carried the option; 65535 << 7 when unknown). A SYN without ACK on a
 * tracked flow with another ISN starts a new connection (the old one
 * ends, DET_FLOW_END_REUSE) when the old one was closing or the ISN lies
 * outside that window; otherwise it is counted (syn_reuse) and ignored.
 * Without a handshake the client is the endpoint with the higher port
 * (the lower, well-known one listens) until the application layer knows.
 *
 * A table and its flows belong to one thread.
 */
#ifndef DET_FLOW_H
#define DET_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "detectors/det_pkt.h"
#include "detectors/det_tcp.h"

/* Why a flow ended. */
enum det_flow_end {
	DET_FLOW_END_CLOSE = 0,	/* FIN both ways */
	DET_FLOW_END_RST,
	DET_FLOW_END_IDLE,	/* idle timeout */
	DET_FLOW_END_EVICT,	/* evicted at a cap */
	DET_FLOW_END_SHUTDOWN,	/* end of capture, sensor stopping */
	DET_FLOW_END_REUSE,	/* a new connection on the same 5-tuple */
};

/* Endpoints are 0 and 1; a flow's key holds them in a canonical order. */
struct det_flow_key {
	uint8_t		family;		/* 4 or 6 */
	uint8_t		pad;
	uint16_t	port[2];
	uint8_t		addr[2][16];
};

struct det_flow {
	struct det_flow		*hnext;		/* hash chain */
	struct det_flow		*lprev;		/* LRU list, newest first */
	struct det_flow		*lnext;
	struct det_flow_key	 key;
	uint64_t		 id;		/* 1, 2, ... as created */
	uint64_t		 first_us;
	uint64_t		 last_us;
	uint64_t		 pkts[2];	/* sent by endpoint i */
	uint64_t		 bytes[2];	/* payload bytes sent by i */
	uint8_t			 client;	/* endpoint that opened it */
	bool			 client_known;	/* from SYN or the app layer */
	bool			 closed_seen[2]; /* app told of FIN from i */
	bool			 syn_seen[2];	/* SYN from i seen */
	bool			 win_seen[2];	/* win[i] valid */
	int8_t			 wscale[2];	/* i's SYN option; -1: none */
	uint16_t		 win[2];	/* last window i advertised */
	struct det_tcp_half	 half[2];	/* bytes sent by endpoint i */
	void			*app;		/* application-layer state */
};

/*
 * The application layer. Callbacks run inside det_flow_packet(),
 * det_flow_expire() and det_flow_flush(); they must not call back into
 * the table.
 *   data   bytes p[0..n) sent by endpoint from at stream offset off, in
 *          order; p NULL: a gap of n bytes (see det_tcp.h)
 *   fin    endpoint from closed its direction (all bytes handed out)
 *   end    the flow is going away (free f->app here)
 */
struct det_flow_app {
	void	(*data)(void *ctx, struct det_flow *f, int from, uint64_t off,
		    const uint8_t *p, size_t n);
	void	(*fin)(void *ctx, struct det_flow *f, int from);
	void	(*end)(void *ctx, struct det_flow *f, enum det_flow_end why);
	void	*ctx;
};

struct det_flow_limits {
	size_t		max_flows;	/* 262144 */
	size_t		memcap;		/* 512 MiB: entries + queued bytes */
	size_t		max_queued;	/* out-of-order bytes per direction;
					   1 MiB */
	uint64_t	idle_timeout_us; /* 120 s; 30 s once a FIN or RST */
};

struct det_flow_counters {
	uint64_t	created;
	uint64_t	active;		/* now */
	uint64_t	peak;
	uint64_t	ended_close;
	uint64_t	ended_rst;
	uint64_t	ended_idle;
	uint64_t	evicted;	/* at max_flows or memcap */
	uint64_t	no_flow;	/* RST or bare ACK without a flow */
	uint64_t	syn_reuse;	/* SYN, other ISN, live flow */
	uint64_t	ended_reuse;	/* ... that started a new flow */
	uint64_t	ended_shutdown;	/* still open at the end of capture */
	uint64_t	rst_ignored;	/* RST outside the window: dropped */
};

struct det_flow_table;

/* --- det_flow.c --- */

void	det_flow_limits_default(struct det_flow_limits *lim);

/*
 * A table. lim NULL: the defaults; app is copied. The hash key comes from
 * getrandom(2). Returns 0 with *out set (caller owns, det_flow_table_free(),
 * which ends every flow with DET_FLOW_END_SHUTDOWN), or -1.
 */
int	det_flow_table_new(const struct det_flow_limits *lim,
	    const struct det_flow_app *app, struct det_flow_table **out);
void	det_flow_table_free(struct det_flow_table *t);

/* One decoded segment (borrowed for the call). Returns 0, or -1 when it was
   dropped (counted). */
int	det_flow_packet(struct det_flow_table *t, const struct det_pkt *pkt);

/* End flows idle for longer than the timeout at now_us. */
void	det_flow_expire(struct det_flow_table *t, uint64_t now_us);

/* End every flow (end of capture), DET_FLOW_END_SHUTDOWN. */
void	det_flow_flush(struct det_flow_table *t);

/* Counters (borrowed, valid until det_flow_table_free()). */
const struct det_flow_counters *det_flow_counters(
	    const struct det_flow_table *t);
const struct det_tcp_counters *det_flow_tcp_counters(
	    const struct det_flow_table *t);
/* Bytes held now: entries plus queued out-of-order bytes. */
size_t	det_flow_mem(const struct det_flow_table *t);

/* "close", "rst", "idle", "evict", "shutdown", "reuse". */
const char *det_flow_end_str(enum det_flow_end why);

/*
 * Write endpoint i of f as "192.0.2.1" or "2001:db8::1" into buf (size
 * len >= 46). Returns buf.
 */
const char *det_flow_addr_str(const struct det_flow *f, int i, char *buf,
	    size_t len);

#endif /* DET_FLOW_H */
