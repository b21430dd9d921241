/*
 * det_flow_http: the sensor's HTTP/1.1 observer, the application layer of
 * det_flow (struct det_flow_app). It reads both directions of each
 * reassembled connection with core/gb_http in LENIENT mode (follow what it
 * cannot refuse, never misframe), pairs requests with responses (a queue
 * per flow, so pipelining works), scans bodies with det_stream (one
 * document per message, reset between) and hands each finished transaction
 * to a handler.
 *
 *   recognition   a direction is HTTP when its first bytes parse as a
 *                 request or a status line, on any port; anything else
 *                 (HTTP/2 prior knowledge included) is scanned raw as one
 *                 document per direction
 *   framing       Content-Length, chunked, read-until-close; HEAD, 1xx,
 *                 204, 304 have no body; 1xx heads are skipped; 101 and a
 *                 2xx answer to CONNECT turn the connection into a raw
 *                 tunnel
 *   gaps          inside a Content-Length body the framing survives (the
 *                 bytes are counted missing); anywhere else the direction
 *                 resynchronises at the next line that starts a request
 *                 ("GET ", "POST ", ...) or a response ("HTTP/1.")
 *   codings       a body with a Content-Encoding goes through the body
 *                 decoder (struct det_body_decoder) when one is set and it
 *                 accepts the coding; otherwise it is not inspected, and
 *                 counted so (not_inspected), never silently skipped
 *
 * Bounded: at most 32 requests wait for answers per connection and 65536
 * over all (beyond that the oldest of the connection is given up, counted
 * in queue_overflow), heads are held up to 64 KiB each and head_memcap in
 * all, one det_stream per direction.
 *
 * Nothing here logs: values are counted, and samples are masked
 * (core/gb_mask) before they are stored in a transaction. The request
 * target is scanned too, and identifiers in it are masked in txn->path.
 *
 * An observer belongs to the thread that runs its flow table.
 */
#ifndef DET_FLOW_HTTP_H
#define DET_FLOW_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "detectors/det_decode.h"
#include "detectors/det_flow.h"
#include "detectors/det_scan.h"

#define DET_TXN_METHOD_MAX	16
#define DET_TXN_HOST_MAX	128
#define DET_TXN_PATH_MAX	256
#define DET_TXN_CONSUMER_MAX	256
#define DET_TXN_CODING_MAX	32
#define DET_TXN_SAMPLES		4

/* The header carrying the gateway's consumer identity (signed later). */
#define DET_CONSUMER_HEADER	"X-Gerbang-Consumer"

enum det_txn_kind {
	DET_TXN_HTTP = 0,	/* a request and/or its response */
	DET_TXN_RAW,		/* a non-HTTP connection, scanned raw */
};

/* Transaction flags. */
#define DET_TXN_F_GAP		0x001	/* bytes missing: counts are a floor */
#define DET_TXN_F_NO_REQUEST	0x002	/* request not seen */
#define DET_TXN_F_NO_RESPONSE	0x004	/* request never answered in capture */
#define DET_TXN_F_NOT_INSPECTED	0x008	/* a body coding we could not decode */
#define DET_TXN_F_TRUNCATED	0x010	/* message cut (flow ended inside) */
#define DET_TXN_F_ANOMALY	0x020	/* LENIENT took what STRICT refuses */
#define DET_TXN_F_CUT		0x040	/* a string was shortened */
#define DET_TXN_F_PARSE_ERROR	0x080	/* a body framing error ended it */
#define DET_TXN_F_TUNNEL	0x100	/* 101 / CONNECT: raw from here on */

/*
 * Decode flags as "GAP|NO_REQUEST" ("0" when none) into buf (size len,
 * always NUL-terminated when len > 0). Returns buf.
 */
const char *det_txn_flags_str(unsigned flags, char *buf, size_t len);

/* One finding kept as a sample: masked, never in clear. */
struct det_txn_sample {
	enum det_type	 type;
	bool		 in_request;
	char		 masked[DET_VALUE_MAX];
};

/*
 * One transaction, handed to the handler (borrowed, valid until it
 * returns). Strings are NUL-terminated copies, cut to their buffers (flag
 * CUT). For DET_TXN_RAW, req_* is what the client sent and resp_* what the
 * server sent.
 */
struct det_sensor_txn {
	enum det_txn_kind	 kind;
	const struct det_flow	*flow;		/* key, id, client endpoint */
	uint64_t		 seq;		/* 1, 2, ... per flow: (flow id,
						   seq) names a transaction */
	uint64_t		 ts_req_us;	/* first byte of the request */
	uint64_t		 ts_resp_us;	/* of the response; 0: none */
	char			 method[DET_TXN_METHOD_MAX];
	char			 host[DET_TXN_HOST_MAX];
	char			 path[DET_TXN_PATH_MAX];	/* masked */
	char			 consumer[DET_TXN_CONSUMER_MAX];
	bool			 has_consumer;	/* header present (may be "") */
	char			 coding[DET_TXN_CODING_MAX]; /* response's
						   Content-Encoding, or "" */
	int			 status;	/* 0: no response */
	uint64_t		 req_bytes;	/* head + body as framed */
	uint64_t		 resp_bytes;
	uint64_t		 req_body;	/* body bytes (encoded) */
	uint64_t		 resp_body;
	uint32_t		 req_counts[DET_T_COUNT];
	uint32_t		 resp_counts[DET_T_COUNT];
	uint32_t		 nfindings;	/* sum of both count arrays */
	unsigned		 nsamples;
	struct det_txn_sample	 samples[DET_TXN_SAMPLES];
	unsigned		 flags;		/* DET_TXN_F_* */
};

/*
 * Called once per transaction (every one, with or without findings: the
 * handler decides what to keep). txn is borrowed; the handler must not
 * call into the observer or its flow table.
 */
typedef void det_sensor_txn_cb(const struct det_sensor_txn *txn, void *arg);

/* Content codings of a body (Content-Encoding; last coding applied). */
enum det_coding {
	DET_CODING_IDENTITY = 0,
	DET_CODING_GZIP,
	DET_CODING_DEFLATE,
	DET_CODING_BR,
	DET_CODING_ZSTD,
	DET_CODING_OTHER,	/* unknown or several codings */
};

/* Decoded body bytes p[0..n), borrowed for the call. Returns 0, or -1 to
   stop this body. */
typedef int det_body_out_cb(void *oarg, const uint8_t *p, size_t n);

/*
 * The seam for the scanner's decoder layer: a body in a content coding
 * goes through it, decoded bytes go to the scanner. All four functions are
 * required; ctx is handed to open.
 *   open     start one body in coding c; returns per-body state, or NULL
 *            when c is not supported (the body is then not inspected)
 *   feed     encoded bytes p[0..n) (borrowed); decoded output to out;
 *            0, or -1 when the data is bad (the rest is not inspected)
 *   finish   end of body: flush what is held to out; 0 or -1
 *   close    free the state (after finish, or instead of it on a gap)
 * The decoder must bound its own output (decompression bombs).
 */
struct det_body_decoder {
	void	*(*open)(void *ctx, enum det_coding c);
	int	 (*feed)(void *st, const uint8_t *p, size_t n,
		    det_body_out_cb *out, void *oarg);
	int	 (*finish)(void *st, det_body_out_cb *out, void *oarg);
	void	 (*close)(void *st);
	void	*ctx;
};

struct det_http_counters {
	uint64_t	requests;
	uint64_t	responses;	/* final (non-1xx) responses */
	uint64_t	skipped_1xx;
	uint64_t	txns;		/* handed to the handler */
	uint64_t	txns_with_findings;
	uint64_t	req_parse_errors;
	uint64_t	resp_parse_errors;
	uint64_t	chunked_errors;
	uint64_t	anomalies;	/* heads with GB_HTTP_F_ANOMALY */
	uint64_t	resyncs;	/* message starts found after a loss */
	uint64_t	resync_skipped;	/* bytes skipped looking for one */
	uint64_t	gaps_body;	/* gaps inside a length-framed body */
	uint64_t	gaps_lost;	/* gaps that lost the framing */
	uint64_t	unpaired_responses;
	uint64_t	unanswered;	/* requests never answered */
	uint64_t	queue_overflow;	/* pending requests beyond the cap */
	uint64_t	tunnels;
	uint64_t	h2_preface;	/* HTTP/2 prior knowledge: raw */
	uint64_t	truncated;	/* messages cut by the flow's end */
	uint64_t	bodies_scanned;
	uint64_t	body_bytes_scanned;	/* decoded bytes scanned */
	uint64_t	not_inspected;	/* bodies in a coding not decoded */
	uint64_t	not_inspected_bytes;
	uint64_t	decode_errors;	/* decoder refused the data */
	uint64_t	decode_limit_hits;	/* output or ratio limit hit */
	uint64_t	decode_skipped_bytes;	/* not scanned: past a limit */
	uint64_t	decoded_escapes;	/* escapes, base64 blocks */
	uint64_t	decoder_unavailable;	/* at max_decoders: scanned raw */
	uint64_t	head_memcap;	/* heads dropped at the memory cap */
	uint64_t	raw_streams;	/* directions scanned raw */
	uint64_t	raw_bytes;
	uint64_t	findings[DET_T_COUNT];
};

struct det_http_obs;

/* Where a finding was made. */
enum det_where {
	DET_WHERE_PATH = 0,	/* the request target (t->path as sent) */
	DET_WHERE_REQ_BODY,	/* data sent to the server */
	DET_WHERE_RESP_BODY,	/* data the server sent */
};

/*
 * Called for every finding as it is made, before it is counted in its
 * transaction (t is the transaction being read, borrowed; f too). The
 * detection stage (det_alert.h) counts distinct values here.
 */
typedef void det_finding_hook(const struct det_sensor_txn *t,
	    enum det_where where, const struct det_finding *f, void *arg);

/* --- det_flow_http.c --- */

/*
 * An observer. sc (borrowed, must outlive it) scans; cb(txn, arg) gets the
 * transactions; head_memcap bounds the bytes held for incomplete heads
 * over all flows (0: 64 MiB). Returns 0 with *out set (caller owns,
 * det_http_obs_free()), or -1.
 */
int	det_http_obs_new(const struct det_scanner *sc, size_t head_memcap,
	    det_sensor_txn_cb *cb, void *arg, struct det_http_obs **out);
void	det_http_obs_free(struct det_http_obs *o);

/* Plug in a body decoder (copied; NULL: none, codings not inspected). */
void	det_http_obs_set_decoder(struct det_http_obs *o,
	    const struct det_body_decoder *dec);

/*
 * The scanner's decoding layers (det_decode.h) on bodies: layers is a set of
 * DET_DEC_TEXT bits (JSON, percent, HTML escapes, base64); gzip is always
 * found by its magic bytes, and Content-Encoding: gzip and deflate are
 * inflated (with the decoder's size and ratio limits). At most
 * max_decoders bodies are decoded at once (about 19 KiB each); past that a
 * body is scanned as it is and counted (decoder_unavailable). 0: no
 * decoding (compressed bodies are not inspected). Only before traffic.
 * Returns 0, or -1 (bad bits, decoders in use, memory short).
 */
int	det_http_obs_set_layers(struct det_http_obs *o, unsigned layers,
	    size_t max_decoders);
/* Every finding also goes to cb (NULL: none). */
void	det_http_obs_set_finding_hook(struct det_http_obs *o,
	    det_finding_hook *cb, void *arg);

/* The flow-table application interface of this observer, ready to pass
   to det_flow_table_new(). */
void	det_http_obs_app(struct det_http_obs *o, struct det_flow_app *app);

const struct det_http_counters *det_http_obs_counters(
	    const struct det_http_obs *o);
/* Bytes held for heads now. */
size_t	det_http_obs_mem(const struct det_http_obs *o);

/* "gzip" ... from a Content-Encoding value (a list: the last coding;
   identity when empty). */
enum det_coding det_coding_parse(const char *v, size_t n);

#endif /* DET_FLOW_HTTP_H */
