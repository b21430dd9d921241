/*
 * Unit tests for detectors/det_scan.c: what is found and what is not
 * (boundaries, look-alikes, context), and the streaming property: every
 * split of a document, and byte-by-byte feeding, give the same findings.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detectors/det_decode.h"
#include "detectors/det_scan.h"
#include "detectors/det_scan_int.h"

#define MAXF	512

struct got {
	size_t			n;
	struct det_finding	f[MAXF];
};

static struct det_scanner *sc;

static void	split_check(const char *, size_t);

static void
collect(const struct det_finding *f, void *arg)
{
	struct got *g = arg;

	assert_true(g->n < MAXF);
	assert_int_equal(strlen(f->value), f->vlen);
	g->f[g->n++] = *f;
}

static void
scan_str(const char *s, struct got *g)
{
	int rc;

	memset(g, 0, sizeof(*g));
	rc = det_scan_buf(sc, (const uint8_t *)s, strlen(s), collect, g);
	assert_int_equal(rc, (int)g->n);
}

/* Exactly one finding: type and value. */
static void
expect1(const char *s, enum det_type t, const char *v)
{
	struct got g;

	scan_str(s, &g);
	if (g.n != 1 || g.f[0].type != t || strcmp(g.f[0].value, v) != 0)
		fail_msg("%s: got %zu findings (first %s %s), want %s %s", s,
		    g.n, g.n ? det_type_str(g.f[0].type) : "-",
		    g.n ? g.f[0].value : "-", det_type_str(t), v);
}

static void
expect0(const char *s)
{
	struct got g;

	scan_str(s, &g);
	if (g.n != 0)
		fail_msg("%s: want nothing, got %s %s (confidence %u)", s,
		    det_type_str(g.f[0].type), g.f[0].value,
		    g.f[0].confidence);
}

static void
test_basic(void **state)
{
	struct got g;

	(void)state;
	expect1("3171015708450001", DET_T_NIK, "3171015708450001");
	expect1("NIK: 3171015708450001.", DET_T_NIK, "3171015708450001");
	expect1("{\"nik\":\"3171015708450001\"}", DET_T_NIK,
	    "3171015708450001");
	expect1("/api/penduduk/3171015708450001?x=1", DET_T_NIK,
	    "3171015708450001");
	expect1("NIK 35-76-01-44-03-91-0003 ", DET_T_NIK, "3576014403910003");
	expect1("hp 0812-3456-7890", DET_T_PHONE, "6281234567890");
	expect1("(+62) 812-3456-7890", DET_T_PHONE, "6281234567890");
	expect1("+62 812 3456 7890", DET_T_PHONE, "6281234567890");
	expect1("wa.me/6281234567890", DET_T_PHONE, "6281234567890");
	expect1("NPWP 01.312.166.0-091.000", DET_T_NPWP, "013121660091000");
	expect1("\"email\": \"Budi.S@Example.CO.ID\"", DET_T_EMAIL,
	    "budi.s@example.co.id");
	expect1("kirim ke budi@example.com.", DET_T_EMAIL, "budi@example.com");
	expect1("card 4111 1111 1111 1111", DET_T_CARD, "4111111111111111");
	expect1("NIP. 19860926 201505 1 001", DET_T_NIP, "198609262015051001");
	expect1("\"noKartu\":\"0001261832477\"", DET_T_BPJS, "0001261832477");
	expect1("No. Paspor: B 1234567", DET_T_PASSPORT, "B1234567");
	expect1("paspor=C7654321", DET_T_PASSPORT, "C7654321");
	/* SIM: context only; a SIM that is a NIK is a NIK. */
	expect1("No. SIM: 6512.01.02.0001", DET_T_SIM, "651201020001");
	expect1("{\"no_sim\":\"12345678901234\"}", DET_T_SIM,
	    "12345678901234");
	expect1("Surat Izin Mengemudi 1-2345-6789-01234", DET_T_SIM,
	    "12345678901234");
	expect1("SIM 3171015708450001", DET_T_NIK, "3171015708450001");
	expect0("651201020001");
	expect0("12345678901234");
	expect1("kartu sim 081234567890", DET_T_PHONE, "6281234567890");

	/* Offsets and lengths cover the input bytes, '+' included. */
	scan_str("x +6281234567890 y", &g);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.f[0].offset, 2);
	assert_int_equal(g.f[0].length, 14);
	/* Two values in one spaced run. */
	scan_str("data 3171015708450001 081234567890\n", &g);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.f[0].type, DET_T_NIK);
	assert_int_equal(g.f[1].type, DET_T_PHONE);
}

static void
test_boundaries(void **state)
{
	(void)state;
	/* Part of a longer number. */
	expect0("31710157084500012");
	expect0("931710157084500012");
	expect0("x=123456789012345678901234567890");
	/* Hex ids and words. */
	expect0("a3171015708450001");
	expect0("3171015708450001f");
	expect0("id_3171015708450001");
	expect0("sha=9f3171015708450001ab");
	expect0("550e8400-e29b-41d4-a716-446655440000");
	expect0("deadbeef081234567890cafe");
	/* Timestamps. */
	expect0("1718000000123456");
	expect0("\"ts\": 1718000000123");
	expect0("2024-06-01T10:20:30.123456Z");
	/* Masked values. */
	expect0("3171********0001");
	expect0("320101******0001");
	/* Invalid NIK-shaped numbers. */
	expect0("1234567890123456");
	expect0("3171013208450001");
	expect0("3171011708450000");
	/* Foreign and landline phones. */
	expect0("+65 8123 4567");
	expect0("+60 12-345 6789");
	expect0("+1 415 555 0100");
	expect0("(021) 2345 6789");
	/* E-mail local part is not a phone. */
	expect1("081234567890@example.com", DET_T_EMAIL,
	    "081234567890@example.com");
	/* Role mailboxes. */
	expect0("humas@kemkes.go.id");
	expect0("not an email: a@b, x@localhost");
}

static void
test_context(void **state)
{
	struct got g;

	(void)state;
	/* KK only by context; a day > 31 proves NIK. */
	expect1("\"no_kk\":\"3171010101200001\"", DET_T_KK, "3171010101200001");
	expect1("Nomor Kartu Keluarga: 3171010101200001", DET_T_KK,
	    "3171010101200001");
	expect1("\"nkk\": 3171010101200001", DET_T_KK, "3171010101200001");
	expect1("\"no_kk\":\"3171015708450001\"", DET_T_NIK,
	    "3171015708450001");
	expect1("\"nomorKK\":\"3171010101200001\"", DET_T_KK,
	    "3171010101200001");
	expect1("<no_kk>3171010101200001</no_kk>", DET_T_KK,
	    "3171010101200001");
	/* Negative context: order and VA numbers that pass the NIK check. */
	expect0("\"order_id\":\"3171015708450001\"");
	expect0("\"nomor_va\":\"3171015708450001\"");
	expect0("Invoice INV-3171015708450001");
	expect0("\"imei\":\"013121660091000\"");
	/* Company NPWP. */
	expect0("\"npwp_perusahaan\":\"01.312.166.0-091.000\"");
	expect0("NPWP PT Maju Jaya: 01.312.166.0-091.000");
	/* Unhinted plain 15 digits: reported at medium confidence. */
	scan_str("013121660091000", &g);
	assert_int_equal(g.n, 1);
	assert_true(g.f[0].confidence < 80);
	/* BPJS and passport need context or a 000 prefix. */
	expect0("B1234567");
	expect0("kode 1234567890123");
	expect1("no_bpjs=12345678901", DET_T_BPJS, "12345678901");
	/* A card number outside the brand ranges needs context. */
	expect0("9999999999999995");
	expect1("nomor kartu kredit 9999999999999995", DET_T_CARD,
	    "9999999999999995");
}

/*
 * Found by a corpus written apart from ours (e-KYC keys, forms, logs):
 * each line was wrong before.
 */
static void
test_outside_corpus(void **state)
{
	(void)state;
	/* NIP spelled out, and NIK/KK under English "card" keys. */
	expect1("{\"nomorIndukPegawai\":\"196202261993071001\"}", DET_T_NIP,
	    "196202261993071001");
	expect1("Nama,Nomor Induk Pegawai\nBudi,196202261993071001\n",
	    DET_T_NIP, "196202261993071001");
	expect1("{\"id_card_number\":\"3171015708450001\"}", DET_T_NIK,
	    "3171015708450001");
	expect1("{\"identity_card_number\":\"1206152008730011\"}",
	    DET_T_NIK, "1206152008730011");
	expect1("{\"family_card_number\":\"3171010101200001\"}", DET_T_KK,
	    "3171010101200001");
	expect1("{\"no_kartu_keluarga\":\"3171010101200001\"}", DET_T_KK,
	    "3171010101200001");
	/* BPJS takes the NIK for the card number. */
	expect1("{\"noKartu\":\"3171015708450001\"}", DET_T_NIK,
	    "3171015708450001");
	/* A key that names nothing does not borrow the field before. */
	expect1("{\"catatan\":\"order batal\",\"nomor\":\"3171015708450001\"}",
	    DET_T_NIK, "3171015708450001");
	expect1("trx_id=INV2024&identitas=3171015708450001", DET_T_NIK,
	    "3171015708450001");
	expect1("{\n  \"noKpj\": \"93715960751\",\n  \"gaji\": "
	    "\"Rp 19.660.699.937\"\n}", DET_T_BPJS, "93715960751");
	expect1("<NoBPJS>0006379051245</NoBPJS><ip>192.168.115.62</ip>",
	    DET_T_BPJS, "0006379051245");
	/* Form encoding: '+' is a space. */
	expect1("no_hp=0896+4938+8576", DET_T_PHONE, "6289649388576");
	expect1("a=%41&hp=0816+4871+4852&nama=Budi+Santoso+Jakarta+Pusat",
	    DET_T_PHONE, "6281648714852");
	expect1("NPWP=36+.+729+.+327+.+1+-+112+.+000&n=1", DET_T_NPWP,
	    "367293271112000");
	expect1("nik=3171+0157+0845+0001", DET_T_NIK, "3171015708450001");
	/* +62 0812: the trunk 0 after the country code. */
	expect1("HP: +62 0812-3456-7890", DET_T_PHONE, "6281234567890");
	/* American Express under a card key, not an NPWP. */
	expect1("{\"card_number\":\"372956698058487\"}", DET_T_CARD,
	    "372956698058487");
	/* A NIK and the status code after it are not a 19-digit card. */
	expect1("GET /api/penduduk/6202121605190035 200 775ms", DET_T_NIK,
	    "6202121605190035");
	/* A region the table lacks: a NIK where the key says so. */
	expect1("{\"nik\":\"6473011708450001\"}", DET_T_NIK,
	    "6473011708450001");
	expect0("{\"x\":\"6473011708450001\"}");
	/* The all-digit last group of a UUID is not a phone number. */
	expect0("{\"etag\":\"2875b8ef-5c76-4a9a-8dc1-081174176412\"}");
	expect0("trace_id=5b89d3e9-524a-46b9-aa83-083122971960 span=bb1e");
	expect0("x 58ffe695-3541-455f-8614-081679754833,");
	/* Tokens that pass Luhn. */
	expect0("{\"token\":\"4111111111111111\"}");
	/* Upper-case runs in camelCase keys; companies named before NPWP. */
	expect1("{\"noKKPemohon\":\"3174052011150003\"}", DET_T_KK,
	    "3174052011150003");
	expect1("{\"noSIMPemohon\":\"900412345678\"}", DET_T_SIM,
	    "900412345678");
	expect0("PT Maju Jaya, NPWP 01.312.166.0-091.000");
	expect0("Koperasi Simpan Pinjam Makmur, NPWP 01.312.166.0-091.000");
	expect0("NPWP Bendahara Dinas Kesehatan: 01.312.166.0-091.000");
	expect0("Penjual: CV Maju Bersama\nNPWP: 01.312.166.0-091.000");
	expect1("Nama: Budi Santoso\nNPWP: 01.312.166.0-091.000", DET_T_NPWP,
	    "013121660091000");
	/* UTF-8 no-break space, en dash and non-breaking hyphen. */
	expect1("NIK: 31\xc2\xa0" "71\xc2\xa0" "01\xc2\xa0" "570845\xc2\xa0"
	    "0001",
	    DET_T_NIK, "3171015708450001");
	expect1("HP 0812\xe2\x80\x93" "3456\xe2\x80\x93" "7890", DET_T_PHONE,
	    "6281234567890");
	expect1("HP 0812\xe2\x80\x91" "3456\xe2\x80\x91" "7890", DET_T_PHONE,
	    "6281234567890");
	expect0("tahun 2020\xe2\x80\x93" "2024, 5\xe2\x82\xac 12\xc2\xb0" "34");
	/* A Message-ID is not a person's address; role mailboxes. */
	expect0("Message-ID: <4111111111111111.123@mail.gmail.com>");
	expect0("Email: reservasi@hotelmerdeka.co.id");
	expect1("From: Budi <budi.s@gmail.com>", DET_T_EMAIL,
	    "budi.s@gmail.com");
	expect1("{\"order_email\":\"budi.s@gmail.com\"}", DET_T_EMAIL,
	    "budi.s@gmail.com");
}

/* A CSV header after title rows, "sep=;", or with quoted line breaks. */
static void
test_csv_header_lines(void **state)
{
	struct got g;

	(void)state;
	scan_str("DAFTAR PENERIMA BLT 2024\n\nNIK;No. KK\n"
	    "3171015708450001;3174052011150003\n"
	    "3171011708900002;3171010101180004\n"
	    "3171011708900003;3171010101180005\n", &g);
	assert_int_equal(g.n, 6);
	assert_int_equal(g.f[4].type, DET_T_NIK);
	assert_int_equal(g.f[5].type, DET_T_KK);
	scan_str("sep=;\nNIK;No. KK\n3171011708900002;3171010101180004\n",
	    &g);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.f[1].type, DET_T_KK);
	scan_str("Rekap Pegawai;;\n;;\nNama;No. Paspor;No. SIM\n"
	    "Budi;B1234567;900412345678\n", &g);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.f[0].type, DET_T_PASSPORT);
	assert_int_equal(g.f[1].type, DET_T_SIM);
	scan_str("No,\"Nama\nLengkap\",\"Nomor\nKK\",\"NIK\n(KTP-el)\","
	    "\"No. HP\n(WA)\"\n1,Budi,3171010101180004,3171011708900002,"
	    "087852760189\n", &g);
	assert_int_equal(g.n, 3);
	assert_int_equal(g.f[0].type, DET_T_KK);
	assert_int_equal(g.f[1].type, DET_T_NIK);
	assert_int_equal(g.f[2].type, DET_T_PHONE);
	/* Data before any header ends the search: "NIK;x" is not one. */
	scan_str("1;3171011708900002\nNIK;x\n2;3171010101180004\n", &g);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.f[1].confidence, 90);	/* text, not a column */
}

static void
test_csv(void **state)
{
	struct got g;

	(void)state;
	scan_str("nik,no_kk,nama,no_hp\n"
	    "3171015708450001,3171010101200001,BUDI,081234567890\n"
	    "\"3171011708450002\",\"3171010101200001\",\"SITI, S.Pd\","
	    "\"081234567891\"\n", &g);
	assert_int_equal(g.n, 6);
	assert_int_equal(g.f[0].type, DET_T_NIK);
	assert_int_equal(g.f[1].type, DET_T_KK);
	assert_int_equal(g.f[2].type, DET_T_PHONE);
	assert_int_equal(g.f[3].type, DET_T_NIK);
	assert_int_equal(g.f[4].type, DET_T_KK);
	assert_true(g.f[4].flags & DET_F_CSV);
	assert_int_equal(g.f[5].type, DET_T_PHONE);
	/* Semicolons, and a JSON first line is not a header. */
	scan_str("NIK;No KK\n3171015708450001;3171010101200001\n", &g);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.f[1].type, DET_T_KK);
	scan_str("{\"a\":1, \"no_kk\":2}\n3171010101200001\n", &g);
	assert_int_equal(g.n, 1);
	assert_false(g.f[0].flags & DET_F_CSV);
}

/*
 * Labels that name two types: a negation drops the type it names ("Nomor
 * KK (bukan NIK)"); a label naming NIK and KK alike ("NIK/KK", "NIK atau
 * KK") reads as NIK, unless the day field says otherwise (it cannot).
 */
static void
test_two_types(void **state)
{
	struct got g;

	(void)state;
	expect1("Nomor KK (bukan NIK): 3320070409238151", DET_T_KK,
	    "3320070409238151");
	expect1("No. Kartu Keluarga, bukan nomor NIK: 3171010101200001",
	    DET_T_KK, "3171010101200001");
	expect1("NIK (bukan No. KK): 3171010101200001", DET_T_NIK,
	    "3171010101200001");
	expect1("{\"no_kk_bukan_nik\":\"3171010101200001\"}", DET_T_KK,
	    "3171010101200001");
	expect1("Isi NIK, not the KK number: 3171010101200001", DET_T_NIK,
	    "3171010101200001");
	expect1("NIK/KK: 3171010101200001", DET_T_NIK, "3171010101200001");
	expect1("No. KK/NIK : 3171010101200001", DET_T_NIK,
	    "3171010101200001");
	expect1("Nomor NIK atau KK pelapor 3171010101200001", DET_T_NIK,
	    "3171010101200001");
	expect1("NIK/KK;Nama\n3171010101200001;Budi\n", DET_T_NIK,
	    "3171010101200001");
	/* Two labels with a value between are not one label. */
	scan_str("NIK 3171015708450001 No. KK 3171010101200001\n", &g);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.f[0].type, DET_T_NIK);
	assert_int_equal(g.f[1].type, DET_T_KK);
	/* "PT ..., bukan perorangan": the company stays. */
	expect0("PT Maju Jaya (bukan perorangan), NPWP 01.312.166.0-091.000");
}

/*
 * An NPWP written without its branch part (12 digits): where the context
 * says NPWP, reported as the head office's, 000 added; never without it
 * (a 12-digit mobile, an old SIM, an account).
 */
static void
test_npwp12(void **state)
{
	struct got g;

	(void)state;
	expect1("NPWP: 01.312.166.0-091", DET_T_NPWP, "013121660091000");
	expect1("No. NPWP : 24.705.318.4-412 (tanpa kode cabang)",
	    DET_T_NPWP, "247053184412000");
	expect1("nama=Budi&npwp=247053184412&hp=", DET_T_NPWP,
	    "247053184412000");
	/*
	 * 08 and an operator's digits: a mobile's shape is read as one
	 * first, and under an NPWP key it is nothing (not done: see
	 * npwp12()).
	 */
	expect0("{\"no_npwp\":\"08.123.456.9-891\"}");
	expect1("{\"no_npwp\":\"07.123.456.1-891\"}", DET_T_NPWP,
	    "071234561891000");
	scan_str("Wajib pajak: Budi\nNPWP\n247053184412\n", &g);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.f[0].type, DET_T_NPWP);
	/* No context, a company's, a bad check digit, or a phone key. */
	expect0("Nomor 247053184412 terdaftar");
	expect0("NPWP PT Maju Jaya: 24.705.318.4-412");
	expect0("NPWP: 24.705.318.5-412");
	expect1("{\"hp\":\"081234569891\"}", DET_T_PHONE, "6281234569891");
	split_check("NPWP: 01.312.166.0-091\nNPWP 247053184412 ok\n", 2);
}

/*
 * A form field's value and the label before it: <label for>, name= and
 * id= attributes, {"label": ..., "value": ...} pairs.
 */
static void
test_form_labels(void **state)
{
	struct got g;

	(void)state;
	expect1("<div class=\"form-group\"><label for=\"kk\">No. KK</label>"
	    "<input type=\"text\" class=\"form-control\" id=\"kk\" "
	    "value=\"3171010101200001\"></div>", DET_T_KK, "3171010101200001");
	expect1("<label>Nomor Kartu Keluarga</label>\n<input readonly "
	    "value='3171010101200001'/>", DET_T_KK, "3171010101200001");
	expect1("<input type=\"hidden\" name=\"no_kk\" value=\"3171010101200001"
	    "\">", DET_T_KK, "3171010101200001");
	expect1("<tr><td><label>No HP</label></td><td><input value=\""
	    "081234567890\"></td></tr>", DET_T_PHONE, "6281234567890");
	expect1("[{\"label\":\"No. KK\",\"value\":\"3171010101200001\"}]",
	    DET_T_KK, "3171010101200001");
	expect1("{\n  \"field\": \"nomor_kk\",\n  \"value\": "
	    "\"3171010101200001\"\n}", DET_T_KK, "3171010101200001");
	expect1("{\"label\":\"Nomor order\",\"value\":\"3171010101200001\"},"
	    "{\"label\":\"NIK\",\"nilai\":\"3171015708450001\"}",
	    DET_T_NIK, "3171015708450001");
	/* Records alike: the cached key says the same. */
	scan_str("[{\"label\":\"No. KK\",\"value\":\"3171010101200001\"},"
	    "{\"label\":\"NIK\",\"value\":\"3171015708450001\"},"
	    "{\"label\":\"No. KK\",\"value\":\"3171010101200002\"},"
	    "{\"label\":\"Nama\",\"value\":\"Budi\"}]", &g);
	assert_int_equal(g.n, 3);
	assert_int_equal(g.f[0].type, DET_T_KK);
	assert_int_equal(g.f[1].type, DET_T_NIK);
	assert_int_equal(g.f[2].type, DET_T_KK);
	/* A value key with no label before it: no context, as before. */
	scan_str("{\"value\":\"3171010101200001\"}", &g);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.f[0].type, DET_T_NIK);
	assert_int_equal(g.f[0].confidence, 75);
}

/* A document with everything the scanner handles. */
static const char doc[] =
    "laporan harian\n"
    "{\"nik\":\"3171015708450001\",\"no_kk\":\"3171010101200001\","
    "\"hp\":\"+62 812-3456-7890\",\"email\":\"Budi.Santoso@Example.co.id\","
    "\"npwp\":\"01.312.166.0-091.000\",\"card\":\"4111 1111 1111 1111\","
    "\"nip\":\"19860926 201505 1 001\",\"paspor\":\"B 1234567\","
    "\"noKartu\":\"0001261832477\",\"order_id\":\"3171015708450001\","
    "\"uuid\":\"550e8400-e29b-41d4-a716-446655440000\"}\n"
    "NIK 35-76-01-44-03-91-0003 dan 081234567890 serta 3171011708450002\n"
    "x@y.co, 31710157084500012 a3171015708450001 0812 3456 7890 2\n"
    "<td>siti.aminah99@example.org</td><td>6281398765432</td>\n"
    "2024-06-01T10:20:30.123456Z 1718000000123456 +65 8123 4567\n";

static void
same(const struct got *a, const struct got *b, const char *what, size_t k)
{
	size_t i;

	if (a->n != b->n)
		fail_msg("%s %zu: %zu findings, want %zu", what, k, b->n, a->n);
	for (i = 0; i < a->n; i++) {
		if (a->f[i].type != b->f[i].type ||
		    a->f[i].offset != b->f[i].offset ||
		    a->f[i].length != b->f[i].length ||
		    a->f[i].confidence != b->f[i].confidence ||
		    a->f[i].flags != b->f[i].flags ||
		    strcmp(a->f[i].value, b->f[i].value) != 0)
			fail_msg("%s %zu: finding %zu differs: %s %s@%llu, "
			    "want %s %s@%llu", what, k, i,
			    det_type_str(b->f[i].type), b->f[i].value,
			    (unsigned long long)b->f[i].offset,
			    det_type_str(a->f[i].type), a->f[i].value,
			    (unsigned long long)a->f[i].offset);
	}
}

/* An HTML table with a KK column, labels after values, a NITKU. */
static const char doc_html[] =
    "  <html><table><tr><th>No</th><th class=\"c\">No.\n KK</th>"
    "<th><b>NIK</b></th></tr>\n<tr><td>1</td><td>3171012304150007</td>"
    "<td>3171015708450001</td></tr></table>\n<p>3171012304150008 (No. KK)"
    "\n081234567890 (no. order)\n3171012304150009 [Kartu Keluarga] "
    "3171015708450003 (NIK). NITKU 0013121660910000 000001; "
    "3171015708450002 ( nik</p>";

static void
split_check(const char *d, size_t minf)
{
	static struct got whole, part;
	struct det_stream *st;
	size_t n = strlen(d), k, i, step;
	const uint8_t *p = (const uint8_t *)d;

	memset(&whole, 0, sizeof(whole));
	det_scan_buf(sc, p, n, collect, &whole);
	if (whole.n < minf) {
		for (i = 0; i < whole.n; i++)
			print_message("%s %s\n", det_type_str(whole.f[i].type),
			    whole.f[i].value);
		fail_msg("%zu findings in doc", whole.n);
	}
	assert_int_equal(det_stream_new(sc, &st), 0);
	/* Every single split point. */
	for (k = 0; k <= n; k++) {
		memset(&part, 0, sizeof(part));
		det_stream_reset(st);
		assert_int_equal(det_stream_feed(st, p, k, collect, &part), 0);
		assert_int_equal(det_stream_feed(st, p + k, n - k, collect,
		    &part), 0);
		det_stream_finish(st, collect, &part);
		same(&whole, &part, "split at", k);
	}
	/* Chunks of every size 1-40, and 50. */
	for (step = 1; step <= 50; step += step < 40 ? 1 : 10) {
		memset(&part, 0, sizeof(part));
		det_stream_reset(st);
		for (i = 0; i < n; i += step)
			det_stream_feed(st, p + i, n - i < step ? n - i : step,
			    collect, &part);
		det_stream_finish(st, collect, &part);
		same(&whole, &part, "chunk size", step);
	}
	/* Feeding after finish is refused. */
	assert_int_equal(det_stream_feed(st, p, 1, collect, &part), -1);
	det_stream_free(st);
}

static void
test_every_split(void **state)
{
	struct got g;

	(void)state;
	split_check(doc, 16);
	split_check(doc_html, 6);
	scan_str(doc_html, &g);
	assert_int_equal(g.n, 6);	/* the phone "(no. order)" is not */
	assert_int_equal(g.f[0].type, DET_T_KK);	/* header No. KK */
	assert_true(g.f[0].flags & DET_F_CSV);
	assert_int_equal(g.f[1].type, DET_T_NIK);	/* header NIK */
	assert_int_equal(g.f[2].type, DET_T_KK);	/* (No. KK) after */
	for (size_t i = 0; i < g.n; i++)	/* not the NITKU */
		assert_true(strcmp(g.f[i].value, "0013121660910000") != 0);
	/* Labels after a value without context before it. */
	scan_str("3171012304150008 (No. KK)", &g);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.f[0].type, DET_T_KK);
	assert_int_equal(g.f[0].confidence, 85);
	assert_true(g.f[0].flags & DET_F_CONTEXT);
	expect1("3171012304150009 [Kartu Keluarga]", DET_T_KK,
	    "3171012304150009");
	scan_str("3171015708450003 (NIK).", &g);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.f[0].confidence, 90);
	scan_str("3171015708450002 ( nik", &g);		/* not closed */
	assert_int_equal(g.n, 1);
	assert_int_equal(g.f[0].confidence, 75);
	scan_str("3171015708450002 (x) (nik)", &g);	/* not right after */
	assert_int_equal(g.f[0].confidence, 75);
	expect0("081234567890 (no. order)");
	expect0("3171015708450001 [nomor order]");
	scan_str("3171015708450001                                (NIK)", &g);
	assert_int_equal(g.f[0].confidence, 75);	/* past 32 bytes */
	/* NITKU: NPWP16 + 6-digit place, with separators. */
	expect0("NITKU 0013121660910000 000001");
	expect0("3171.0157.0845.0001.000000");
	expect0("0013121660910000-000000");
	expect1("3171015708450001 0000", DET_T_NIK, "3171015708450001");
}

/*
 * Tables the scanner reads column headers from besides CSV and HTML that
 * starts the document: JSON arrays of rows with a header row, HTML after a
 * preamble and <td><b> header rows, markdown after an introduction, text
 * aligned with blanks. Each is a KK column read as a KK, not a NIK.
 */
static const char tbl_json[] =
    "[[\"no\",\"nama_lengkap\",\"nik\",\"no_kk\",\"hubungan\"],\n"
    " [1,\"BUDI SANTOSO\",\"3171012006880005\",\"3171010108090011\","
    "\"KEPALA KELUARGA\"],\n"
    " [2,\"SITI \\\"UMI\\\" AMINAH\",\"3171016103900002\",\"3171010108090011\","
    "\"ISTRI\"],\n"
    " [3,\"RIZKI, PRATAMA\",\"3171011505150003\",\"3171010108090011\","
    "\"ANAK\"]]\n";
static const char tbl_json2[] =
    "  [ [ \"No. KK\" , \"NIK Kepala Keluarga\" , \"Alamat\" ],"
    "[\"3275012003100004\",\"3275010507700001\",\"Jl. Melati 4, RT 02\"],"
    "[\"3275012003100005\",\"3275014507720002\",\"Jl. [Mawar] 7\"]]";
static const char tbl_json3[] =
    "{\"columns\":[\"no\",\"Nomor KK\",\"NIK\",\"nama\"],"
    "\"index\":[0,1,2],\"data\":[[1,\"3275012003100004\","
    "\"3275010507700001\",\"Agus\"],[2,\"3275012003100004\","
    "\"3275014507720002\",\"Rina\"],[3,\"3275012003100005\","
    "\"3275011012950003\",\"Dimas\"]]}";
static const char tbl_json4[] =
    "{\n  \"fields\": [\"nama\", \"nik\", \"no_kk\", \"hp\"],\n"
    "  \"rows\": [\n    [\"Putri\", \"3171016103900002\", "
    "\"3171010108090011\", \"0812-3456-7890\"],\n    [\"Budi\", "
    "\"3171012006880005\", \"3171010108090011\", \"081234567891\"]\n"
    "  ]\n}\n";
static const char tbl_html[] =
    "Kepada Yth. Camat\r\nBerikut kami sampaikan data warga:\r\n"
    "<table border=\"1\">\r\n<tr><td colspan=\"3\"><b>DATA WARGA RT 05"
    "</b></td></tr>\r\n<tr><td><b>Nama</b></td><td><b>No. KK</b></td>"
    "<td><strong>NIK</strong></td></tr>\r\n<tr><td>Budi</td>"
    "<td>3171010108090011</td><td>3171012006880005</td></tr>\r\n"
    "<tr><td>Siti</td><td>3171010108090012</td><td>3171016103900002"
    "</td></tr>\r\n</table>\r\n";
static const char tbl_html2[] =
    "Subject: Rekap\n\n<p>Tabel 1</p><table><caption>Rekap</caption>"
    "<tr><td>Keterangan</td><td>Jumlah</td></tr><tr><td>Warga</td>"
    "<td>12</td></tr></table><table><thead><tr><th>KK</th><th>Nama</th>"
    "</tr></thead><tbody><tr><td>3171010108090013</td><td>Agus</td></tr>"
    "</tbody></table>";
static const char tbl_md[] =
    "Data penduduk RT 05 / RW 02:\n\n| Nama | NIK | No. KK |\n"
    "|------|-----|--------|\n| Budi | 3171012006880005 | 3171010108090011 |\n"
    "| Siti | 3171016103900002 | 3171010108090011 |\n";
static const char tbl_fixed[] =
    "LAMPIRAN BERITA ACARA PENDATAAN\nDAFTAR ANGGOTA KELUARGA\n\n"
    "No  Nama                 NIK               No. KK            "
    "Hubungan\n"
    "1   Budi Santoso         3171012006880005  3171010108090011  "
    "KEPALA\n"
    "2   Siti \"Umi\" Aminah    3171016103900002  3171010108090011  ISTRI\n"
    "3   Rizki Pratama        3171011505150003  3171010108090011  ANAK\n"
    "\nCatatan: hubungi 3171010108090014 bila ada yang salah.\n";

/* Findings of d: n, and the type of each (n NIK, k KK, p phone). */
static void
expect_types(const char *d, const char *types)
{
	struct got g;
	size_t i, n = strlen(types);

	scan_str(d, &g);
	if (g.n != n)
		fail_msg("%.40s: %zu findings, want %zu", d, g.n, n);
	for (i = 0; i < n; i++)
		if ((types[i] == 'n' && g.f[i].type != DET_T_NIK) ||
		    (types[i] == 'k' && g.f[i].type != DET_T_KK) ||
		    (types[i] == 'p' && g.f[i].type != DET_T_PHONE))
			fail_msg("%.40s: finding %zu (%s) is %s", d, i,
			    g.f[i].value, det_type_str(g.f[i].type));
}

/* n findings in d, none with a column header's context. */
static void
expect_nocol(const char *d, size_t n)
{
	struct got g;
	size_t i;

	scan_str(d, &g);
	assert_int_equal(g.n, n);
	for (i = 0; i < n; i++)
		if (g.f[i].flags & DET_F_CSV)
			fail_msg("%.40s: finding %zu has a column header", d, i);
}

static void
test_tables(void **state)
{
	struct got g;

	(void)state;
	expect_types(tbl_json, "nknknk");
	expect_types(tbl_json2, "knkn");
	expect_types(tbl_json3, "knknkn");
	expect_types(tbl_json4, "nkpnkp");
	expect_types(tbl_html, "knkn");
	expect_types(tbl_html2, "k");
	expect_types(tbl_md, "nknk");
	/* The table ends at the blank line: the note is text. */
	expect_types(tbl_fixed, "nknknkn");
	scan_str(tbl_fixed, &g);
	assert_true(g.f[1].flags & DET_F_CSV);
	assert_false(g.f[6].flags & DET_F_CSV);
	split_check(tbl_json, 6);
	split_check(tbl_json2, 4);
	split_check(tbl_json3, 6);
	split_check(tbl_json4, 6);
	split_check(tbl_html, 4);
	split_check(tbl_html2, 1);
	split_check(tbl_md, 4);
	split_check(tbl_fixed, 7);
	/* A first row with data is not a header. */
	scan_str("[[\"3171010108090011\",\"no_kk\"],[\"3171010108090012\","
	    "\"x\"]]", &g);
	assert_int_equal(g.n, 2);
	assert_false((g.f[0].flags | g.f[1].flags) & DET_F_CSV);
	/* Nor is a key-value table's first row, nor one naming nothing. */
	expect_types("<div></div><table><tr><td>NIK</td><td>3171010108090011"
	    "</td></tr><tr><td>Kartu Keluarga</td><td>3171010108090012</td>"
	    "</tr></table>", "nk");
	/* A columns key that is not the first, or not a list of names. */
	expect_nocol("{\"nik\":\"3171010108090011\",\"columns\":[\"no_kk\"],"
	    "\"rows\":[[\"3171010108090012\"]]}", 2);
	expect_nocol("{\"columns\":\"no_kk\",\"rows\":[[\"3171010108090012\"]]}",
	    1);
	expect_nocol("{\"columns\":[[\"no_kk\"]],\"rows\":[[\"3171010108090012"
	    "\"]]}", 1);
	expect_nocol("{\"header\":[\"no_kk\",2024],\"rows\":[[\"31710101080900"
	    "12\"]]}", 1);
	/* An array of records is not a table. */
	expect_types("[{\"a\":\"3171010108090011\"},[\"no_kk\"]]", "n");
	/* Prose with double blanks names no columns. */
	expect_types("Menurut  data  kami:\n3171010108090011\n", "n");
}

/* Findings of d through decoding layers, fed in pieces of step bytes. */
static void
scan_dec(const char *d, unsigned flags, size_t step, struct got *g)
{
	struct det_decoder *dec;
	size_t n = strlen(d), i;

	memset(g, 0, sizeof(*g));
	assert_int_equal(det_decode_new(sc, flags, NULL, &dec), 0);
	for (i = 0; i < n; i += step)
		assert_int_equal(det_decode_feed(dec, (const uint8_t *)d + i,
		    n - i < step ? n - i : step, collect, g), 0);
	det_decode_finish(dec, collect, g);
	det_decode_free(dec);
}

static void
scan_pct(const char *d, size_t step, struct got *g)
{
	scan_dec(d, DET_DEC_PCT | DET_DEC_HTML, step, g);
}

/*
 * Double percent-encoding ("%253D" for '=') hid the digits after it: the
 * escape's "3D" ran into them. "%25" then two hex digits of printable
 * ASCII is decoded whole (det_decode.c); any other "%25" is a '%'.
 */
static void
test_double_pct(void **state)
{
	static const char *const docs[] = {
	    "GET /api/cari?filter=nik%253D3171015708450001%2526no_kk%253D"
	    "3171010101200001 HTTP/1.1",
	    "redirect=https%253A%252F%252Fx.go.id%252Fp%253Fhp%253D"
	    "081234567890%2526ok%253D1",
	    "q=%2522nik%2522%253A%2522%2533%2531%2537%2531015708450001%2522",
	    "diskon 100%25 dan 50%2525 lalu %2512345 nik%3D3171015708450001",
	};
	static const enum det_type want[][2] = {
	    { DET_T_NIK, DET_T_KK }, { DET_T_PHONE, DET_T_COUNT },
	    { DET_T_NIK, DET_T_COUNT }, { DET_T_NIK, DET_T_COUNT },
	};
	static struct got whole, part;
	size_t k, j, step;

	(void)state;
	for (k = 0; k < sizeof(docs) / sizeof(docs[0]); k++) {
		scan_pct(docs[k], 1 << 20, &whole);
		for (j = 0; j < 2 && want[k][j] != DET_T_COUNT; j++)
			;
		if (whole.n != j)
			fail_msg("%s: %zu findings, want %zu", docs[k],
			    whole.n, j);
		for (j = 0; j < whole.n; j++)
			assert_int_equal(whole.f[j].type, want[k][j]);
		for (step = 1; step <= 50; step += step < 3 ? 1 : 47) {
			scan_pct(docs[k], step, &part);
			same(&whole, &part, "pct chunk size", step);
		}
	}
	/* The second has no NIK in the escapes' digits: "%2512" is not. */
	scan_pct(docs[3], 1 << 20, &whole);
	assert_string_equal(whole.f[0].value, "3171015708450001");
}

/*
 * MIME base64 wrapped at 76 columns (and PEM-like at 64): a block goes on
 * over a line break after a line of whole groups of four, so a value cut
 * by the wrapping is read whole. "Yth. Bapak/Ibu,\nData pemohon:\n1. Budi,
 * NIK 3171015708450001, KK 3171010101200001, HP 0812-3456-7890\n2. Siti,
 * NIK 3171016103900002\n" wrapped at 76 (CRLF) and at 64 (LF, in a JSON
 * string with \n escapes).
 */
static const char mime76[] =
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\n"
    "WXRoLiBCYXBhay9JYnUsCkRhdGEgcGVtb2hvbjoKMS4gQnVkaSwgTklLIDMxNzEwMTU3MDg0NTAw\r\n"
    "MDEsIEtLIDMxNzEwMTAxMDEyMDAwMDEsIEhQIDA4MTItMzQ1Ni03ODkwCjIuIFNpdGksIE5JSyAz\r\n"
    "MTcxMDE2MTAzOTAwMDAyCg==\r\n\r\n--b1--\r\n";
static const char pem64[] =
    "{\"lampiran\":\"WXRoLiBCYXBhay9JYnUsCkRhdGEgcGVtb2hvbjoKMS4gQnVkaSwgTklLIDMxNzEw\\n"
    "MTU3MDg0NTAwMDEsIEtLIDMxNzEwMTAxMDEyMDAwMDEsIEhQIDA4MTItMzQ1Ni03\\n"
    "ODkwCjIuIFNpdGksIE5JSyAzMTcxMDE2MTAzOTAwMDAyCg==\\n\",\"ok\":1}";

static void
test_b64_wrapped(void **state)
{
	static struct got whole, part;
	const char *docs[] = { mime76, pem64 };
	size_t k, j, step, n;
	bool kk;

	(void)state;
	for (k = 0; k < 2; k++) {
		scan_dec(docs[k], DET_DEC_ALL, 1 << 20, &whole);
		if (whole.n != 4)
			fail_msg("doc %zu: %zu findings, want 4", k, whole.n);
		for (j = 0, kk = false; j < whole.n; j++) {
			assert_true(whole.f[j].flags & DET_F_DECODED);
			kk |= whole.f[j].type == DET_T_KK;
		}
		assert_true(kk);
		for (step = 1; step <= 50; step += step < 3 ? 1 : 47) {
			scan_dec(docs[k], DET_DEC_ALL, step, &part);
			same(&whole, &part, "b64 chunk size", step);
		}
	}
	/* Every split of the MIME body. */
	n = strlen(mime76);
	for (k = 1; k < n; k += 7) {
		struct det_decoder *dec;

		memset(&part, 0, sizeof(part));
		assert_int_equal(det_decode_new(sc, DET_DEC_ALL, NULL, &dec),
		    0);
		det_decode_feed(dec, (const uint8_t *)mime76, k, collect, &part);
		det_decode_feed(dec, (const uint8_t *)mime76 + k, n - k,
		    collect, &part);
		det_decode_finish(dec, collect, &part);
		det_decode_free(dec);
		scan_dec(mime76, DET_DEC_ALL, 1 << 20, &whole);
		same(&whole, &part, "b64 split at", k);
	}
	/* Short lines are not wrapped base64: each is read alone. */
	scan_dec("MTIzNDU2Nzg5MDEyMzQ1Ng==\nMTIzNDU2Nzg5MDEyMzQ1Ng==\n",
	    DET_DEC_ALL, 1 << 20, &whole);
	assert_int_equal(whole.n, 0);
}

/*
 * JSON records, all alike: the first goes through the general context
 * search (and fills the key cache), the others through the key cache and
 * the fast paths (a value whose key is cached, formatted numbers, short
 * e-mail domains). Every record must give what the first gave.
 */
#define JSON_REC							\
    "{\"nik\":\"3171015708450001\",\"no_kk\":\"3171010101200001\","	\
    "\"nama\":\"BUDI\",\"tgl\":\"1990-03-28\","				\
    "\"no_hp\":\"081234567890\",\"hp2\":\"+6281234567890\","		\
    "\"npwp\":\"01.312.166.0-091.000\","				\
    "\"email\":\"Budi.S@Example.CO.ID.\",\"surel\":"			\
    "\"x@a-b.example-domain.com\",\"order_id\":\"3171015708450001\","	\
    "\"id\":\"x3171015708450001\",\"t\":\"1.2.3.4.5.6.7.8.9.1\","	\
    "\"ket\":\"NIK 3171015708450002 (NIK)\"}\n"
static const char doc_json[] = JSON_REC JSON_REC JSON_REC JSON_REC;

static void
test_json_records(void **state)
{
	static struct got g;
	size_t rec = strlen(JSON_REC), per, i, k;

	(void)state;
	scan_str(doc_json, &g);
	assert_int_equal(g.n % 4, 0);
	per = g.n / 4;
	/* NIK, KK, 2 phones, NPWP, 2 e-mails, the NIK in free text. */
	assert_int_equal(per, 8);
	for (k = 1; k < 4; k++)
		for (i = 0; i < per; i++) {
			const struct det_finding *a = &g.f[i];
			const struct det_finding *b = &g.f[k * per + i];

			if (a->type != b->type || a->offset + k * rec !=
			    b->offset || a->length != b->length ||
			    a->confidence != b->confidence ||
			    a->flags != b->flags || strcmp(a->value,
			    b->value) != 0)
				fail_msg("record %zu finding %zu: %s %s, want "
				    "%s %s", k, i, det_type_str(b->type),
				    b->value, det_type_str(a->type), a->value);
		}
	assert_int_equal(g.f[0].type, DET_T_NIK);
	assert_int_equal(g.f[1].type, DET_T_KK);
	assert_string_equal(g.f[3].value, "6281234567890");
	assert_int_equal(g.f[3].length, 14);		/* '+' included */
	assert_string_equal(g.f[4].value, "013121660091000");
	assert_string_equal(g.f[5].value, "budi.s@example.co.id");
	assert_string_equal(g.f[6].value, "x@a-b.example-domain.com");
	assert_int_equal(g.f[7].confidence, 90);	/* "(NIK)" after */
	split_check(doc_json, 32);
}

/*
 * Records whose keys and formats repeat, mixed with ones that look alike
 * but differ (another separator, another length, a bad check digit, a
 * letter after): read in a stream, a record goes through the key cache
 * and the remembered shapes of its numbers; read alone, through the
 * general paths. Each record must give the same findings either way. A
 * blank line of more than 64 bytes keeps one record's words out of the
 * next one's context.
 */
static const char *const shape_recs[] = {
	"{\"npwp\":\"01.312.166.0-091.000\",\"tgl\":\"1990-03-28\"}",
	"{\"npwp\":\"01.312.166.0-091.001\",\"tgl\":\"1990-3-28\"}",
	"{\"npwp\":\"01.312.166.1-091.000\",\"tgl\":\"19900-03-28\"}",
	"{\"npwp\":\"01.312.166.0-091.000x\",\"tgl\":\"2001-12-31\"}",
	"{\"hp\":\"0812-3456-7890\",\"nik\":\"3171 0157 0845 0001\"}",
	"{\"hp\":\"0812-3456-789\",\"nik\":\"3171 0157 0845 0002\"}",
	"{\"hp\":\"+62 812-3456-7890\",\"nik\":\"3171 0157 0845 000x\"}",
	"{\"hp\":\"0812-3456-7890\",\"nik\":\"3171 0157 0845 0000\"}",
	"{\"kk\":\"317101.010120.0001\",\"x\":\"12.345.678\"}",
	"{\"kk\":\"317101.010120.0002\",\"x\":\"12.345.67890\"}",
	"{\"kk\":\"317101.010120.0003\",\"x\":\"1.2.3.4.5.6.7.8.9\"}",
	"{\"nomor\":\"3171 0157 0845 0001\",\"x\":\"12.345.6789\"}",
	"{\"nomor\":\"3171 0157 0845 0001 (KK)\",\"tgl\":\"1990-03-28\"}",
	"{\"order_id\":\"3171.0157.0845.0001\",\"hp\":\"0812.3456.7890\"}",
	"{\"ket\":\"3171012304150008 (No. KK) 01.312.166.0-091.000\"}",
};

#define SHAPE_PAD							\
    "\n                                                                  \n"

static void
test_json_shapes(void **state)
{
	static struct got whole, alone;
	static char doc_shapes[8192];
	size_t nrec = sizeof(shape_recs) / sizeof(shape_recs[0]);
	size_t r, k, i, n = 0, at[3 * 16], pad = strlen(SHAPE_PAD), j = 0;
	size_t len;

	(void)state;
	assert_true(nrec <= 16);
	/* Three rounds, in different orders. */
	for (k = 0; k < 3; k++)
		for (r = 0; r < nrec; r++) {
			i = (r * (2 * k + 1) + k) % nrec;
			len = strlen(shape_recs[i]);
			assert_true(n + pad + len < sizeof(doc_shapes));
			memcpy(doc_shapes + n, SHAPE_PAD, pad);
			at[k * nrec + r] = n;
			n += pad;
			memcpy(doc_shapes + n, shape_recs[i], len);
			n += len;
		}
	doc_shapes[n] = '\0';
	scan_str(doc_shapes, &whole);
	assert_true(whole.n >= 20);
	for (k = 0; k < 3; k++)
		for (r = 0; r < nrec; r++) {
			i = (r * (2 * k + 1) + k) % nrec;
			len = strlen(shape_recs[i]);
			memset(&alone, 0, sizeof(alone));
			det_scan_buf(sc, (const uint8_t *)doc_shapes +
			    at[k * nrec + r], pad + len, collect, &alone);
			for (size_t f = 0; f < alone.n; f++, j++) {
				const struct det_finding *a = &alone.f[f];
				const struct det_finding *b = &whole.f[j];

				if (j >= whole.n || a->type != b->type ||
				    a->offset + at[k * nrec + r] !=
				    b->offset || a->length != b->length ||
				    a->confidence != b->confidence ||
				    a->flags != b->flags ||
				    strcmp(a->value, b->value) != 0)
					fail_msg("round %zu record %zu: %s %s "
					    "(%u), want %s %s (%u)", k, i,
					    j < whole.n ? det_type_str(
					    b->type) : "-", j < whole.n ?
					    b->value : "-", j < whole.n ?
					    b->confidence : 0,
					    det_type_str(a->type), a->value,
					    a->confidence);
			}
		}
	assert_int_equal(j, whole.n);
	split_check(doc_shapes, 20);
}

/*
 * The same record after a filler of 0-63 bytes, so that each value starts
 * and ends at every place of scan_plain()'s 64-byte blocks (a run cut by a
 * block's end, an e-mail local part cut there, digits right before '@'):
 * each record gives in the stream what it gives alone, with the AVX2 and
 * the SSE2 masks, and a prefix of the document gives the same findings
 * however it is split.
 */
#define BLOCK_REC							\
    "\",\"nik\":\"3171015708450001\",\"hp\":\"081234567890\","		\
    "\"email\":\"budi42@example.co.id\",\"npwp\":\"01.312.166.0-091.000\","\
    "\"tgl\":\"1990-03-28\",\"card\":\"4532015112830366\",\"x\":\"a7\"}"

static void
blocks_check(char *d, size_t cap)
{
	static struct got whole, alone;
	size_t pad = strlen(SHAPE_PAD), rec = strlen(BLOCK_REC);
	size_t f, r, n = 0, j = 0, at[64], len[64], save;

	for (r = 0; r < 64; r++) {
		assert_true(n + pad + 8 + r + rec < cap);
		at[r] = n;
		memcpy(d + n, SHAPE_PAD, pad);
		memcpy(d + n + pad, "{\"f\":\"", 6);
		memset(d + n + pad + 6, 'x', r);
		memcpy(d + n + pad + 6 + r, BLOCK_REC, rec);
		len[r] = pad + 6 + r + rec;
		n += len[r];
	}
	d[n] = '\0';
	scan_str(d, &whole);
	/* NIK, phone, e-mail, NPWP and the card number of each record. */
	assert_int_equal(whole.n, 5 * 64);
	for (r = 0; r < 64; r++) {
		memset(&alone, 0, sizeof(alone));
		det_scan_buf(sc, (const uint8_t *)d + at[r], len[r], collect,
		    &alone);
		for (f = 0; f < alone.n; f++, j++) {
			const struct det_finding *a = &alone.f[f];
			const struct det_finding *b = &whole.f[j];

			if (j >= whole.n || a->type != b->type ||
			    a->offset + at[r] != b->offset ||
			    a->length != b->length ||
			    a->confidence != b->confidence ||
			    a->flags != b->flags ||
			    strcmp(a->value, b->value) != 0)
				fail_msg("filler %zu: %s %s, want %s %s", r,
				    j < whole.n ? det_type_str(b->type) : "-",
				    j < whole.n ? b->value : "-",
				    det_type_str(a->type), a->value);
		}
	}
	assert_int_equal(j, whole.n);
	/* Every split of the first records (fillers 0-5). */
	save = d[at[6]];
	d[at[6]] = '\0';
	split_check(d, 5 * 6);
	d[at[6]] = save;
}

static void
test_json_blocks(void **state)
{
	static char blocks[64 * 400];
	bool avx2 = det_scan_avx2;

	(void)state;
	blocks_check(blocks, sizeof(blocks));
	if (avx2) {
		det_scan_avx2 = false;
		blocks_check(blocks, sizeof(blocks));
		split_check(doc_json, 32);
		det_scan_avx2 = true;
	}
}

/* Random documents of digits and separators: split invariance holds. */
static void
test_random_split(void **state)
{
	static struct got whole, part;
	static const char alphabet[] = "0123456789012345678  .-@a+(\n,\"";
	struct det_stream *st;
	uint8_t buf[600];
	size_t n, k, i;
	unsigned seed = 7, round;

	(void)state;
	assert_int_equal(det_stream_new(sc, &st), 0);
	for (round = 0; round < 300; round++) {
		n = sizeof(buf);
		for (i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			buf[i] = (uint8_t)alphabet[(seed >> 16) %
			    (sizeof(alphabet) - 1)];
		}
		/* Plant a few valid values. */
		memcpy(buf + 10, " 3171015708450001 ", 18);
		memcpy(buf + 100, " 081234567890 ", 14);
		memcpy(buf + 200, " a.b@example.com ", 17);
		memset(&whole, 0, sizeof(whole));
		det_scan_buf(sc, buf, n, collect, &whole);
		seed = seed * 1103515245u + 12345u;
		k = (seed >> 8) % (n + 1);
		memset(&part, 0, sizeof(part));
		det_stream_reset(st);
		det_stream_feed(st, buf, k, collect, &part);
		det_stream_feed(st, buf + k, n - k, collect, &part);
		det_stream_finish(st, collect, &part);
		same(&whole, &part, "random round", round);
	}
	det_stream_free(st);
}

static int
setup(void **state)
{
	(void)state;
	return det_scanner_new(NULL, &sc);
}

static int
teardown(void **state)
{
	(void)state;
	det_scanner_free(sc);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_boundaries),
		cmocka_unit_test(test_context),
		cmocka_unit_test(test_outside_corpus),
		cmocka_unit_test(test_csv_header_lines),
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_two_types),
		cmocka_unit_test(test_form_labels),
		cmocka_unit_test(test_npwp12),
		cmocka_unit_test(test_every_split),
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_double_pct),
		cmocka_unit_test(test_b64_wrapped),
		cmocka_unit_test(test_json_records),
		cmocka_unit_test(test_json_shapes),
		cmocka_unit_test(test_json_blocks),
		cmocka_unit_test(test_random_split),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
