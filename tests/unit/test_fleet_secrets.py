"""Credentials encrypted at rest: Fernet under BEACON_SECRET_KEY, rotation, refusals, masking."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from core.config import Secret, load_settings
from core.errors import IntegrationError, UserInputError
from core.secrets_box import NO_KEY, SecretBox, mask, new_key


def test_round_trip_and_ciphertext_is_not_the_plaintext():
    box = SecretBox(new_key())
    token = box.encrypt("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    assert "wJalr" not in token
    assert box.decrypt(token) == "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    assert box.encrypt("same") != box.encrypt("same")  # random IV each time


def test_a_token_made_by_cryptography_itself_decrypts():
    key = new_key()
    reference = Fernet(key.encode()).encrypt(b"from the reference library").decode()
    assert SecretBox(Secret(key)).decrypt(reference) == "from the reference library"


def test_rotation_new_key_first_old_key_still_decrypts():
    old, new = new_key(), new_key()
    stored = SecretBox(old).encrypt("keep me")
    rotated = SecretBox(f"{new}, {old}")
    assert rotated.decrypt(stored) == "keep me"
    assert SecretBox(new).decrypt(rotated.encrypt("fresh")) == "fresh"  # encrypts with the first
    with pytest.raises(IntegrationError, match="the key changed"):
        SecretBox(new).decrypt(stored)


def test_without_a_key_storing_is_refused_with_how_to_set_one():
    box = SecretBox(None)
    assert not box.available
    with pytest.raises(UserInputError) as refused:
        box.encrypt("x")
    assert str(refused.value) == NO_KEY
    assert "BEACON_SECRET_KEY" in NO_KEY and "python -m core fleet secret-key" in NO_KEY
    with pytest.raises(IntegrationError, match="BEACON_SECRET_KEY is not set"):
        box.decrypt("gAAAA")


def test_a_malformed_key_is_refused():
    with pytest.raises(UserInputError, match="is not a Fernet key"):
        SecretBox("not-a-key")


def test_the_setting_reaches_the_box_and_never_shows(monkeypatch):
    key = new_key()
    monkeypatch.setenv("BEACON_SECRET_KEY", key)
    settings = load_settings()
    assert key not in repr(settings)
    assert SecretBox.from_settings(settings).available
    monkeypatch.delenv("BEACON_SECRET_KEY")
    assert not SecretBox.from_settings(load_settings()).available


@pytest.mark.parametrize(
    ("value", "shown"),
    [("AKIAIOSFODNN7EXAMPLE", "••••••••MPLE"), ("short", "••••••••"), ("", "••••••••")],
)
def test_mask_shows_only_the_last_four(value, shown):
    assert mask(value) == shown
