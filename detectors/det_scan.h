/*
 * det_scan: the streaming personal-data scanner for Indonesian identifiers.
 *
 * Three layers, one header:
 *
 *   validators   pure functions over one value (det_scan_valid.c): NIK,
 *                Nomor KK, NPWP (15 and 16 digits), mobile numbers, e-mail,
 *                payment cards, NIP, BPJS, passport, SIM. They accept the
 *                formatting seen in the wild (spaces, dots, dashes; phones
 *                also "+" and parentheses). shared/spec/pii-id.md is the
 *                reference for every rule.
 *   scanner      compiled, read-only detection settings (det_scan.c), made
 *                once from struct det_rules and shared by any number of
 *                threads and streams.
 *   stream       per-document state: feed bytes in chunks of any size; the
 *                findings never depend on where the chunks are cut. Each
 *                stream belongs to one thread at a time.
 *
 *	struct det_scanner *sc;
 *	struct det_stream *st;
 *
 *	det_scanner_new(rules, &sc);	   rules NULL: built-in defaults
 *	det_stream_new(sc, &st);
 *	while ((n = read(fd, buf, sizeof(buf))) > 0)
 *		det_stream_feed(st, buf, n, on_finding, arg);
 *	det_stream_finish(st, on_finding, arg);
 *	det_stream_free(st);
 *	det_scanner_free(sc);
 *
 * How the scanner finds candidates: one pass over the bytes skips to the next
 * digit or '@' (SSE2 where the compiler has it, in plain text and JSON with
 * AVX2 where the CPU has it too, a byte table otherwise).
 * Digit runs joined by up to three separator bytes (space . - ( )) form a
 * compound; a compound whose first or last run touches a letter, '_' or '@'
 * loses that run (hex ids, words, e-mail local parts). The compound, or else
 * the longest valid sub-ranges of its runs from the left, is validated by
 * length (7 after a letter: passport; 10-14: phone; 11 and 13: BPJS; 12
 * and 14 with a SIM context: SIM; 15:
 * NPWP; 16: NIK, KK, NPWP, card; 13-19: card; 18: NIP); a NITKU (16-digit
 * NPWP + 6-digit place code) is not reported. Context sets the confidence:
 * the JSON/XML key, the CSV header or the HTML table header (<th> of the
 * column, in a document starting with '<') of the value, else the words in
 * the 64 bytes before it (nik, no_kk, npwp, no_hp, email, ... raise it;
 * order, va, invoice, imei, timestamp, company NPWP fields lower it), and
 * tells a Nomor KK from a NIK. A value with only free text before it waits
 * for up to 32 bytes after it: a bracketed label right after it ("(No.
 * KK)", "[NIK]") decides over the words before.
 *
 * Decoding (gzip, escapes, base64) is det_decode.h; bulk thresholds are
 * det_bulk.h.
 */
#ifndef DET_SCAN_H
#define DET_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum det_type {
	DET_T_NIK = 0,		/* Nomor Induk Kependudukan, 16 digits */
	DET_T_KK,		/* Nomor Kartu Keluarga, 16 digits */
	DET_T_NPWP,		/* tax number, 15 digits or 0 + 15 */
	DET_T_PHONE,		/* Indonesian mobile number */
	DET_T_EMAIL,
	DET_T_CARD,		/* payment card number (Luhn) */
	DET_T_NIP,		/* civil-servant number, 18 digits */
	DET_T_BPJS,		/* BPJS Kesehatan (13) or Ketenagakerjaan (11) */
	DET_T_PASSPORT,		/* letter + 7 digits */
	DET_T_SIM,		/* driving licence, 12 or 14 digits (context) */
	DET_T_COUNT
};

/* Finding flags. */
#define DET_F_CONTEXT	0x01	/* a key, header or word named the type */
#define DET_F_NEGATIVE	0x02	/* context said "not personal" (order, va) */
#define DET_F_FORMATTED	0x04	/* written with separators */
#define DET_F_FEMALE	0x08	/* NIK: day field + 40 */
#define DET_F_ALLOWED	0x10	/* on the allowlist (never reported) */
#define DET_F_CSV	0x20	/* context from a CSV or HTML table header */
#define DET_F_DECODED	0x40	/* found in decoded bytes (det_decode.h) */

/* Longest normalised value, with its NUL. */
#define DET_VALUE_MAX	128

struct det_finding {
	enum det_type	 type;
	uint8_t		 confidence;	/* 0-100 */
	uint8_t		 flags;		/* DET_F_* */
	uint16_t	 vlen;		/* strlen(value) */
	uint32_t	 length;	/* bytes in the input, separators included */
	uint64_t	 offset;	/* of the first byte, from stream start */
	/*
	 * Normalised: digits only; phones "62" + national number; e-mail
	 * lower case; passport upper-case letter + 7 digits.
	 */
	char		 value[DET_VALUE_MAX];
};

/*
 * Called once per finding, in offset order of the finding's end. f is
 * borrowed, valid until the callback returns. The callback must not feed
 * or free the stream that called it.
 */
typedef void det_finding_cb(const struct det_finding *f, void *arg);

struct det_rules;
struct det_scanner;
struct det_stream;

struct det_nik_info {
	unsigned	district;	/* 6-digit region code */
	unsigned	day;		/* 1-31, the +40 removed */
	unsigned	month;
	unsigned	yy;		/* year % 100 */
	unsigned	serial;
	bool		female;
};

/* --- det_scan_valid.c: pure validators, any thread --- */

/* "nik", "kk", ...; "?" for an out-of-range value. */
const char *det_type_str(enum det_type t);
/* The type named s (as det_type_str() spells it), or -1. */
int	det_type_from_str(const char *s);

/*
 * Copy the digits of s[0..n) to out (outlen bytes, NUL-terminated),
 * skipping the separators ' ', '.', '-' and, with phone set, '+', '(', ')'.
 * Returns the number of digits, or 0 when s holds any other byte, no digit,
 * or more than outlen - 1 digits.
 */
size_t	det_compact(const char *s, size_t n, bool phone, char *out,
	    size_t outlen);

/* Luhn over n ASCII digits (true when the sum is a multiple of 10). */
bool	det_luhn(const char *d, size_t n);
/*
 * True when the 6 ASCII digits d are a district code in the official
 * table (current and historical regencies, shared/data/regions.tsv).
 */
bool	det_valid_region(const char *d);

/*
 * NIK: 16 digits (separators allowed); province/regency/district in the
 * region table; a real date (day - 40 for women; 29 Feb only when YY % 4
 * == 0); serial != 0000. info (may be NULL) gets the fields when valid.
 */
bool	det_valid_nik(const char *s, size_t n, struct det_nik_info *info);
/* Nomor KK: as a NIK, but the day is 01-31 (an issue date, no +40). */
bool	det_valid_kk(const char *s, size_t n);
/*
 * NPWP: 15 digits with a Luhn check digit over digits 1-9 and serial
 * (digits 3-8) != 000000; or 16 digits: 0 + a valid 15-digit NPWP, or a
 * valid NIK (an individual's NPWP since 2024).
 */
bool	det_valid_npwp(const char *s, size_t n);
/*
 * Indonesian mobile number in 0 / 62 / +62 form (separators allowed):
 * national number 8 + an allocated operator prefix, 9-12 digits in all
 * (10-13 with the 0). Writes "62" + national number to norm (normlen >=
 * 15) when valid. Returns the normalised length, or 0.
 */
size_t	det_valid_phone(const char *s, size_t n, char *norm, size_t normlen);
/*
 * E-mail: the WHATWG "valid e-mail address" rule, local part at most 64
 * bytes, domain labels 1-63 without leading or trailing '-', a TLD of two
 * or more letters, at most DET_VALUE_MAX - 1 bytes in all.
 */
bool	det_valid_email(const char *s, size_t n);
/* True for the role mailboxes that are not personal (info@, humas@ ...). */
bool	det_email_is_role(const char *s, size_t n);
/*
 * Payment card: 13-19 digits, Luhn. *brand (may be NULL) is set when the
 * IIN is in an international brand range (Visa, Mastercard, Amex, JCB,
 * UnionPay, Discover, Diners).
 */
bool	det_valid_card(const char *s, size_t n, bool *brand);
/*
 * NIP (PNS) or NI PPPK: 18 digits, birth date YYYYMMDD (1940-2012), year
 * of appointment >= birth year + 17 and <= 2039, gender digit 1 or 2,
 * serial != 000. Digits 13-14 are a month for a PNS, a code for PPPK: not
 * checked.
 */
bool	det_valid_nip(const char *s, size_t n);
/*
 * BPJS: 13 digits (Kesehatan card) or 11 (Ketenagakerjaan KPJ), not all
 * zero. There is no published check digit: the scanner needs context.
 */
bool	det_valid_bpjs(const char *s, size_t n);
/* Passport: one letter A-Z + 7 digits, optionally one space between. */
bool	det_valid_passport(const char *s, size_t n);
/*
 * SIM (driving licence, pii-id.md section 7): 12 digits YYMM.PP.AA.SSSS
 * (month 01-12, serial != 0000) or 14 digits (smart SIM, not all zero),
 * separators allowed. No check digit: the scanner needs context. Since
 * 2024 a SIM number may be the NIK: that is reported as a NIK.
 */
bool	det_valid_sim(const char *s, size_t n);

/* --- det_scan.c: scanner and streams --- */

/*
 * Compile rules (borrowed for the call; NULL: the built-in defaults, every
 * type on at confidence 50) into a scanner. Returns 0 with *out set (caller
 * owns, det_scanner_free()), or -1 when memory is short. A scanner is
 * read-only: any thread may use it, while streams made from it exist.
 */
int	det_scanner_new(const struct det_rules *rules, struct det_scanner **out);
void	det_scanner_free(struct det_scanner *sc);

/*
 * A stream for one document (an HTTP body, a file). sc is borrowed and must
 * outlive the stream. Returns 0 with *out set (caller owns,
 * det_stream_free()), or -1 when memory is short.
 */
int	det_stream_new(const struct det_scanner *sc, struct det_stream **out);
void	det_stream_free(struct det_stream *st);
/* Forget everything fed: the stream is as new (offsets restart at 0). */
void	det_stream_reset(struct det_stream *st);

/*
 * Scan the next n bytes of the document. Findings completed by these bytes
 * go to cb(finding, arg); a value cut by the end of p, or waiting for a
 * label after it, is held (at most a few hundred bytes) and reported by a
 * later feed or by det_stream_finish().
 * p is borrowed for the call. Returns 0, or -1 after det_stream_finish().
 */
int	det_stream_feed(struct det_stream *st, const uint8_t *p, size_t n,
	    det_finding_cb *cb, void *arg);
/*
 * End of document: report what the held bytes complete. Returns the number
 * of findings reported over the whole stream (capped at INT32_MAX). After
 * it, only det_stream_reset() and det_stream_free() may be called.
 */
int	det_stream_finish(struct det_stream *st, det_finding_cb *cb, void *arg);

/* Bytes fed so far. */
uint64_t det_stream_offset(const struct det_stream *st);

/*
 * Convenience: scan one whole buffer with a fresh stream. Returns the
 * number of findings, or -1 when memory is short.
 */
int	det_scan_buf(const struct det_scanner *sc, const uint8_t *p, size_t n,
	    det_finding_cb *cb, void *arg);

#endif /* DET_SCAN_H */
