/*
 * det_decode_int.h: internals of det_decode.c shown to its tests only.
 */
#ifndef DET_DECODE_INT_H
#define DET_DECODE_INT_H

#include <stddef.h>
#include <stdint.h>

/* Paths of the byte scans (the base64 runs, the escapes). */
enum { DET_B64_SCALAR = 0, DET_B64_SSE2, DET_B64_AVX2 };

/* --- det_decode.c --- */

/*
 * The base64 stage's run scan over raw text p[0..n) (borrowed): the start
 * of the first run of base64 characters that may be a block (min or more
 * long with a non-digit, followed by '=', or reaching n), or n when there
 * is none. impl picks the path (DET_B64_*; one this build or CPU lacks
 * runs the scalar path); every path gives the same answer. Any thread.
 */
size_t	det_b64_next(const uint8_t *p, size_t n, size_t min, unsigned impl);
/*
 * The text stage's scan for an escape's start: the first of the bytes
 * spc[0..2] in p[0..n) (borrowed), or n; impl and paths as above.
 */
size_t	det_special_next(const uint8_t *p, size_t n, const uint8_t spc[3],
	    unsigned impl);
/* The paths this build and CPU can run: bit 1 << DET_B64_* each. */
unsigned det_b64_impls(void);
/*
 * Decoders scan with path impl from now on (one this build or CPU lacks:
 * the scalar path). For tests, before any decoder runs; not thread-safe.
 */
void	det_b64_use(unsigned impl);

#endif /* DET_DECODE_INT_H */
