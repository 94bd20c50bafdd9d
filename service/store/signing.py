"""Ed25519 keys for signing audit checkpoints, kept outside the database.

The signing key is 32 raw bytes, base64 (or a PEM private key), from AUDIT_SIGNING_KEY or the
file AUDIT_SIGNING_KEY_FILE. A key is named by its key id: the first 16 hex digits of the sha256
of its raw public key. Public keys are published as base64 of the 32 raw bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALGORITHM = "Ed25519"


class SigningKeyError(ValueError):
    """A signing or public key that cannot be read."""


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_text(public: Ed25519PublicKey) -> str:
    return base64.b64encode(public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)).decode("ascii")


def read_public_key(text: str) -> Ed25519PublicKey:
    """A public key given as base64 of its 32 raw bytes, or as PEM."""
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            loaded = serialization.load_pem_public_key(text.encode("ascii"))
            if not isinstance(loaded, Ed25519PublicKey):
                raise SigningKeyError("the PEM key is not an Ed25519 public key")
            return loaded
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True))
    except (ValueError, binascii.Error) as exc:
        raise SigningKeyError(f"not an Ed25519 public key: {exc}") from exc


def previous_public_keys(text: str) -> list[Ed25519PublicKey]:
    """Retired public keys, comma-separated (AUDIT_PREVIOUS_PUBLIC_KEYS)."""
    return [read_public_key(part) for part in text.split(",") if part.strip()]


def read_private_key(text: str) -> Ed25519PrivateKey:
    """A signing key given as base64 of its 32 raw bytes, or as PEM (PKCS#8)."""
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            loaded = serialization.load_pem_private_key(text.encode("ascii"), password=None)
            if not isinstance(loaded, Ed25519PrivateKey):
                raise SigningKeyError("the PEM key is not an Ed25519 private key")
            return loaded
        return Ed25519PrivateKey.from_private_bytes(base64.b64decode(text, validate=True))
    except (ValueError, TypeError, binascii.Error) as exc:
        raise SigningKeyError(f"not an Ed25519 signing key: {exc}") from exc


def new_key_text() -> str:
    """A new signing key, as base64 of its 32 raw bytes."""
    raw = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return base64.b64encode(raw).decode("ascii")


@dataclass(frozen=True)
class Signer:
    """Signs checkpoint statements with the current key."""

    private: Ed25519PrivateKey

    @property
    def key_id(self) -> str:
        return key_id(self.private.public_key())

    @property
    def public_key(self) -> str:
        return public_text(self.private.public_key())

    def sign(self, message: bytes) -> str:
        return base64.b64encode(self.private.sign(message)).decode("ascii")

    @classmethod
    def from_text(cls, text: str) -> Signer:
        return cls(read_private_key(text))

    @classmethod
    def from_file(cls, path: Path, *, create: bool = False) -> Signer:
        """The key in ``path``; with ``create``, a new key is written there first if it is missing
        (readable by this user only)."""
        if create and not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(new_key_text() + "\n")
        try:
            return cls.from_text(path.read_text(encoding="ascii"))
        except OSError as exc:
            raise SigningKeyError(f"the signing key file {path} cannot be read: {exc}") from exc


def signature_valid(public: Ed25519PublicKey, message: bytes, signature: str) -> bool:
    try:
        public.verify(base64.b64decode(signature, validate=True), message)
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True
