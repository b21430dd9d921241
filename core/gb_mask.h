/*
 * gb_mask: masking of personal identifiers for logs, alerts and reports.
 * A value is never written anywhere in clear unless a user asks for it.
 *
 *	3171015708450001	-> 3171********0001
 *	08.123.456.7-012.000	-> 08.12*.***.*-**2.000 (separators kept)
 *	budi.santoso@example.id	-> b***********@example.id
 *
 * Letters and digits are the significant characters: with 12 or more the
 * first 4 and last 4 stay, with 6 to 11 the first 2 and last 2, with fewer
 * all are masked. Separators stay where they are. In an e-mail address only
 * the first character of the local part stays (none when it is the only
 * one: "x@example.id" -> "*@example.id"); the domain is kept. Pure;
 * any thread may call.
 */
#ifndef GB_MASK_H
#define GB_MASK_H

#include <stddef.h>

/*
 * Mask s[0..n) into dst (dstlen bytes, always NUL-terminated when
 * dstlen > 0). Returns the length of the masked value, which is n; when
 * dstlen <= n the output is cut (and fully masked where cut).
 */
size_t	gb_mask(char *dst, size_t dstlen, const char *s, size_t n);

#endif /* GB_MASK_H */
