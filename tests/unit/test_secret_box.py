"""The integrations' secrets at rest: sealed with the key, opened only with it; a wrong or
missing key, a changed token or a malformed key is one typed line that never shows a key or a
secret."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from pydantic import SecretStr

from libs.common.errors import PermanentError
from libs.common.secret_box import KEY_HINT, SecretBox, SecretsKeyError, key_id, load_box, new_key

SECRET = "Xy7~q8Q.abcdefghijklmnopqrstuvwxyz012345"


def _shows_nothing(exc: BaseException, *hidden: str) -> None:
    text = f"{exc} {exc!r} {getattr(exc, 'hint', '')}"
    for value in hidden:
        assert value not in text


def test_round_trip_and_the_key_id_in_the_token() -> None:
    key = new_key()
    box = SecretBox(key)
    sealed = box.seal(SecretStr(SECRET))
    assert SECRET not in sealed
    assert sealed.startswith(f"f1:{key_id(key.encode())}:")
    assert box.open(sealed).get_secret_value() == SECRET
    # Fernet tokens carry a random IV: the same secret seals differently each time.
    assert box.seal(SecretStr(SECRET)) != sealed


def test_a_wrong_key_is_a_permanent_error_saying_which_key_to_set() -> None:
    right, wrong = new_key(), new_key()
    sealed = SecretBox(right).seal(SecretStr(SECRET))
    with pytest.raises(SecretsKeyError) as caught:
        SecretBox(wrong).open(sealed)
    assert isinstance(caught.value, PermanentError)
    assert caught.value.hint == KEY_HINT
    assert "set MAILPIPE_SECRETS_KEY_FILE to the key the integrations were saved with" in str(
        caught.value
    )
    _shows_nothing(caught.value, right, wrong, SECRET)


def test_a_changed_token_is_refused_not_decrypted() -> None:
    key = new_key()
    box = SecretBox(key)
    sealed = box.seal(SecretStr(SECRET))
    form, kid, token = sealed.split(":", 2)
    raw = bytearray(base64.urlsafe_b64decode(token))
    raw[-40] ^= 0x01
    tampered = f"{form}:{kid}:{base64.urlsafe_b64encode(bytes(raw)).decode()}"
    with pytest.raises(SecretsKeyError, match="does not decrypt") as caught:
        box.open(tampered)
    _shows_nothing(caught.value, key, SECRET)
    with pytest.raises(SecretsKeyError, match="not in a form"):
        box.open("plain text")


def test_rotation_the_first_key_seals_every_key_opens() -> None:
    old, new = new_key(), new_key()
    sealed_old = SecretBox(old).seal(SecretStr("old secret"))
    rotated = SecretBox(f"{new}, {old}")
    assert rotated.key_id == key_id(new.encode())
    assert rotated.open(sealed_old).get_secret_value() == "old secret"
    assert rotated.seal(SecretStr("s")).split(":")[1] == key_id(new.encode())


@pytest.mark.parametrize("bad", ["not-a-key", base64.urlsafe_b64encode(b"short").decode(), " "])
def test_a_malformed_key_is_refused_without_echoing_it(bad: str) -> None:
    with pytest.raises(SecretsKeyError) as caught:
        SecretBox(bad)
    if bad.strip():
        _shows_nothing(caught.value, bad)
    assert caught.value.hint is not None


def test_the_key_from_a_file_or_the_variable_and_none_at_all(tmp_path: Path) -> None:
    key = new_key()
    file = tmp_path / "key"
    file.write_text(key + "\n")
    assert load_box(None, file).key_id == key_id(key.encode())
    assert load_box(SecretStr(key), None).key_id == key_id(key.encode())
    with pytest.raises(SecretsKeyError) as caught:
        load_box(None, None)
    assert "MAILPIPE_SECRETS_KEY_FILE" in str(caught.value)
    with pytest.raises(PermanentError, match="cannot read"):
        load_box(None, tmp_path / "missing")


def test_repr_shows_key_ids_only() -> None:
    key = new_key()
    box = SecretBox(key)
    assert key not in repr(box)
    assert key_id(key.encode()) in repr(box)
