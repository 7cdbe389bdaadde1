"""Which station certificates the supervisor trusts: a per-site store, refused by default.

A secure session is only as good as the certificate it is opened with: a client that takes
whatever the endpoint presents hands the operator's password to any impostor on the network.
The store follows the OPC-UA convention (Part 12 §F.1): ``pki/trusted`` holds the DER
certificates an administrator accepted, ``pki/rejected`` the ones seen and refused, so that
``ecreteur trust STATION`` (or moving a file) is all it takes to accept one. A station whose
certificate is pinned in the config (``security.server_certificate``) is checked against that
file only. An expired or not-yet-valid certificate is refused even when trusted.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography import x509

from core.model import utcnow


class StationRefused(Exception):
    """A station that must not be used until someone acts; retrying at once will not help.

    ``fault`` names the kind for the status and the alarm: ``certificate``, ``policy``,
    ``authentication`` or ``secret``.
    """

    fault = "refused"


class CertificateRefused(StationRefused):
    fault = "certificate"


def first_certificate(blob: bytes) -> bytes:
    """The leaf of a DER chain (OPC-UA sends the chain as concatenated certificates)."""
    if len(blob) < 2 or blob[0] != 0x30:
        return blob
    length = blob[1]
    if length < 0x80:
        return blob[: 2 + length]
    count = length & 0x7F
    size = int.from_bytes(blob[2 : 2 + count], "big")
    return blob[: 2 + count + size]


def fingerprint(der: bytes) -> str:
    """SHA-256 of the certificate, as administrators compare it: ``AB:CD:…``."""
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def load_der(path: Path) -> bytes:
    """A certificate file in DER or PEM, as DER bytes."""
    data = path.read_bytes()
    if data.lstrip().startswith(b"-----BEGIN"):
        from cryptography.hazmat.primitives.serialization import Encoding

        return x509.load_pem_x509_certificate(data).public_bytes(Encoding.DER)
    return data


@dataclass(frozen=True, slots=True)
class CertificateInfo:
    """What an administrator needs to decide whether a certificate is the station's."""

    der: bytes
    fingerprint: str
    subject: str
    issuer: str
    not_before: datetime
    not_after: datetime

    @classmethod
    def parse(cls, der: bytes) -> CertificateInfo:
        cert = x509.load_der_x509_certificate(der)
        return cls(
            der,
            fingerprint(der),
            cert.subject.rfc4514_string(),
            cert.issuer.rfc4514_string(),
            cert.not_valid_before_utc,
            cert.not_valid_after_utc,
        )

    def validity_problem(self, now: datetime) -> str | None:
        if now > self.not_after:
            return f"expired on {self.not_after:%Y-%m-%d %H:%M} UTC"
        if now < self.not_before:
            return f"not valid before {self.not_before:%Y-%m-%d %H:%M} UTC"
        return None

    def describe(self) -> str:
        return (
            f"  subject:  {self.subject}\n  issuer:   {self.issuer}\n"
            f"  valid:    {self.not_before:%Y-%m-%d} to {self.not_after:%Y-%m-%d}\n"
            f"  SHA-256:  {self.fingerprint}"
        )


class TrustStore:
    """``pki/trusted`` and ``pki/rejected`` under the site's data directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.trusted_dir = root / "trusted"
        self.rejected_dir = root / "rejected"

    def trusted(self) -> set[str]:
        """Fingerprints of every certificate in ``pki/trusted`` (DER or PEM files)."""
        found: set[str] = set()
        if self.trusted_dir.is_dir():
            for path in self.trusted_dir.iterdir():
                if path.is_file() and path.suffix.lower() in (".der", ".pem", ".crt", ".cer"):
                    try:
                        found.add(fingerprint(load_der(path)))
                    except (OSError, ValueError):
                        continue
        return found

    def version(self) -> float:
        """Changes when an administrator trusts a certificate: a refused link retries then."""
        try:
            return self.trusted_dir.stat().st_mtime
        except OSError:
            return 0.0

    def trust(self, station: str, der: bytes) -> Path:
        """Accept ``der`` for good; it leaves ``pki/rejected`` if it was there."""
        self.trusted_dir.mkdir(parents=True, exist_ok=True)
        name = f"{station}-{fingerprint(der).replace(':', '')[:16].lower()}.der"
        path = self.trusted_dir / name
        path.write_bytes(der)
        (self.rejected_dir / name).unlink(missing_ok=True)
        return path

    def reject(self, station: str, der: bytes) -> Path:
        self.rejected_dir.mkdir(parents=True, exist_ok=True)
        path = self.rejected_dir / f"{station}-{fingerprint(der).replace(':', '')[:16].lower()}.der"
        path.write_bytes(der)
        return path

    def check(self, station: str, endpoint: str, der: bytes, pinned: Path | None, fix: str) -> None:
        """Raise :class:`CertificateRefused` with the way out, unless ``der`` may be used.

        ``fix`` is the command that trusts the station (shown to the operator as is).
        """
        info = CertificateInfo.parse(der)
        problem = info.validity_problem(utcnow())
        if problem is not None:
            raise CertificateRefused(
                f"station {station} ({endpoint}): its certificate {info.fingerprint} is {problem}; "
                "renew it on the station"
            )
        if pinned is not None:
            expected = fingerprint(load_der(pinned))
            if expected != info.fingerprint:
                raise CertificateRefused(
                    f"station {station} ({endpoint}) presented a certificate that does not match the "
                    f"pinned certificate {pinned}: presented SHA-256 {info.fingerprint}, pinned {expected}"
                )
            return
        if info.fingerprint in self.trusted():
            return
        self.reject(station, der)
        raise CertificateRefused(
            f"station {station} ({endpoint}) presented an unknown certificate, SHA-256 {info.fingerprint} "
            f"({info.subject}); if it is the station's, trust it with `{fix}`"
        )
