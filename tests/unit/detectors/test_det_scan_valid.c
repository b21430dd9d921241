/*
 * Unit tests for detectors/det_scan_valid.c: valid, invalid and edge values
 * for every validator, from shared/spec/pii-id.md.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "detectors/det_scan.h"
#include "detectors/det_scan_int.h"

#define S(x)	(x), strlen(x)

static void
test_type_names(void **state)
{
	int t;

	(void)state;
	for (t = 0; t < DET_T_COUNT; t++)
		assert_int_equal(det_type_from_str(
		    det_type_str((enum det_type)t)), t);
	assert_int_equal(det_type_from_str("ktp"), -1);
	assert_string_equal(det_type_str(DET_T_COUNT), "?");
}

static void
test_compact(void **state)
{
	char out[20];

	(void)state;
	assert_int_equal(det_compact(S("35-76-01-44-03-91-0003"), false, out,
	    sizeof(out)), 16);
	assert_string_equal(out, "3576014403910003");
	assert_int_equal(det_compact(S("(+62) 812-3456-7890"), true, out,
	    sizeof(out)), 13);
	assert_int_equal(det_compact(S("(+62) 812"), false, out, sizeof(out)),
	    0);
	assert_int_equal(det_compact(S("12a3"), false, out, sizeof(out)), 0);
	assert_int_equal(det_compact(S("1234"), false, out, 4), 0);
	assert_int_equal(det_compact(S("..."), false, out, sizeof(out)), 0);
}

static void
test_luhn(void **state)
{
	(void)state;
	assert_true(det_luhn(S("4111111111111111")));
	assert_false(det_luhn(S("4111111111111112")));
	assert_true(det_luhn(S("013121660")));
	assert_false(det_luhn(S("")));
	assert_false(det_luhn(S("41x1")));
}

static void
test_region(void **state)
{
	(void)state;
	assert_true(det_valid_region("317101"));	/* Jakarta Pusat */
	assert_true(det_valid_region("910101"));	/* historical Merauke */
	assert_true(det_valid_region("930101"));	/* Papua Selatan */
	assert_false(det_valid_region("317100"));	/* district 00 */
	assert_false(det_valid_region("107101"));	/* province 10 */
	assert_false(det_valid_region("317001"));	/* regency 70 */
	assert_false(det_valid_region("3171a1"));
}

static void
test_nik(void **state)
{
	struct det_nik_info ni;

	(void)state;
	/* The spec's worked example: female, 17 Aug 45. */
	assert_true(det_valid_nik(S("3171015708450001"), &ni));
	assert_true(ni.female);
	assert_int_equal(ni.day, 17);
	assert_int_equal(ni.month, 8);
	assert_int_equal(ni.yy, 45);
	assert_int_equal(ni.district, 317101);
	assert_int_equal(ni.serial, 1);
	assert_true(det_valid_nik(S("3171011708450001"), &ni));
	assert_false(ni.female);
	/* Formats. */
	assert_true(det_valid_nik(S("31-71-01-57-08-45-0001"), NULL));
	assert_true(det_valid_nik(S("317101.570845.0001"), NULL));
	assert_true(det_valid_nik(S("31 7101 570845 0001"), NULL));
	/* Leap years: 29 Feb in 00 and 04, not in 01 or 1900-only. */
	assert_true(det_valid_nik(S("3171012902000001"), NULL));
	assert_true(det_valid_nik(S("3171016902040001"), NULL));
	assert_false(det_valid_nik(S("3171012902010001"), NULL));
	assert_false(det_valid_nik(S("3171013002000001"), NULL));
	/* Day 00, 32-40, 72+; month 00, 13; serial 0000. */
	assert_false(det_valid_nik(S("3171010008450001"), NULL));
	assert_false(det_valid_nik(S("3171013208450001"), NULL));
	assert_false(det_valid_nik(S("3171014008450001"), NULL));
	assert_false(det_valid_nik(S("3171017208450001"), NULL));
	assert_true(det_valid_nik(S("3171017108450001"), NULL));
	assert_false(det_valid_nik(S("3171011700450001"), NULL));
	assert_false(det_valid_nik(S("3171011713450001"), NULL));
	assert_false(det_valid_nik(S("3171011708450000"), NULL));
	/* Region: province 20, district 00, unknown district. */
	assert_false(det_valid_nik(S("2071011708450001"), NULL));
	assert_false(det_valid_nik(S("3171001708450001"), NULL));
	assert_false(det_valid_nik(S("3171991708450001"), NULL));
	/* Historical Papua code, kept for life. */
	assert_true(det_valid_nik(S("9101011708450001"), NULL));
	/* Length. */
	assert_false(det_valid_nik(S("317101570845000"), NULL));
	assert_false(det_valid_nik(S("31710157084500011"), NULL));
	assert_false(det_valid_nik(S("3171O15708450001"), NULL));
}

static void
test_kk(void **state)
{
	(void)state;
	assert_true(det_valid_kk(S("3171010101200001")));
	assert_true(det_valid_kk(S("3171013101200001")));
	assert_false(det_valid_kk(S("3171014101200001")));	/* +40 */
	assert_false(det_valid_kk(S("3171010101200000")));
	assert_false(det_valid_kk(S("3171000101200001")));
}

static void
test_npwp(void **state)
{
	(void)state;
	assert_true(det_valid_npwp(S("01.312.166.0-091.000")));
	assert_false(det_valid_npwp(S("01.451.869.7-054.000")));
	assert_true(det_valid_npwp(S("01.451.869.0-054.000")));
	assert_true(det_valid_npwp(S("013121660091000")));
	assert_true(det_valid_npwp(S("01.312.166.0.091.000")));
	assert_true(det_valid_npwp(S("01.312.166-0-091-000")));
	assert_true(det_valid_npwp(S("02 . 433 . 917 . 8 - 011 . 000")) ==
	    det_valid_npwp(S("024339178011000")));
	/* 12345678 -> check digit 2. */
	assert_true(det_valid_npwp(S("123456782000000")));
	assert_false(det_valid_npwp(S("123456783000000")));
	/* Serial 000000. */
	assert_false(det_valid_npwp(S("010000000091000")));
	/* 16 digits: 0 + old, or a NIK. */
	assert_true(det_valid_npwp(S("0013121660091000")));
	assert_false(det_valid_npwp(S("0014518697054000")));
	assert_true(det_valid_npwp(S("3171015708450001")));
	assert_false(det_valid_npwp(S("3171015708450000")));
	assert_false(det_valid_npwp(S("01312166009100")));
}

static void
test_phone(void **state)
{
	char n[20];

	(void)state;
	assert_int_equal(det_valid_phone(S("081234567890"), n, sizeof(n)), 13);
	assert_string_equal(n, "6281234567890");
	assert_int_equal(det_valid_phone(S("+6281234567890"), n, sizeof(n)),
	    13);
	assert_int_equal(det_valid_phone(S("6281234567890"), n, sizeof(n)), 13);
	assert_int_equal(det_valid_phone(S("0812-3456-7890"), n, sizeof(n)),
	    13);
	assert_int_equal(det_valid_phone(S("+62 812-3456-7890"), n, sizeof(n)),
	    13);
	assert_int_equal(det_valid_phone(S("(+62) 812-3456-7890"), n,
	    sizeof(n)), 13);
	assert_string_equal(n, "6281234567890");
	assert_int_equal(det_valid_phone(S("0812 3456 7890"), n, sizeof(n)), 13);
	/* Lengths: 10-13 with 0. */
	assert_int_equal(det_valid_phone(S("0811234567"), n, sizeof(n)), 11);
	assert_int_equal(det_valid_phone(S("081123456"), n, sizeof(n)), 0);
	assert_int_equal(det_valid_phone(S("0812345678901"), n, sizeof(n)), 14);
	assert_int_equal(det_valid_phone(S("08123456789012"), n, sizeof(n)), 0);
	/* Prefixes: 0810, 0820, 0824, 0834, 0840, 0854, 0870, 0890 not mobile. */
	assert_int_equal(det_valid_phone(S("081012345678"), n, sizeof(n)), 0);
	assert_int_equal(det_valid_phone(S("082412345678"), n, sizeof(n)), 0);
	assert_int_equal(det_valid_phone(S("084012345678"), n, sizeof(n)), 0);
	assert_int_equal(det_valid_phone(S("085412345678"), n, sizeof(n)), 0);
	assert_int_equal(det_valid_phone(S("087012345678"), n, sizeof(n)), 0);
	assert_int_equal(det_valid_phone(S("089012345678"), n, sizeof(n)), 0);
	assert_int_equal(det_valid_phone(S("082712345678"), n, sizeof(n)), 13);
	assert_int_equal(det_valid_phone(S("083812345678"), n, sizeof(n)), 13);
	assert_int_equal(det_valid_phone(S("088912345678"), n, sizeof(n)), 13);
	assert_int_equal(det_valid_phone(S("089912345678"), n, sizeof(n)), 13);
	/* Landlines, foreign, '+' in the wrong place. */
	assert_int_equal(det_valid_phone(S("(021) 2345 6789"), n, sizeof(n)), 0);
	assert_int_equal(det_valid_phone(S("+6591234567"), n, sizeof(n)), 0);
	assert_int_equal(det_valid_phone(S("+081234567890"), n, sizeof(n)), 0);
	assert_int_equal(det_valid_phone(S("0812+34567890"), n, sizeof(n)), 0);
	assert_int_equal(det_valid_phone(S("081234567890"), n, 5), 0);
}

static void
test_email(void **state)
{
	(void)state;
	assert_true(det_valid_email(S("budi.santoso@example.co.id")));
	assert_true(det_valid_email(S("a+b_c@x-y.example.com")));
	assert_false(det_valid_email(S("budi@localhost")));
	assert_false(det_valid_email(S("budi@example.c")));
	assert_false(det_valid_email(S("budi@example.c0m")));
	assert_false(det_valid_email(S("@example.com")));
	assert_false(det_valid_email(S("budi@-x.com")));
	assert_false(det_valid_email(S("budi@x-.com")));
	assert_false(det_valid_email(S("budi@x..com")));
	assert_false(det_valid_email(S("bu di@x.com")));
	assert_false(det_valid_email(S(
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "@x.com")));
	assert_true(det_email_is_role(S("Humas@kemkes.go.id")));
	assert_true(det_email_is_role(S("noreply@x.go.id")));
	assert_false(det_email_is_role(S("budi@kemkes.go.id")));
}

/* Every role mailbox, in any case (the scanner filters by first letter). */
static void
test_email_roles(void **state)
{
	static const char *const roles[] = { "info", "humas", "ppid",
	    "noreply", "no-reply", "no_reply", "helpdesk", "pengaduan",
	    "admin", "administrator", "support", "cs", "layanan", "kontak",
	    "contact", "webmaster", "postmaster", "hostmaster", "abuse",
	    "sekretariat", "redaksi", "halo", "hello", "mail", "office",
	    "security", "privacy", "dpo", "hr", "sales", "marketing", "team",
	    "root", "do-not-reply", "donotreply", "notifikasi",
	    "notification", "notifications", "bounce", "mailer-daemon",
	    "reservasi", "reservation", "reservations", "booking", "billing",
	    "tagihan", "keuangan", "finance", "pelayanan", "informasi",
	    "kepegawaian", "tu", "umum", "persuratan", "ticket", "tiket" };
	char buf[64];
	size_t i;

	(void)state;
	/* The inline filter's constant is the list's. */
	assert_true(DET_ROLE_PAIRS == det_email_role_pairs());
	assert_true(det_email_role_lens_ok());
	for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		snprintf(buf, sizeof(buf), "%s@example.go.id", roles[i]);
		assert_true(det_email_is_role(buf, strlen(buf)));
		buf[0] = (char)(buf[0] - 'a' + 'A');
		assert_true(det_email_is_role(buf, strlen(buf)));
		buf[0] = 'q';
		assert_false(det_email_is_role(buf, strlen(buf)));
	}
}

static void
test_card(void **state)
{
	bool brand;

	(void)state;
	assert_true(det_valid_card(S("4111 1111 1111 1111"), &brand));
	assert_true(brand);
	assert_false(det_valid_card(S("4111 1111 1111 1112"), &brand));
	assert_true(det_valid_card(S("5500-0000-0000-0004"), &brand));
	assert_true(brand);
	assert_true(det_valid_card(S("378282246310005"), &brand));
	assert_true(brand);
	assert_true(det_valid_card(S("3530111333300000"), &brand));
	assert_true(brand);
	assert_true(det_valid_card(S("2223000048400011"), &brand));
	assert_true(brand);
	/* Luhn-valid but no brand range (could be GPN). */
	assert_true(det_valid_card(S("9999999999999995"), &brand));
	assert_false(brand);
	assert_false(det_valid_card(S("411111111111"), &brand));
}

static void
test_nip(void **state)
{
	(void)state;
	assert_true(det_valid_nip(S("198609262015051001")));
	assert_true(det_valid_nip(S("19860926 201505 1 001")));
	/* NI PPPK: digits 13-14 a code, not a month. */
	assert_true(det_valid_nip(S("198609262021242001")));
	assert_false(det_valid_nip(S("198609262015053001")));	/* gender */
	assert_false(det_valid_nip(S("198609262015051000")));	/* serial */
	assert_false(det_valid_nip(S("198602302015051001")));	/* 30 Feb */
	assert_false(det_valid_nip(S("198609262000051001")));	/* age 14 */
	assert_false(det_valid_nip(S("174500000000000001")));	/* snowflake */
	assert_true(det_valid_nip(S("198802292010012001")));	/* leap */
	assert_false(det_valid_nip(S("198902292010012001")));
}

static void
test_bpjs_passport(void **state)
{
	(void)state;
	assert_true(det_valid_bpjs(S("0001261832477")));
	assert_true(det_valid_bpjs(S("12345678901")));
	assert_false(det_valid_bpjs(S("0000000000000")));
	assert_false(det_valid_bpjs(S("000126183247")));
	assert_true(det_valid_passport(S("B1234567")));
	assert_true(det_valid_passport(S("C 1234567")));
	assert_false(det_valid_passport(S("b1234567")));
	assert_false(det_valid_passport(S("B123456")));
	assert_false(det_valid_passport(S("B12345678")));
	assert_false(det_valid_passport(S("BB1234567")));
	/* SIM: 12 digits YYMM.PP.AA.SSSS or 14 digits. */
	assert_true(det_valid_sim(S("6512.01.02.0001")));
	assert_true(det_valid_sim(S("651201020001")));
	assert_true(det_valid_sim(S("1-2345-6789-01234")));
	assert_false(det_valid_sim(S("651301020001")));	/* month 13 */
	assert_false(det_valid_sim(S("650001020001")));	/* month 00 */
	assert_false(det_valid_sim(S("651201020000")));	/* serial 0 */
	assert_false(det_valid_sim(S("00000000000000")));
	assert_false(det_valid_sim(S("6512010200011")));	/* 13 */
	assert_false(det_valid_sim(S("65120102000x")));
	assert_int_equal(det_type_from_str("sim"), DET_T_SIM);
	assert_string_equal(det_type_str(DET_T_SIM), "sim");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_compact),
		cmocka_unit_test(test_luhn),
		cmocka_unit_test(test_region),
		cmocka_unit_test(test_nik),
		cmocka_unit_test(test_kk),
		cmocka_unit_test(test_npwp),
		cmocka_unit_test(test_phone),
		cmocka_unit_test(test_email),
		cmocka_unit_test(test_email_roles),
		cmocka_unit_test(test_card),
		cmocka_unit_test(test_nip),
		cmocka_unit_test(test_bpjs_passport),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
