"""The API over TLS, with the certificate and key named in the site config."""

from __future__ import annotations

import ipaddress
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.integration.api_server import SITE, ApiServer


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_path, key_path = directory / "api.pem", directory / "api-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))  # fmt: skip
    return cert_path, key_path


def test_the_api_serves_https_with_the_configured_certificate(tmp_path: Path) -> None:
    cert, _key = self_signed(tmp_path)
    site = SITE.replace(
        "api: {port: @API_PORT@,",
        "api: {port: @API_PORT@, tls: {certificate: api.pem, private_key: api-key.pem},",
    )
    api = ApiServer(tmp_path, site=site)
    api.scheme = "https"
    trust = ssl.create_default_context(cafile=str(cert))
    api.start(with_station=False, verify=trust)
    try:
        response = httpx.get(f"{api.url}/tags", headers=api.headers("read"), verify=trust)
        assert response.status_code == 200 and response.url.scheme == "https"
        try:
            httpx.get(f"http://127.0.0.1:{api.api_port}/api/v1/health", timeout=2)
            plain_refused = False
        except httpx.TransportError:
            plain_refused = True
        assert plain_refused
    finally:
        api.stop()
