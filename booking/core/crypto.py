"""Encryption at rest for free text and identifiers in the intake.

A column declared as :class:`EncryptedText` stores a Fernet token; the plaintext exists only in
memory. Keys come from ``ENCRYPTION_KEYS`` (comma separated): the first encrypts, every key
decrypts (MultiFernet), so a new key can be put first and ``flask rotate-keys`` re-encrypts the
old rows at leisure. Categorical answers are not encrypted, so staff can filter on them.
"""

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import Flask, current_app

EXTENSION_KEY = "booking_fernet"


def build_fernet(keys: str) -> MultiFernet:
    """A MultiFernet from the comma-separated setting; a malformed key stops start-up."""
    parts = [key.strip() for key in keys.split(",") if key.strip()]
    if not parts:
        raise RuntimeError("ENCRYPTION_KEYS is empty")
    try:
        return MultiFernet([Fernet(key) for key in parts])
    except ValueError as error:
        raise RuntimeError(
            "ENCRYPTION_KEYS holds a key that is not a Fernet key "
            "(32 url-safe base64-encoded bytes; make one with `flask generate-key`)"
        ) from error


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION_KEY] = build_fernet(app.config["ENCRYPTION_KEYS"])


def fernet() -> MultiFernet:
    return current_app.extensions[EXTENSION_KEY]


def generate_key() -> str:
    return Fernet.generate_key().decode()


class EncryptedText(sa.types.TypeDecorator):
    """Text encrypted with the app's MultiFernet on the way in, decrypted on the way out."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return fernet().encrypt(value.encode("utf-8")).decode("ascii")

    def process_result_value(self, value, dialect):
        return decrypt(value)


def decrypt(value: str | None) -> str | None:
    """A stored ciphertext as text. A value written under a key that is no longer configured
    (or damaged) fails loudly rather than reading as empty, which staff would take for "the
    patient said nothing"."""
    if value is None:
        return None
    try:
        return fernet().decrypt(value.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError):
        raise RuntimeError(
            "an encrypted value cannot be read with the configured ENCRYPTION_KEYS"
        ) from None
