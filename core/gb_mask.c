/* gb_mask: identifier masking. See gb_mask.h. */
#include "core/gb_mask.h"

#include <string.h>

static int
is_sig(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z');
}

size_t
gb_mask(char *dst, size_t dstlen, const char *s, size_t n)
{
	const char *at;
	size_t i, nsig = 0, keep, k = 0, out;

	if (dstlen == 0)
		return n;
	out = n < dstlen ? n : dstlen - 1;
	if ((at = memchr(s, '@', n)) != NULL && at != s) {
		size_t local = (size_t)(at - s);

		/* A one-character local part would be the whole of it. */
		for (i = 0; i < out; i++)
			dst[i] = (i == 0 && local > 1) || i >= local ? s[i] :
			    '*';
		dst[out] = '\0';
		return n;
	}
	for (i = 0; i < n; i++)
		nsig += is_sig((unsigned char)s[i]);
	keep = nsig >= 12 ? 4 : nsig >= 6 ? 2 : 0;
	for (i = 0; i < out; i++) {
		if (!is_sig((unsigned char)s[i])) {
			dst[i] = s[i];
			continue;
		}
		dst[i] = k < keep || k >= nsig - keep ? s[i] : '*';
		k++;
	}
	/* A cut output must not reveal the kept tail's position: done. */
	dst[out] = '\0';
	return n;
}
