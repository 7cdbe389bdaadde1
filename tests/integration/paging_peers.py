"""Real peers for the paging tests: Prism serving Twilio's OpenAPI spec, a recording proxy, SMTP.

Prism (npm ``@stoplight/prism-cli``) validates every request against Twilio's own contract and
answers 422 with the reason when one does not match. It answers with the spec's fixed example,
so the tests assert on what was *sent*: the :class:`RecordingProxy` in front of Prism keeps
every request (and Prism's status), in the test process, so it also sees what a killed and
restarted server sent. ``prefer`` makes Prism answer a chosen code (429, 500) through its
``Prefer: code=`` header, for the retry tests.
"""

from __future__ import annotations

import contextlib
import copy
import ipaddress
import json
import os
import socket
import ssl
import subprocess
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.parse import parse_qs, urlsplit
from urllib.request import Request, urlopen

from core.children import spawn
from tests.conftest import NPM_CACHE, REPO, free_port

TWILIO_SPEC = REPO / "tests" / "peers" / "twilio" / "twilio_api_v2010.json"
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "test-auth-token-0123456789"
PUBLIC_URL = "https://scada.example.test"


def twilio_spec() -> Path:
    """Twilio's official spec (kept unchanged in tests/peers/twilio), or ECRETEUR_TWILIO_SPEC."""
    return Path(os.environ.get("ECRETEUR_TWILIO_SPEC", TWILIO_SPEC))


def spec_with_errors(target: Path) -> Path:
    """A copy of the spec whose Messages and Calls creations may also answer 429 and 500.

    The official spec defines only 201 for them; Prism needs the code in the spec to serve it.
    The request side of the contract is untouched, so every request is still validated.
    """
    spec = json.loads(twilio_spec().read_text(encoding="utf-8"))
    error = {"description": "error", "content": {"application/json": {"schema": {"type": "object"}}}}
    for path, item in spec["paths"].items():
        if path.endswith(("/Messages.json", "/Calls.json")) and "post" in item:
            item["post"]["responses"]["429"] = copy.deepcopy(error)
            item["post"]["responses"]["500"] = copy.deepcopy(error)
    target.write_text(json.dumps(spec), encoding="utf-8")
    return target


class Prism:
    """``prism mock --errors`` on a loopback port."""

    def __init__(self, spec: Path, log: Path) -> None:
        self.port = free_port()
        binary = NPM_CACHE / "node_modules" / ".bin" / "prism"
        if not binary.exists():
            raise RuntimeError(f"Prism is not installed in {NPM_CACHE}: run installers/dev.sh test")
        self._log = log.open("w")
        self.process = spawn(
            [str(binary), "mock", "--errors", "-h", "127.0.0.1", "-p", str(self.port), str(spec)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 300  # ends as soon as Prism listens; a loaded PC is slow
        while time.monotonic() < deadline:
            if "Prism is listening" in log.read_text(encoding="utf-8", errors="replace"):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"Prism did not start:\n{log.read_text()[-3000:]}")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self._log.close()


@dataclass(frozen=True)
class Sent:
    """One request that reached the Twilio mock, and the status Prism gave it."""

    method: str
    path: str
    form: dict[str, str]
    status: int
    at: datetime
    detail: str = ""
    received: float = 0.0  # time.perf_counter() when the request reached the proxy

    @property
    def kind(self) -> str:
        return (
            "sms"
            if self.path.endswith("/Messages.json")
            else "voice"
            if self.path.endswith("/Calls.json")
            else "?"
        )


@dataclass
class RecordingProxy:
    """Forwards to Prism and records every request; ``prefer`` codes are served first."""

    upstream: str
    sent: list[Sent] = field(default_factory=list)
    prefer: deque[int] = field(default_factory=deque)

    def __post_init__(self) -> None:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self._forward("POST")

            def do_GET(self) -> None:
                self._forward("GET")

            def _forward(self, method: str) -> None:
                received = time.perf_counter()
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {
                    k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")
                }
                if proxy.prefer and method == "POST":
                    headers["Prefer"] = f"code={proxy.prefer.popleft()}"
                request = Request(
                    proxy.upstream + self.path, data=body or None, headers=headers, method=method
                )
                try:
                    with urlopen(request, timeout=30) as answer:
                        status, payload, kind = (
                            answer.status,
                            answer.read(),
                            answer.headers.get("Content-Type"),
                        )
                except HTTPError as err:
                    status, payload, kind = err.code, err.read(), err.headers.get("Content-Type")
                form = {k: v[-1] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
                detail = payload.decode(errors="replace") if status >= 400 else ""
                proxy.sent.append(
                    Sent(method, urlsplit(self.path).path, form, status, datetime.now(UTC), detail, received)
                )
                self.send_response(status)
                self.send_header("Content-Type", kind or "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def pages(self, kind: str | None = None) -> list[Sent]:
        """Messages and calls created (the status callbacks and reads are left out)."""
        return [
            s for s in self.sent if s.method == "POST" and s.kind != "?" and (kind is None or s.kind == kind)
        ]

    def invalid(self) -> list[Sent]:
        """Requests Prism refused as not matching Twilio's contract."""
        return [s for s in self.sent if s.status in (400, 401, 404, 405, 415, 422)]

    def clear(self) -> None:
        self.sent.clear()
        self.prefer.clear()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def twilio_section(proxy: RecordingProxy, secret: str = "twilio_token") -> dict[str, Any]:
    return {
        "account_sid": ACCOUNT_SID,
        "auth_token": secret,
        "from_number": "+33500000000",
        "public_url": PUBLIC_URL,
        "api_base": proxy.url,
        "timeout_s": 10,
    }


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, for the STARTTLS test server."""

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "smtp.crt", directory / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@dataclass
class Mailbox:
    """An aiosmtpd server on loopback that keeps what it receives."""

    messages: list[Any] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        from email import message_from_bytes, policy

        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def smtp_server(mailbox: Mailbox, directory: Path, user: str, password: str) -> Any:
    """Started aiosmtpd Controller requiring STARTTLS and AUTH; returns the controller."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    cert, key = self_signed(directory)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    def authenticate(_server: Any, _session: Any, _envelope: Any, _mechanism: str, data: Any) -> AuthResult:
        ok = data.login.decode() == user and data.password.decode() == password
        if ok:
            mailbox.logins.append(user)
        return AuthResult(success=ok)

    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=context,
        require_starttls=True,
        authenticator=authenticate,
        auth_required=True,
    )
    controller.start()
    controller.cert_path = cert
    return controller


class Blackhole:
    """A TCP server that accepts and never says a word: an SMTP server hung mid-flood."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = int(self.sock.getsockname()[1])

    def close(self) -> None:
        self.sock.close()


def signed_sms_reply(sender: str, body: str, sid: str) -> tuple[dict[str, str], dict[str, str]]:
    """The form and headers of an SMS reply as Twilio posts it to ``/api/v1/twilio/sms``."""
    from twilio.request_validator import RequestValidator

    form = {"From": sender, "To": "+33500000000", "Body": body, "MessageSid": sid}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + "/api/v1/twilio/sms", form)
    return form, {"X-Twilio-Signature": signature}


@contextlib.contextmanager
def twilio_mock(directory: Path) -> Iterator[RecordingProxy]:
    """For a bench: Prism serving Twilio's spec behind the recording proxy, and the account's
    token where a server in another process finds it (``$CREDENTIALS_DIRECTORY/twilio_token``,
    as systemd hands credentials over). Every request must have matched Twilio's contract."""
    credentials = directory / "credentials"
    credentials.mkdir(exist_ok=True)
    (credentials / "twilio_token").write_text(AUTH_TOKEN, encoding="utf-8")
    os.environ["CREDENTIALS_DIRECTORY"] = str(credentials)
    prism = Prism(twilio_spec(), directory / "prism.log")
    proxy = RecordingProxy(prism.url)
    try:
        yield proxy
    finally:
        proxy.close()
        prism.stop()
    assert not proxy.invalid(), proxy.invalid()
