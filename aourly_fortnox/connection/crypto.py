"""Tokens encrypted at rest with Fernet; several keys for rotation (first encrypts, all decrypt)."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from ..config import ConfigError


class TokenCipher:
    """Encrypts and decrypts OAuth tokens. Never logs or shows what it handles."""

    def __init__(self, keys: str | list[str]) -> None:
        raw = keys.split(",") if isinstance(keys, str) else list(keys)
        cleaned = [k.strip() for k in raw if k and k.strip()]
        if not cleaned:
            raise ConfigError("AOURLY_FORTNOX_TOKEN_KEYS holds no key.")
        fernets = []
        for position, key in enumerate(cleaned, start=1):
            try:
                fernets.append(Fernet(key.encode()))
            except (ValueError, TypeError):
                # Do not echo the key: it is a secret even when malformed.
                raise ConfigError(
                    f"AOURLY_FORTNOX_TOKEN_KEYS: key {position} is not a valid Fernet key "
                    "(32 url-safe base64-encoded bytes)."
                ) from None
        self._fernet = MultiFernet(fernets)

    def encrypt(self, plaintext: str) -> str:
        """Seal a token before it reaches the database, so a leaked dump holds no usable token."""
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        """Open a stored token; a key dropped too early is a config error saying how to rotate."""
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken:
            raise ConfigError(
                "A stored Fortnox token cannot be decrypted with AOURLY_FORTNOX_TOKEN_KEYS: "
                "keep the old key in the list (after the new one) until `flask fortnox "
                "rotate-keys` has run."
            ) from None

    def rotate(self, ciphertext: str) -> str:
        """Re-encrypt with the first key (``flask fortnox rotate-keys``)."""
        return self._fernet.rotate(ciphertext.encode()).decode()

    def __repr__(self) -> str:
        """Keeps the keys out of logs and tracebacks."""
        return "TokenCipher(***)"
