/*
 * det_sensor: the gerbang-sensor pipeline without its I/O:
 *
 *   frame -> det_pkt (link, IP, fragments, TCP) -> det_flow (table,
 *   reassembly) -> det_flow_http (HTTP/1.1, pairing, scanning) -> handler
 *
 * det_sensor.c runs the pipeline over frames handed in by anyone (the
 * capture loop in det_sensor_cap.c, the fuzz target, the tests), writes
 * transactions as JSON lines and the health counters as JSON.
 * det_sensor_cap.c opens a live or offline libpcap capture, drops
 * privileges and runs the loop.
 *
 * Seams for what comes next (issue 7):
 *   - det_sensor_set_handler(): every transaction (struct det_sensor_txn)
 *     goes to one handler; thresholds and the alert store attach there.
 *     det_sensor_txn_json() is the default handler's writer.
 *   - det_sensor_set_decoder(): the body decoder for Content-Encoding
 *     (struct det_body_decoder); without it compressed bodies are counted
 *     as not inspected.
 *   - txn->consumer: the raw X-Gerbang-Consumer value, not yet verified.
 *
 * A sensor belongs to one thread; det_sensor_cap_stop() alone may be called
 * from a signal handler.
 */
#ifndef DET_SENSOR_H
#define DET_SENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/gb_buf.h"
#include "detectors/det_flow.h"
#include "detectors/det_flow_http.h"
#include "detectors/det_pkt.h"
#include "detectors/det_scan.h"

struct det_sensor_conf {
	struct det_pkt_limits	 pkt;
	struct det_flow_limits	 flow;
	size_t			 head_memcap;	/* HTTP heads; 64 MiB */
	const char		*sensor_id;	/* in output; borrowed */
	FILE			*json;		/* transactions; NULL: none */
	bool			 json_all;	/* also without findings */
	unsigned		 layers;	/* DET_DEC_TEXT bits on bodies;
						   DET_DEC_TEXT by default */
	size_t			 max_decoders;	/* bodies decoded at once (gzip,
						   deflate, text layers); 4096;
						   0: no decoding */
};

/* Capture-side counters, filled by det_sensor_cap.c (pcap_stats). */
struct det_sensor_capstats {
	bool		live;
	uint64_t	received;	/* ps_recv */
	uint64_t	dropped;	/* ps_drop: kernel buffer full */
	uint64_t	if_dropped;	/* ps_ifdrop */
};

struct det_sensor;

/* --- det_sensor.c --- */

void	det_sensor_conf_default(struct det_sensor_conf *conf);

/*
 * A sensor over scanner sc (borrowed, must outlive it). conf is copied
 * (conf->json and conf->sensor_id stay borrowed). Returns 0 with *out set
 * (caller owns, det_sensor_free()), or -1 when memory is short.
 */
int	det_sensor_new(const struct det_sensor_conf *conf,
	    const struct det_scanner *sc, struct det_sensor **out);
/* Flushes every flow (their transactions go to the handler), then frees. */
void	det_sensor_free(struct det_sensor *s);

/*
 * Replace the transaction handler (default: the JSON writer, when
 * conf->json is set). cb NULL restores the default.
 */
void	det_sensor_set_handler(struct det_sensor *s, det_sensor_txn_cb *cb,
	    void *arg);
/*
 * The detection stage (det_alert.h): finding(txn, where, f, arg) for every
 * finding as it is made, txn(t, arg) for every transaction before the
 * handler. NULLs: none.
 */
void	det_sensor_set_detector(struct det_sensor *s, det_finding_hook *finding,
	    det_sensor_txn_cb *txn, void *arg);
/* Plug in a body decoder for other codings (copied; NULL: none). */
void	det_sensor_set_decoder(struct det_sensor *s,
	    const struct det_body_decoder *dec);

/*
 * One captured frame: link type dlt, capture time ts_us, bytes
 * p[0..caplen) (borrowed for the call). Never fails: what cannot be used
 * is counted.
 */
void	det_sensor_frame(struct det_sensor *s, int dlt, uint64_t ts_us,
	    const uint8_t *p, size_t caplen);

/*
 * Let time pass without a frame (a quiet live capture): expire idle flows
 * and fragments as of now_us (the capture clock: wall time when live).
 */
void	det_sensor_tick(struct det_sensor *s, uint64_t now_us);

/* End of input: flush every flow (timeouts use capture time, so an
   offline file ends with its flows still open). */
void	det_sensor_finish(struct det_sensor *s);

/*
 * Write txn as one JSON line (with the newline) to out: times, 5-tuple
 * (src is the client), method, host, path (masked), status, bytes, counts
 * per type, masked samples, consumer header, flags. Returns 0 or -1.
 */
int	det_sensor_txn_json(struct gb_buf *out, const struct det_sensor_txn *t,
	    const char *sensor_id);

/*
 * The health counters of every layer as one JSON object line (cap may be
 * NULL). Returns 0 or -1.
 */
int	det_sensor_stats_json(const struct det_sensor *s,
	    const struct det_sensor_capstats *cap, struct gb_buf *out);

/* Push buffered transaction lines to conf->json (fflush). */
void	det_sensor_flush(struct det_sensor *s);

/* Frames seen, and transactions handed to the handler. */
uint64_t det_sensor_frames(const struct det_sensor *s);
uint64_t det_sensor_txns(const struct det_sensor *s);

/* --- det_sensor_cap.c --- */

struct det_sensor_cap;

struct det_capture_conf {
	const char	*iface;		/* live: interface, "any" */
	const char	*file;		/* or offline: pcap / pcapng, "-" */
	const char	*filter;	/* BPF; NULL: none */
	int		 snaplen;	/* 262144 */
	int		 buffer;	/* kernel buffer bytes; 32 MiB */
	bool		 promisc;	/* true */
	bool		 immediate;	/* false */
};

/*
 * Open the capture (live or offline) and apply the filter. err (size
 * errlen) gets the reason on failure. Returns 0 with *out set (caller owns,
 * det_sensor_cap_close()), or -1.
 */
int	det_sensor_cap_open(const struct det_capture_conf *cc,
	    struct det_sensor_cap **out, char *err, size_t errlen);
void	det_sensor_cap_close(struct det_sensor_cap *c);
/* The link type (DLT_*) of the open capture. */
int	det_sensor_cap_dlt(const struct det_sensor_cap *c);

/*
 * Run until the file ends or det_sensor_cap_stop(). Every stats_ms of
 * wall time (0: never) the counters are logged at info; a drop rate over
 * drop_warn_pct percent of received packets since the last report is a
 * warning. Returns 0, or -1 on a capture error (logged).
 */
int	det_sensor_cap_run(struct det_sensor_cap *c, struct det_sensor *s,
	    uint64_t stats_ms, double drop_warn_pct);
/*
 * Live captures: called about once a second from det_sensor_cap_run() with
 * the capture counters, the wall clock (us) and the monotonic clock (ms):
 * health checks and the alert store's group commit hang here.
 */
typedef void det_sensor_tick_cb(const struct det_sensor_capstats *cs,
	    uint64_t wall_us, uint64_t mono_ms, void *arg);
void	det_sensor_cap_set_tick(struct det_sensor_cap *c,
	    det_sensor_tick_cb *cb, void *arg);
/* Async-signal-safe: make det_sensor_cap_run() return soon. */
void	det_sensor_cap_stop(struct det_sensor_cap *c);
/* pcap_stats() of a live capture (zeros offline). */
void	det_sensor_cap_stats(struct det_sensor_cap *c,
	    struct det_sensor_capstats *st);


#endif /* DET_SENSOR_H */
