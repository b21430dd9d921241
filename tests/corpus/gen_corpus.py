#!/usr/bin/env python3
"""Labelled personal-data corpus for gerbang's scanner.

Writes OUT/docs/<name> (the bodies) and OUT/labels.jsonl, one line per
personal identifier that a body contains: {"doc", "type", "value"} with the
value normalised the way gerbang-scan reports it (digits only; phones
"62" + national number; e-mail lower case; passport letter + 7 digits).

Body kinds: agency JSON responses, CSV exports, HTML tables (header row and
key/value forms), letters (surat keterangan) with formatted numbers, access
logs, other tables (JSON rows under a header row or a "columns" key, HTML
after a preamble with a <td><b> header row, markdown after an
introduction, text aligned with blanks, a mail whose HTML part is base64
wrapped at 76 columns), and
decoys: bodies full of look-alikes that hold no personal data
(timestamps, order and virtual-account numbers, invalid 16-digit numbers,
IMEIs, foreign and landline phones, company NPWPs, hex ids, UUIDs, masked
NIKs, role mailboxes, product codes). Look-alikes are also mixed into the
positive bodies. Identifiers come from deploy/demo/pii_gen.py (valid,
synthetic). Standard library only; deterministic for a seed.

usage: gen_corpus.py OUT [--seed N] [--docs N]
"""
import argparse
import base64
import json
import os
import random
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "deploy" / "demo"))
import pii_gen  # noqa: E402

ROLE_MAILS = ("humas@kemkes.go.id", "ppid@jakarta.go.id", "info@example.go.id",
              "noreply@example.com", "helpdesk@example.go.id",
              "pengaduan@example.go.id")


def digits(s):
    return "".join(c for c in s if c.isdigit())


class Doc:
    def __init__(self, name):
        self.name = name
        self.labels = set()

    def add(self, typ, value):
        self.labels.add((typ, value))


def lab_person(doc, p):
    doc.add("nik", p["nik"])
    doc.add("kk", p["no_kk"])
    if p["npwp"]:
        d = digits(p["npwp"])
        doc.add("nik" if len(d) == 16 else "npwp", d)
    if p["no_hp"]:
        doc.add("phone", pii_gen.normalize_phone(p["no_hp"]))
    if p["email"]:
        doc.add("email", p["email"].lower())


# --- look-alikes -----------------------------------------------------------

def luhn_complete(rng, prefix, n):
    body = prefix + "".join(rng.choice("0123456789")
                            for _ in range(n - 1 - len(prefix)))
    return body + pii_gen.luhn_check_digit(body)


def bad16(rng, regions):
    """A 16-digit number that is not a valid NIK (nor a Luhn brand card)."""
    while True:
        s = "".join(rng.choice("0123456789") for _ in range(16))
        if s[0] == "0":
            continue
        if pii_gen.is_valid_nik(s, regions):
            continue
        if pii_gen.luhn_valid(s) and s[0] in "2345 6":
            continue
        return s


def decoy_fields(rng, regions):
    """Key/value pairs of look-alikes (no personal data)."""
    ts = rng.randint(1700000000, 1760000000)
    f = {
        "request_id": str(uuid.UUID(int=rng.getrandbits(128))),
        "trace_id": "%032x" % rng.getrandbits(128),
        "timestamp": ts,
        "timestamp_ms": ts * 1000 + rng.randint(0, 999),
        "created_at_us": ts * 1000000 + rng.randint(0, 999999),
        "order_id": "%02d%02d%02d%010d" % (rng.randint(23, 25), rng.randint(1, 12),
                                           rng.randint(1, 28),
                                           rng.randint(0, 10**10 - 1)),
        "nomor_va": "8808" + "".join(rng.choice("0123456789") for _ in range(12)),
        "ref": bad16(rng, regions),
        "imei": luhn_complete(rng, "35" + str(rng.randint(1000, 9999)), 15),
        "kode_billing": "".join(rng.choice("0123456789") for _ in range(15)),
        "telepon_kantor": "(021) %d %04d" % (rng.randint(2000, 8999),
                                             rng.randint(0, 9999)),
        "kontak_luar_negeri": rng.choice(("+65 8123 4567", "+60 12-345 6789",
                                          "+1 415 555 0100",
                                          "+61 412 345 678")),
        "npwp_perusahaan": pii_gen.make_npwp_old(rng),
        "nik_tersamar": p_mask(rng, regions),
        "email_layanan": rng.choice(ROLE_MAILS),
        "kode_produk": "%s%07d" % (rng.choice("ABC"), rng.randint(0, 9999999)),
        "sku": "899%010d" % rng.randint(0, 10**10 - 1),
        "sha256": "%064x" % rng.getrandbits(256),
        "versi": "%d.%d.%d" % (rng.randint(0, 9), rng.randint(0, 20),
                               rng.randint(0, 99)),
        "jumlah": rng.randint(0, 10**9),
        "kode_pos": "%05d" % rng.randint(10000, 99999),
        # company branch id: 0 + company NPWP + 6-digit place (not personal)
        "nitku": "0" + digits(pii_gen.make_npwp_old(rng)) +
                 "%06d" % rng.randint(0, 30),
    }
    return f


def p_mask(rng, regions):
    nik = pii_gen.make_nik(rng, regions=regions)
    return rng.choice((nik[:4] + "********" + nik[12:],
                       nik[:6] + "******" + nik[12:],
                       nik[:4] + "xxxxxxxx" + nik[12:]))


# --- body kinds ------------------------------------------------------------

def body_json(rng, doc, people, regions):
    recs = []
    for p in people:
        r = dict(p)
        if rng.random() < 0.2:
            r["meta"] = {k: v for k, v in decoy_fields(rng, regions).items()
                         if rng.random() < 0.4}
        recs.append(r)
        lab_person(doc, p)
    body = {"status": "success", "kode": 200,
            "request_id": str(uuid.UUID(int=rng.getrandbits(128))),
            "waktu": rng.randint(1700000000000, 1760000000000),
            "data": recs, "total": len(recs)}
    return json.dumps(body, ensure_ascii=False,
                      indent=rng.choice((None, 2))).encode()


def body_csv(rng, doc, people, regions):
    sep = rng.choice((",", ";"))
    cols = list(pii_gen.FIELDS)
    lines = [sep.join(cols)]
    for p in people:
        row = []
        for c in cols:
            v = p[c] or ""
            if c in ("nik", "no_kk") and rng.random() < 0.2:
                v = "'" + v
            if sep in v or (rng.random() < 0.2 and v):
                v = '"' + v.replace('"', '""') + '"'
            row.append(v)
        lines.append(sep.join(row))
        lab_person(doc, p)
    return ("\r\n" if rng.random() < 0.3 else "\n").join(lines).encode() + b"\n"


def body_html(rng, doc, people, regions):
    out = ["<html><body><h1>Daftar Penduduk</h1>"]
    form = rng.random()
    if form < 0.4:
        # key/value form per person
        for p in people:
            out.append("<table class=\"biodata\">")
            out.append("<tr><td>Nama</td><td>%s</td></tr>" % p["nama"])
            out.append("<tr><td>NIK</td><td>%s</td></tr>" % p["nik"])
            out.append("<tr><td>No. KK</td><td>%s</td></tr>" % p["no_kk"])
            if p["no_hp"]:
                out.append("<tr><td>No. HP</td><td>%s</td></tr>" % p["no_hp"])
                doc.add("phone", pii_gen.normalize_phone(p["no_hp"]))
            if p["email"]:
                out.append("<tr><td>Email</td><td>%s</td></tr>" % p["email"])
                doc.add("email", p["email"].lower())
            out.append("</table>")
            doc.add("nik", p["nik"])
            doc.add("kk", p["no_kk"])
    elif form < 0.7:
        # a header row naming a KK column: its values are KKs, not NIKs
        out.append("<table class=\"kk\">\n<thead><tr><th>No.</th>"
                   "<th scope=\"col\">No. KK</th><th>Nama Kepala Keluarga</th>"
                   "<th><b>NIK</b></th></tr></thead><tbody>")
        for i, p in enumerate(people, 1):
            out.append("<tr><td>%d</td><td>%s</td><td>%s</td><td>%s</td></tr>"
                       % (i, p["no_kk"], p["nama"], p["nik"]))
            doc.add("kk", p["no_kk"])
            doc.add("nik", p["nik"])
        out.append("</tbody></table>")
    else:
        # one table with a header row: NIK, name, phone, e-mail
        out.append("<table><tr><th>No</th><th>NIK</th><th>Nama</th>"
                   "<th>Telepon</th><th>Email</th></tr>")
        for i, p in enumerate(people, 1):
            out.append("<tr><td>%d</td><td>%s</td><td>%s</td><td>%s</td>"
                       "<td>%s</td></tr>" % (i, p["nik"], p["nama"],
                                             p["no_hp"] or "-",
                                             p["email"] or "-"))
            doc.add("nik", p["nik"])
            if p["no_hp"]:
                doc.add("phone", pii_gen.normalize_phone(p["no_hp"]))
            if p["email"]:
                doc.add("email", p["email"].lower())
        out.append("</table>")
    out.append("<p>Diperbarui %d</p></body></html>" % rng.randint(1700000000,
                                                                  1760000000))
    return "\n".join(out).encode()


def fmt_nik(rng, n):
    style = rng.randrange(5)
    if style == 0:
        return n
    if style == 1:
        return "-".join(n[i:i + 2] for i in range(0, 12, 2)) + "-" + n[12:]
    if style == 2:
        return "%s %s %s %s" % (n[:2], n[2:6], n[6:12], n[12:])
    if style == 3:
        return "%s.%s.%s" % (n[:6], n[6:12], n[12:])
    return "%s %s %s" % (n[:6], n[6:12], n[12:])


def fmt_phone(rng, ph):
    nsn = pii_gen.normalize_phone(ph)[2:]
    style = rng.randrange(5)
    if style == 0:
        return "0" + nsn
    if style == 1:
        return "0%s-%s-%s" % (nsn[:3], nsn[3:7], nsn[7:])
    if style == 2:
        return "+62 %s-%s-%s" % (nsn[:3], nsn[3:7], nsn[7:])
    if style == 3:
        return "(+62) %s %s %s" % (nsn[:3], nsn[3:7], nsn[7:])
    return "62" + nsn


def body_letter(rng, doc, people, regions):
    p = people[0]
    lines = ["PEMERINTAH KOTA CONTOH", "KECAMATAN CONTOH",
             "SURAT KETERANGAN DOMISILI",
             "Nomor: 470/%03d/%d" % (rng.randint(1, 999), rng.randint(2020, 2025)),
             "", "Yang bertanda tangan di bawah ini menerangkan bahwa:", "",
             "Nama           : %s" % p["nama"],
             "NIK            : %s" % fmt_nik(rng, p["nik"]),
             "No. KK         : %s" % fmt_nik(rng, p["no_kk"]),
             "Tanggal lahir  : %s" % p["tanggal_lahir"],
             "Alamat         : %s" % p["alamat"]]
    doc.add("nik", p["nik"])
    doc.add("kk", p["no_kk"])
    if p["no_hp"]:
        lines.append("No. HP         : %s" % fmt_phone(rng, p["no_hp"]))
        doc.add("phone", pii_gen.normalize_phone(p["no_hp"]))
    if p["npwp"] and len(digits(p["npwp"])) == 15:
        lines.append("NPWP           : %s" % p["npwp"])
        doc.add("npwp", digits(p["npwp"]))
    if rng.random() < 0.6:
        # driving licence: old 12-digit YYMM.PP.AA.SSSS or 14-digit smart SIM
        if rng.random() < 0.5:
            sim = "%02d%02d%02d%02d%04d" % (rng.randint(60, 99),
                                            rng.randint(1, 12),
                                            rng.randint(1, 30),
                                            rng.randint(1, 40),
                                            rng.randint(1, 9999))
            shown = "%s.%s.%s.%s" % (sim[:4], sim[4:6], sim[6:8], sim[8:])
        else:
            sim = "%014d" % rng.randint(10**12, 10**14 - 1)
            shown = "%s-%s-%s-%s" % (sim[0], sim[1:5], sim[5:9], sim[9:])
        lines.append("No. SIM        : %s" % rng.choice((sim, shown)))
        doc.add("sim", sim)
    if rng.random() < 0.3:
        passport = "%s%07d" % (rng.choice("ABC"), rng.randint(1, 9999999))
        lines.append("No. Paspor     : %s" % passport)
        doc.add("passport", passport)
    if rng.random() < 0.3:
        nip = "%04d%02d%02d%04d%02d%d%03d" % (
            rng.randint(1960, 1995), rng.randint(1, 12), rng.randint(1, 28),
            rng.randint(2015, 2024), rng.randint(1, 12), rng.randint(1, 2),
            rng.randint(1, 20))
        lines.append("")
        lines.append("Petugas, NIP. %s %s %s %s" % (nip[:8], nip[8:14], nip[14],
                                                     nip[15:]))
        doc.add("nip", nip)
    if rng.random() < 0.3:
        bpjs = "000%010d" % rng.randint(1, 10**10 - 1)
        lines.append("No. Kartu BPJS : %s" % bpjs)
        doc.add("bpjs", bpjs)
    if rng.random() < 0.5:
        # the family card named after the number, not before it
        lines += ["", "Demikian surat ini dibuat. Tercatat dalam keluarga "
                  "dengan nomor %s (No. KK) dan %s %s." % (
                      p["no_kk"], p["nik"],
                      rng.choice(("(NIK)", "[nomor induk kependudukan]",
                                  "(NIK pemohon)")))]
    lines += ["", "Surat ini dibuat pada tanggal %d-%02d-%d untuk keperluan "
              "administrasi. Informasi: %s, telp. (021) %d %04d." % (
                  rng.randint(1, 28), rng.randint(1, 12), rng.randint(2020, 2025),
                  rng.choice(ROLE_MAILS), rng.randint(2000, 8999),
                  rng.randint(0, 9999))]
    return "\n".join(lines).encode()


def body_log(rng, doc, people, regions):
    out = []
    for p in people:
        ts = rng.randint(1700000000, 1760000000)
        rid = "%016x" % rng.getrandbits(64)
        kind = rng.randrange(3)
        if kind == 0:
            out.append("2024-06-%02dT%02d:%02d:%02d.%06dZ INFO req=%s GET "
                       "/api/v1/penduduk?nik=%s 200 %dms" % (
                           rng.randint(1, 28), rng.randint(0, 23),
                           rng.randint(0, 59), rng.randint(0, 59),
                           rng.randint(0, 999999), rid, p["nik"],
                           rng.randint(1, 900)))
            doc.add("nik", p["nik"])
        elif kind == 1 and p["email"]:
            out.append("ts=%d level=warn msg=\"login gagal\" user=%s ip=10.%d.%d.%d"
                       % (ts, p["email"], rng.randint(0, 255),
                          rng.randint(0, 255), rng.randint(0, 255)))
            doc.add("email", p["email"].lower())
        elif p["no_hp"]:
            out.append("%d otp sent to %s trx=%s" % (
                ts * 1000 + rng.randint(0, 999), p["no_hp"],
                decoy_fields(rng, regions)["order_id"]))
            doc.add("phone", pii_gen.normalize_phone(p["no_hp"]))
        else:
            out.append("%d heartbeat ok id=%s" % (ts, rid))
    return "\n".join(out).encode() + b"\n"


def body_decoy(rng, doc, people, regions):
    kind = rng.randrange(3)
    items = [decoy_fields(rng, regions) for _ in range(rng.randint(5, 30))]
    if kind == 0:
        return json.dumps({"status": "ok", "data": items}).encode()
    if kind == 1:
        keys = list(items[0].keys())
        lines = [",".join(keys)]
        for it in items:
            lines.append(",".join(str(it[k]) for k in keys))
        return "\n".join(lines).encode() + b"\n"
    out = []
    for it in items:
        out.append("Pesanan %s dibayar melalui VA %s pada %d (ref %s). "
                   "Hubungi %s atau %s. Kode produk %s, IMEI %s, NPWP PT "
                   "Sejahtera %s, NITKU %s %s." % (it["order_id"], it["nomor_va"],
                                      it["timestamp_ms"], it["ref"],
                                      it["telepon_kantor"],
                                      it["email_layanan"], it["kode_produk"],
                                      it["imei"], it["npwp_perusahaan"],
                                      it["nitku"][:16], it["nitku"][16:]))
    return "\n".join(out).encode()


def json_u(s, rng):
    """s with some characters written as JSON \\u escapes."""
    return "".join("\\u%04x" % ord(c) if rng.random() < 0.3 else c
                   for c in s)


def pct(s, rng):
    return "".join("%%%02X" % ord(c) if (not c.isalnum() or
                                         rng.random() < 0.2) else c
                   for c in s)


def body_encoded(rng, doc, people, regions):
    """Identifiers behind the decoding layers: JSON \\u escapes, base64
    blocks, percent-encoded forms, HTML entities; sometimes gzip."""
    import base64
    import gzip
    lines = []
    for p in people:
        lab_person(doc, p)
        k = rng.randrange(4)
        if k == 0:
            lines.append('{"nik":"%s","no_kk":"%s","nama":"%s","npwp":"%s",'
                         '"no_hp":"%s","email":"%s"}'
                         % (json_u(p["nik"], rng), json_u(p["no_kk"], rng),
                            p["nama"], json_u(p["npwp"] or "", rng),
                            json_u(p["no_hp"] or "", rng),
                            json_u(p["email"] or "", rng)))
        elif k == 1:
            rec = json.dumps({kk: p[kk] for kk in ("nik", "no_kk", "nama",
                                                   "npwp", "no_hp", "email")})
            enc = base64.b64encode(rec.encode())
            if rng.random() < 0.5:
                enc = base64.urlsafe_b64encode(rec.encode()).rstrip(b"=")
            lines.append('{"id":%d,"payload":"%s"}' % (rng.randint(1, 9999),
                                                       enc.decode()))
        elif k == 2:
            lines.append("GET /api/cek?nik=%s&no_kk=%s&npwp=%s&no_hp=%s"
                         "&email=%s HTTP/1.1"
                         % (pct(p["nik"], rng), pct(p["no_kk"], rng),
                            pct(p["npwp"] or "", rng),
                            pct(p["no_hp"] or "", rng),
                            pct(p["email"] or "", rng)))
        else:
            ent = "".join("&#%d;" % ord(c) if rng.random() < 0.3 else c
                          for c in p["nik"])
            em = (p["email"] or "").replace("@", "&commat;")
            lines.append("<p>NIK: %s, No. KK: %s, NPWP: %s, HP: %s, "
                         "Email: %s</p>" % (ent, p["no_kk"], p["npwp"] or "-",
                                            p["no_hp"] or "-", em or "-"))
    body = "\n".join(lines).encode() + b"\n"
    if rng.random() < 0.3:
        body = gzip.compress(body, mtime=0)
    return body


def body_tables(rng, doc, people, regions):
    """A NIK and a KK column (and a phone) in a table that is not a CSV
    export or an HTML page: the column headers say which is which."""
    cols = [("No", None), ("Nama", "nama"), ("No. KK", "no_kk"),
            ("NIK", "nik"), ("No. HP", "no_hp")]
    if rng.random() < 0.5:
        cols[2], cols[3] = cols[3], cols[2]
    rows = []
    for i, p in enumerate(people, 1):
        rows.append([str(i) if k is None else (p[k] or "-") for _, k in cols])
        doc.add("nik", p["nik"])
        doc.add("kk", p["no_kk"])
        if p["no_hp"]:
            doc.add("phone", pii_gen.normalize_phone(p["no_hp"]))
    heads = [h for h, _ in cols]
    form = rng.randrange(6)
    if form in (0, 5):
        keys = ["no", "nama_lengkap", "no_kk" if heads[2] == "No. KK" else
                "nik", "nik" if heads[3] == "NIK" else "no_kk", "no_hp"]
        data = [[int(r[0])] + r[1:] for r in rows]
        if form == 0:
            data = [keys] + data
        else:
            # pandas' "split" orient: the names under the first key.
            data = {"columns": keys, "index": list(range(len(rows))),
                    "data": data}
        return json.dumps(data, ensure_ascii=False,
                          indent=rng.choice((None, 1))).encode()
    if form in (1, 4):
        cell = rng.choice(("<td><b>%s</b></td>", "<td><strong>%s</strong></td>",
                           "<th>%s</th>"))
        out = ["Kepada Yth. Kepala Dinas,", "Berikut data yang diminta.", "",
               "<table border=\"1\">",
               "<tr><td colspan=\"5\">DATA WARGA RT %02d</td></tr>"
               % rng.randint(1, 20),
               "<tr>" + "".join(cell % h for h in heads) + "</tr>"]
        for r in rows:
            out.append("<tr>" + "".join("<td>%s</td>" % v for v in r) + "</tr>")
        out += ["</table>", "", "Hormat kami,", "Ketua RT"]
        html = "\r\n".join(out)
        if form == 1:
            return html.encode()
        # The same letter as a mail's HTML part, base64 at 76 columns.
        b64 = base64.encodebytes(html.encode()).decode()
        return ("From: ppid@example.go.id\r\nSubject: data warga\r\n"
                "MIME-Version: 1.0\r\nContent-Type: text/html; "
                "charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                + b64.replace("\n", "\r\n")).encode()
    if form == 2:
        out = ["Data penduduk RT %02d / RW %02d:" % (rng.randint(1, 20),
                                                   rng.randint(1, 9)), "",
               "| " + " | ".join(heads) + " |",
               "|" + "|".join("---" for _ in heads) + "|"]
        out += ["| " + " | ".join(r) + " |" for r in rows]
        return ("\n".join(out) + "\n").encode()
    w = [max(len(h), *(len(r[k]) for r in rows)) + 2
         for k, h in enumerate(heads)]
    lines = ["LAMPIRAN BERITA ACARA PENDATAAN", "DAFTAR ANGGOTA KELUARGA", "",
             "".join(h.ljust(w[k]) for k, h in enumerate(heads)).rstrip()]
    lines += ["".join(v.ljust(w[k]) for k, v in enumerate(r)).rstrip()
              for r in rows]
    return ("\n".join(lines) + "\n").encode()


KINDS = (("json", body_json, ".json"), ("csv", body_csv, ".csv"),
         ("html", body_html, ".html"), ("letter", body_letter, ".txt"),
         ("log", body_log, ".log"), ("decoy", body_decoy, ".json"),
         ("encoded", body_encoded, ".txt"), ("tables", body_tables, ".txt"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--docs", type=int, default=300)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    regions = pii_gen.load_regions()
    pop = pii_gen.generate_population(a.docs * 8, seed=a.seed, regions=regions)
    out = Path(a.out)
    (out / "docs").mkdir(parents=True, exist_ok=True)
    labels = []
    for i in range(a.docs):
        kname, fn, ext = KINDS[i % len(KINDS)]
        doc = Doc("%04d-%s%s" % (i, kname, ext))
        k = rng.randint(1, 12) if kname not in ("letter",) else 1
        start = rng.randrange(0, len(pop) - k)
        body = fn(rng, doc, pop[start:start + k], regions)
        (out / "docs" / doc.name).write_bytes(body)
        for typ, value in sorted(doc.labels):
            labels.append({"doc": doc.name, "type": typ, "value": value})
    with open(out / "labels.jsonl", "w", encoding="utf-8") as f:
        for lab in labels:
            f.write(json.dumps(lab) + "\n")
    print(f"{a.docs} documents, {len(labels)} labels in {out} "
          f"(regions: {regions.source})")


if __name__ == "__main__":
    main()
