"""Reply and forward prefixes as clients write them, in one list for every rule."""

from __future__ import annotations

import pytest

from libs.common.record_token import apply_record_token, find_record_token
from libs.common.subject_prefix import prefix_end, without_prefixes
from services.ticketer.domain.acknowledgement import ack_subject

PREFIXED = [
    "Re: Drucker",
    "RE: Drucker",
    "Re[2]: Drucker",
    "Re(3): Drucker",
    "Re^2: Drucker",
    "Re: Re: Drucker",
    "AW: Drucker",
    "WG: AW: Drucker",
    "Antw: Drucker",
    "SV: Drucker",
    "VS: Drucker",
    "Vá: Drucker",
    "VÁ: Drucker",
    "Odp: Drucker",
    "Ynt: Drucker",
    "R: Drucker",
    "RIF: Drucker",
    "Enc: Drucker",
    "TR: Drucker",
    "Fwd: Drucker",
    "FW: Drucker",
    "Re : Drucker",
    "回复: Drucker",
    "回覆: Drucker",
    "答复: Drucker",
    "转发: Drucker",
    "回复\uff1aDrucker",
    "Re\uff1a Drucker",
    "Ответ: Drucker",
    "RE: AW: Fwd: 回复\uff1a Drucker",
]


@pytest.mark.parametrize("subject", PREFIXED)
def test_every_client_prefix_and_their_stacks_end_where_the_subject_starts(subject: str) -> None:
    assert without_prefixes(subject) == "Drucker"
    assert subject[prefix_end(subject) :] == "Drucker"


@pytest.mark.parametrize(
    "subject", ["Drucker", "Read: the manual", "Fwd-Error: printer", "Rechnung: März", "Ire: x"]
)
def test_words_that_only_begin_like_a_prefix_are_kept(subject: str) -> None:
    assert without_prefixes(subject) == subject


@pytest.mark.parametrize("subject", PREFIXED)
def test_the_record_token_goes_after_every_prefix_and_is_found_again(subject: str) -> None:
    tokened = apply_record_token(subject, 42)
    assert tokened[: prefix_end(subject)] == subject[: prefix_end(subject)]
    assert tokened.endswith("[#42] Drucker")
    assert find_record_token(tokened) == 42


@pytest.mark.parametrize("subject", PREFIXED)
def test_the_acknowledgement_says_re_once_whatever_the_client_prefixed(subject: str) -> None:
    assert ack_subject(subject) == "Re: Drucker"


def test_the_acknowledgement_of_a_subject_that_is_only_prefixes_names_the_message() -> None:
    assert ack_subject("RE: ") == "Re: your message"
    assert ack_subject("") == "Re: your message"
