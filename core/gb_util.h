/*
 * gb_util: small parsers and clocks every module needs: sizes ("64k",
 * "10MiB"), durations ("500ms", "30s", "2m", "1h"), host:port pairs, the
 * "did you mean" suggestion for config keys, and monotonic time.
 * All functions are pure or read only the clock; any thread may call them.
 */
#ifndef GB_UTIL_H
#define GB_UTIL_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parse a byte size: digits with an optional unit k, m, g (powers of 1024;
 * "kb", "kib", "mb", "mib", "gb", "gib" and upper case accepted). Returns 0,
 * or -1 for anything else (empty, sign, spaces, overflow).
 */
int	gb_parse_size(const char *s, uint64_t *out);

/*
 * Parse a duration into milliseconds: digits followed by ms, s, m, h or d
 * (a bare number is seconds). Returns 0, or -1 (malformed or overflow).
 */
int	gb_parse_duration_ms(const char *s, uint64_t *out);

/*
 * Split "host:port", "[v6]:port" or (when default_port >= 0) a bare host
 * into host (copied, NUL-terminated, brackets removed) and port. Returns 0 or
 * -1 (empty host, port outside 1..65535 or 0 when allow_zero, too long).
 */
int	gb_parse_hostport(const char *s, char *host, size_t hostlen,
	    int *port, int default_port, int allow_zero);

/*
 * The candidate closest to word (Damerau-Levenshtein, case-insensitive)
 * when it is near enough to be a likely typo (distance <= 2, and less than
 * half the word), else NULL. candidates is NULL-terminated; borrowed.
 */
const char *gb_did_you_mean(const char *word, const char *const *candidates);

/* A bit of a flag set and its name, for gb_flags_str(). */
struct gb_flag_name {
	unsigned	 bit;
	const char	*name;
};

/*
 * flags as the names[0..n) of its bits joined by '|', in table order, then
 * any bit not in the table as 0x..; none when flags is 0. Written to buf
 * (len bytes, always NUL-terminated when len > 0); a short buffer cuts the
 * text. Returns buf.
 */
const char *gb_flags_str(const struct gb_flag_name *names, size_t n,
	    unsigned flags, const char *none, char *buf, size_t len);

/* Monotonic clock in milliseconds / nanoseconds. */
uint64_t gb_now_ms(void);
uint64_t gb_now_ns(void);

#endif /* GB_UTIL_H */
