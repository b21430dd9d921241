/*
 * det_decode: decoding layers in front of a det_stream, so an identifier
 * that is compressed or escaped is still found. Streaming, like the
 * scanner: feed a body in chunks of any size; the findings never depend on
 * where the chunks are cut (escapes, base64 blocks and deflate streams may
 * be cut anywhere).
 *
 *	input --> [gzip | deflate] --> [JSON \u, %XX, &#..; &name;] -->
 *	    [base64 blocks] --> det_stream --> findings
 *
 *   gzip     DET_DEC_GZIP: when the body starts with 1f 8b it is inflated
 *            (members one after another); otherwise scanned as it is.
 *   deflate  DET_DEC_DEFLATE (Content-Encoding: deflate): zlib-wrapped when
 *            the first two bytes are a zlib header, raw deflate otherwise.
 *   escapes  DET_DEC_JSON: \" \\ \/ \b \f \n \r \t and \uXXXX (surrogate
 *            pairs joined) to UTF-8; DET_DEC_PCT: %XX; DET_DEC_HTML:
 *            &#DDD; &#xHH; and the named entities amp lt gt quot apos nbsp
 *            (to a space) commat period comma colon semi sol lpar rpar
 *            plus minus hyphen dash (these three to '-') num equals. A
 *            malformed escape is scanned as it is written and counted in
 *            errors.
 *   base64   DET_DEC_B64: a run of at least b64_min base64 characters
 *            (standard or url-safe, not mixed, '=' padding only at the end)
 *            is replaced by its decoded bytes when they are plausible text:
 *            valid UTF-8, no control bytes but tab/CR/LF, at least 80 %
 *            printable ASCII. Otherwise the run is scanned as it is.
 *
 * Offsets: a finding's offset and length are rewritten to count bytes of
 * the body after decompression (of the body as fed when it is not
 * compressed), i.e. before unescaping: the finding spans the escape
 * sequences or base64 block it was decoded from. A finding that came out
 * of an escape or base64 block carries DET_F_DECODED. A value cut across
 * more than DET_DEC_SEGS / 2 escapes gets the start of the oldest one
 * remembered (never an offset after the real one).
 *
 * Limits (reported, never silent): decompressed output past max_output, or
 * past max_ratio times the compressed bytes read (once the output exceeds
 * 1 MiB), stops decompression: the rest of the body is counted in
 * skipped_bytes and the limit in limit_hits / limits. A base64 run longer
 * than b64_max is scanned as written (DET_DEC_L_B64). A corrupt compressed
 * stream stops decoding the same way (errors, DET_DEC_L_CORRUPT). What is
 * decoded, and where a stop falls, never depend on how the body was cut:
 * the compressed stages take the body in 1 KiB blocks at fixed offsets (a
 * block the capture cut waits in the decoder for its rest, or the end).
 *
 * A decoder belongs to one thread at a time; the scanner may be shared.
 */
#ifndef DET_DECODE_H
#define DET_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "detectors/det_scan.h"

/* Layers (det_decode_new() flags). */
#define DET_DEC_GZIP	0x01
#define DET_DEC_DEFLATE	0x02
#define DET_DEC_JSON	0x04
#define DET_DEC_PCT	0x08
#define DET_DEC_HTML	0x10
#define DET_DEC_B64	0x20
#define DET_DEC_TEXT	(DET_DEC_JSON | DET_DEC_PCT | DET_DEC_HTML | \
			    DET_DEC_B64)
#define DET_DEC_ALL	(DET_DEC_GZIP | DET_DEC_TEXT)

/* Limits hit (det_decode_stats.limits). */
#define DET_DEC_L_OUTPUT	0x01	/* max_output */
#define DET_DEC_L_RATIO		0x02	/* max_ratio */
#define DET_DEC_L_B64		0x04	/* b64_max */
#define DET_DEC_L_CORRUPT	0x08	/* compressed stream corrupt */

/* Segments remembered to map offsets back (see above). */
#define DET_DEC_SEGS	256

struct det_decode_limits {
	uint64_t	max_output;	/* decompressed bytes; 0: 64 MiB */
	uint32_t	max_ratio;	/* output/input; 0: 100 */
	uint32_t	b64_min;	/* characters; 0: 16 (min 8) */
	uint32_t	b64_max;	/* characters; 0: 16384 */
};

struct det_decode_stats {
	uint64_t	in_bytes;	/* fed */
	uint64_t	inspected_bytes; /* of in_bytes, whose content was scanned */
	uint64_t	skipped_bytes;	/* of in_bytes, not scanned (limit, error) */
	uint64_t	decoded_bytes;	/* given to the scanner */
	uint64_t	limit_hits;
	uint64_t	errors;		/* malformed escapes, corrupt streams */
	uint64_t	escapes;	/* escapes decoded */
	uint64_t	b64_blocks;	/* base64 blocks decoded */
	unsigned	layers;		/* DET_DEC_* that decoded something */
	unsigned	limits;		/* DET_DEC_L_* hit */
};

struct det_decoder;

/* --- det_decode.c --- */

/*
 * A decoder for one body. sc is borrowed and must outlive it; flags is a
 * set of DET_DEC_*; lim may be NULL (defaults; it is copied). Returns 0
 * with *out set (caller owns, det_decode_free()), -1 when memory is short
 * or flags has unknown bits or both GZIP and DEFLATE.
 */
int	det_decode_new(const struct det_scanner *sc, unsigned flags,
	    const struct det_decode_limits *lim, struct det_decoder **out);
void	det_decode_free(struct det_decoder *d);
/* As new: counters, offsets and the scanner stream restart. */
void	det_decode_reset(struct det_decoder *d);
/*
 * The next n bytes of the body (p borrowed for the call). Findings go to
 * cb(finding, arg) as with det_stream_feed(), offsets rewritten as above.
 * Returns 0, or -1 after det_decode_finish().
 */
int	det_decode_feed(struct det_decoder *d, const uint8_t *p, size_t n,
	    det_finding_cb *cb, void *arg);
/*
 * End of body: flush what is held. A compressed stream cut short counts
 * as an error (DET_DEC_L_CORRUPT). Returns the number of findings.
 */
int	det_decode_finish(struct det_decoder *d, det_finding_cb *cb,
	    void *arg);
/* Counters so far (any time). */
void	det_decode_stats(const struct det_decoder *d,
	    struct det_decode_stats *out);
/*
 * "gzip|json|..." for a set of DET_DEC_* into buf (len bytes); "-" for
 * none. Returns buf.
 */
const char *det_dec_flags_str(unsigned flags, char *buf, size_t len);
/* The same for DET_DEC_L_* ("output|ratio|b64|corrupt"). */
const char *det_dec_limits_str(unsigned limits, char *buf, size_t len);
/* Parse "gzip,json" or "all" or "none" into *flags; -1 on an unknown name. */
int	det_dec_flags_parse(const char *s, unsigned *flags);

#endif /* DET_DECODE_H */
