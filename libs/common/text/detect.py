"""Text from bytes that name no charset, or a wrong one (docs/classification.md, "Charsets").

In this order:
1. a UTF-16/32 byte-order mark names its encoding, ISO-2022 escape sequences in 7-bit text
   name theirs; then valid UTF-8 is UTF-8 (a UTF-8 byte-order mark is dropped);
2. UTF-8 with a few stray 8-bit bytes (a UTF-8 mail quoting a Latin-1 one) stays UTF-8, and
   each stray run is read as cp1252;
3. the ``hint`` — the charset the mail declares for its text — when the bytes fit it: mail
   programs that write raw 8-bit headers or mislabel a part use their body's charset;
4. fewer than :data:`SHORT` non-ASCII bytes (in the first 64 KiB) are too few to tell
   scripts apart: cp1252, the Western default of Exchange and most mail programs;
5. otherwise each plausible charset — the usual legacy mail charsets and whatever
   charset-normalizer proposes — decodes the bytes, and the most natural text wins
   (:func:`libs.common.text.score.badness`, plus charset-normalizer's own measure of mess and
   language fit, which counts in full from 64 non-ASCII bytes on), the earlier candidate on a
   tie. A handful of CJK bytes (one or two characters) remains a guess;
6. if nothing decodes cleanly: windows-1252, which reads any byte (:func:`western`).

The result may still hold lone surrogates (UTF-7, UTF-16 with a broken pair):
:func:`libs.common.text.charsets.decode_text` scrubs them.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

from libs.common.text.labels import codec_name, decode_as, western
from libs.common.text.score import badness

#: Below this many non-ASCII bytes, detection is guesswork: the Western default is used.
SHORT = 4
#: Detection reads this much of a large body; the whole is still decoded with the winner.
_SAMPLE = 64 * 1024
#: Legacy charsets of unlabelled mail, in order of preference on a tie.
CANDIDATES = (
    "cp1252",
    "cp1250",
    "iso8859_2",
    "cp1251",
    "koi8_r",
    "koi8_u",
    "iso8859_5",
    "cp1253",
    "iso8859_7",
    "cp1254",
    "cp1257",
    # Korean before Chinese: Korean text read as GB 2312 gives everyday hanzi, while Chinese
    # text read as Korean soon shows hanja, so on a tie the bytes are Korean.
    "cp949",
    "gb18030",
    "cp932",
    "euc_jp",
    "big5",
    "cp1255",
    "cp1256",
    "iso8859_6",
    "cp874",
)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_ISO2022 = ((b"\x1b$)C", "iso2022_kr"), (b"\x1b$", "iso2022_jp_2"), (b"\x1b(J", "iso2022_jp"))
_USUAL = frozenset(codecs.lookup(c).name.replace("-", "_") for c in CANDIDATES)
#: charset-normalizer's cost for a charset it did not propose.
_UNPROPOSED = 0.25
#: From this many non-ASCII bytes on, charset-normalizer's opinion counts in full.
_TRUSTED = 64
_STRAY = re.compile(r"[\udc80-\udcff]+")
_HIGH = re.compile(rb"[\x80-\xff]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def detect_text(data: bytes, hint: str | None = None) -> str:
    """The most likely text of ``data`` (``hint``: a charset label to try before guessing);
    never raises."""
    for step in (_marked, _utf8, mostly_utf8):
        found = step(data)
        if found is not None:
            return found
    hinted = decode_as(data, codec_name(hint))
    if hinted is not None:
        return hinted
    if len(_HIGH.findall(data[:_SAMPLE], 0)) < SHORT:
        return western(data)
    return _best(data)


def mostly_utf8(data: bytes, *, labelled: bool = False) -> str | None:
    """UTF-8 text with stray 8-bit bytes, each stray run read as cp1252; ``None`` when the
    bytes are not mostly UTF-8: no valid multi-byte character at all or, unless the mail
    says UTF-8 (``labelled``), fewer of them than stray bytes."""
    text = data.decode("utf-8", errors="surrogateescape")
    stray = sum(len(run) for run in _STRAY.findall(text))
    valid = len(_NON_ASCII.findall(text)) - stray
    if valid == 0 or (stray > valid and not labelled):
        return None
    return _STRAY.sub(_cp1252_run, text)


def _utf8(data: bytes) -> str | None:
    return decode_as(data, "utf-8-sig")  # a UTF-8 byte-order mark is dropped


def _cp1252_run(match: re.Match[str]) -> str:
    return western(match.group(0).encode("utf-8", errors="surrogateescape"))


def _marked(data: bytes) -> str | None:
    """Text whose own bytes name its encoding: a byte-order mark, ISO-2022 escapes."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError:
                return None
    if b"\x1b" in data and not _HIGH.search(data):
        for escape, codec in _ISO2022:
            if escape in data:
                try:
                    return data.decode(codec)
                except UnicodeDecodeError:
                    continue
    return None


def _best(data: bytes) -> str:
    sample = data[:_SAMPLE]
    best: tuple[float, int, str] | None = None
    opinions = _opinions(sample)
    # charset-normalizer's language measures need text: on a few bytes they are noise.
    weight = min(1.0, len(_HIGH.findall(sample)) / _TRUSTED)
    for rank, codec in enumerate(_candidates(opinions)):
        try:
            text = sample.decode(codec)
        except (UnicodeDecodeError, LookupError):
            # A sample cut inside a multi-byte character still counts: drop the tail.
            text = _decode_cut(sample, codec) if len(data) > _SAMPLE else ""
            if not text:
                continue
        opinion = opinions.get(codec, _UNPROPOSED) * weight + _prior(codec)
        score = (badness(text, codec) + opinion, rank, codec)
        if best is None or score < best:
            best = score
    if best is None:
        return western(data)
    try:
        return data.decode(best[2])
    except UnicodeDecodeError:  # past the sample: the winner keeps what it can read
        return data.decode(best[2], errors="replace")


def _opinions(sample: bytes) -> dict[str, float]:
    """charset-normalizer's view of each charset it finds plausible, as a cost: its measure of
    mess, and how far the letters are from any language's frequencies (which tells Hebrew from
    Cyrillic, or Korean from Chinese, where the text alone looks clean either way)."""
    found: dict[str, float] = {}
    try:
        matches = list(from_bytes(sample))
    except Exception:  # a detector bug must not cost the mail: the candidates still compete
        return found
    for match in matches:
        name = _name(match.encoding)
        if not name.startswith(("utf_16", "utf_32")):  # without a BOM: never in mail
            found.setdefault(name, 0.5 * match.chaos + 0.2 * (1.0 - match.coherence))
    return found


def _candidates(opinions: dict[str, float]) -> list[str]:
    return list(dict.fromkeys([_name(c) for c in CANDIDATES] + list(opinions)))


def _prior(codec: str) -> float:
    """A little against charsets charset-normalizer knows but mail hardly uses (hp_roman8,
    mac_*, DOS code pages): they win only where the usual ones read worse."""
    return 0.0 if codec in _USUAL else 0.05


def _name(codec: str) -> str:
    return codecs.lookup(codec).name.replace("-", "_")


def _decode_cut(sample: bytes, codec: str) -> str:
    for cut in range(1, 4):
        try:
            return sample[:-cut].decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
    return ""
