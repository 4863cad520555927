"""Shapes of mail real helpdesks receive that the shipped corpus lacks: broken transfer
encodings and MIME boundaries, missing and repeated headers, TNEF, calendar invites, S/MIME
and PGP, odd line endings, one mail delivered twice. Generated for the real-world corpus test
(see ``worst_mail.py``)."""

from __future__ import annotations

import base64
import struct

from tests.e2e.mailbytes import CRLF, build, multipart, sample, std, text_mail
from tests.e2e.samples import Sample

PLAIN = b"Content-Type: text/plain; charset=utf-8\r\n\r\n"


def encodings() -> list[Sample]:
    return [
        sample(
            "broken-base64",
            text_mail("b64", "Scan", b"SGVsbG8gd29y!!bGQ*\r\nbm90IHBhZGRlZA\r\n", cte="base64"),
        ),
        sample(
            "broken-quoted-printable",
            text_mail(
                "qp", "Quote", b"Price =ZZ 100 =E2=82=AC=\r\nsoft =\r\n", cte="quoted-printable"
            ),
        ),
        sample(
            "unknown-transfer-encoding", text_mail("cte", "Odd", b"plain words\r\n", cte="x-foo")
        ),
        sample(
            "unknown-8bit",
            text_mail(
                "unknown-8bit",
                "Ueberweisung",
                "Die Überweisung ist nicht angekommen.\r\n".encode(),
                "text/plain; charset=unknown-8bit",
            ),
            "request",
            body="Überweisung ist nicht angekommen",
        ),
        sample(
            "bogus-charset",
            text_mail(
                "bogus", "Hello", b"Plain ASCII words.\r\n", "text/plain; charset=foo-bar-42"
            ),
            "request",
            body="Plain ASCII words.",
        ),
        sample(
            "subject-unknown-charset-word",
            text_mail("ew-unknown", "=?x-unknown?Q?Gr=FC=DFe?=", b"Hi.\r\n"),
        ),
        sample("subject-broken-base64-word", text_mail("ew-b64", "=?utf-8?B?w7w!!?=", b"Hi.\r\n")),
    ]


def structure() -> list[Sample]:
    never = build(
        std(
            "no-boundary-seen", "Attached", more=[("Content-Type", 'multipart/mixed; boundary="X"')]
        ),
        b"--Y\r\nContent-Type: text/plain\r\n\r\nwrong boundary\r\n--Y--\r\n",
    )
    unclosed = build(
        std("unclosed", "Unclosed", more=[("Content-Type", 'multipart/mixed; boundary="U"')]),
        b"--U\r\nContent-Type: text/plain\r\n\r\nthe last part never ends\r\n",
    )
    no_param = build(
        std("no-param", "No boundary", more=[("Content-Type", "multipart/mixed")]),
        b"--Z\r\nContent-Type: text/plain\r\n\r\nno boundary parameter\r\n--Z--\r\n",
    )
    return [
        sample("boundary-never-appears", never),
        sample("boundary-never-closed", unclosed),
        sample("multipart-without-boundary", no_param),
        sample(
            "forwarded-latin1",
            multipart(
                "fwd",
                "Fwd: Rechnung",
                [
                    PLAIN + b"See below.",
                    b"Content-Type: message/rfc822\r\n\r\n"
                    + build(
                        [("From", "a@b.example"), ("Subject", "Rechnung")],
                        "Grüße, die Rechnung ist falsch.".encode("latin-1"),
                    ),
                ],
            ),
            "request",
            body="See below.",
        ),
        sample(
            "html-only",
            text_mail(
                "html",
                "HTML only",
                b"<p>My <b>screen</b> is black.</p><script>x()</script>",
                "text/html; charset=utf-8",
            ),
            "request",
        ),
        sample("empty-body", build(std("empty-body", "Empty"))),
        sample(
            "raw-utf8-filename",
            multipart(
                "filename",
                "Attachment",
                [
                    PLAIN + b"Report attached.",
                    b"Content-Type: application/pdf\r\nContent-Disposition: attachment; "
                    + 'filename="Bericht März.pdf"'.encode()
                    + b"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                    + base64.b64encode(b"%PDF-1.4 not really"),
                ],
            ),
            "request",
            body="Report attached.",
        ),
    ]


def headers() -> list[Sample]:
    return [
        sample("no-from-date-message-id", b"Subject: anonymous\r\n\r\nWho sent this?\r\n"),
        sample(
            "repeated-headers",
            build(
                [
                    *std("repeat-1", "First subject"),
                    ("Subject", "Second subject"),
                    ("From", "Other <other@customer.example>"),
                    ("Message-ID", "<repeat-2@worst.example>"),
                ],
                b"Which one counts?\r\n",
            ),
        ),
        sample(
            "lf-line-endings",
            build(std("lf", "Unix mail"), b"Written on Unix.\n", eol=b"\n"),
            "request",
            body="Written on Unix.",
        ),
        sample("cr-line-endings", build(std("cr", "Classic Mac"), b"Old Mac.\r", eol=b"\r")),
    ]


def attachments() -> list[Sample]:
    signed = multipart(
        "smime-signed",
        "Signed",
        [
            PLAIN + b"This mail is signed.",
            b"Content-Type: application/pkcs7-signature; name=smime.p7s\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(bytes(range(256))),
        ],
        'signed; protocol="application/pkcs7-signature"; micalg=sha-256',
    )
    opaque = text_mail(
        "smime-opaque",
        "Opaque",
        base64.b64encode(bytes(range(256)) * 4),
        "application/pkcs7-mime; smime-type=signed-data; name=smime.p7m",
        "base64",
    )
    pgp = multipart(
        "pgp",
        "Encrypted",
        [
            b"Content-Type: application/pgp-encrypted\r\n\r\nVersion: 1",
            b"Content-Type: application/octet-stream\r\n\r\n-----BEGIN PGP MESSAGE-----\r\n"
            b"hQEMA0XUv2Yy0Qe3AQf/Zm9v\r\n-----END PGP MESSAGE-----",
        ],
        'encrypted; protocol="application/pgp-encrypted"',
    )
    invite = multipart(
        "invite",
        "Invitation: Review",
        [
            PLAIN + b"You are invited.",
            b"Content-Type: text/calendar; method=REQUEST; charset=utf-8\r\n\r\n"
            b"BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:1@worst.example\r\n"
            b"DTSTART:20261202T100000Z\r\nSUMMARY:Review\r\nEND:VEVENT\r\nEND:VCALENDAR",
        ],
        "alternative",
    )
    winmail = multipart(
        "tnef",
        "Outlook rich text",
        [
            PLAIN + b"See the attachment.",
            b"Content-Type: application/ms-tnef; name=winmail.dat\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(tnef()),
        ],
    )
    return [
        sample("smime-signed", signed, "request", body="This mail is signed."),
        sample("smime-opaque", opaque),
        sample("pgp-encrypted", pgp),
        sample("calendar-invite", invite),
        sample("tnef-winmail-dat", winmail, "request", body="See the attachment."),
    ]


def tnef() -> bytes:
    """A minimal winmail.dat: the TNEF signature, a key and the version attribute."""
    data = struct.pack("<I", 0x00010000)
    attribute = struct.pack("<BII", 1, 0x00089006, len(data)) + data
    attribute += struct.pack("<H", sum(data) & 0xFFFF)
    return struct.pack("<IH", 0x223E9F78, 0x1234) + attribute


def delivered_twice() -> list[Sample]:
    """The very same bytes twice (a resend, a journaling copy): one record, one duplicate."""
    raw = text_mail("twice", "Same mail twice", b"This mail arrives twice." + CRLF)
    return [
        sample("delivered-twice-1", raw, note="identical copy of delivered-twice-2"),
        sample("delivered-twice-2", raw, note="identical copy of delivered-twice-1"),
    ]


def oddities() -> list[Sample]:
    return [*encodings(), *structure(), *headers(), *attachments(), *delivered_twice()]
