"""The mail worker's SMTP connection as a provider's relay asks for it: STARTTLS on
submission, implicit TLS (smtps://), a login, and a certificate it must be able to trust.
Against aiosmtpd on loopback with a certificate made for the test."""

import ssl
import subprocess
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from optout_tracker.mail_worker import smtp_send
from tests.conftest import make_settings
from tests.test_mail import free_port

USER, PASSWORD = "alerts@coalition.example.org", "p@ss:word/1"  # characters a URL must escape
IN_URL = "alerts%40coalition.example.org:p%40ss%3Aword%2F1"


@dataclass
class Relay:
    received: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.received.append(envelope.content.decode())
        return "250 OK"


def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost: (certificate, key)."""
    where = tmp_path_factory.mktemp("tls")
    cert, key = where / "cert.pem", where / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def trusted(certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker trusts the test's certificate as it would a system CA (SSL_CERT_FILE)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))


def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


@pytest.fixture
def starttls(certificate: tuple[Path, Path]) -> Iterator[tuple[Relay, int]]:
    """A submission relay: STARTTLS required before anything, a login required after it."""
    relay, port = Relay(), free_port()
    controller = Controller(
        relay, hostname="127.0.0.1", port=port, tls_context=server_context(certificate),
        require_starttls=True, authenticator=authenticate, auth_required=True,
    )  # fmt: skip
    controller.start()
    yield relay, port
    controller.stop()


@pytest.fixture
def implicit_tls(certificate: tuple[Path, Path]) -> Iterator[tuple[Relay, int]]:
    """An smtps relay: TLS from the first byte, a login required."""
    relay, port = Relay(), free_port()
    # aiosmtpd counts only STARTTLS as TLS when it checks that AUTH is encrypted, and warns.
    warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS", UserWarning)
    controller = Controller(
        relay, hostname="127.0.0.1", port=port, ssl_context=server_context(certificate),
        authenticator=authenticate, auth_required=True, auth_require_tls=False,
    )  # fmt: skip
    controller.start()
    yield relay, port
    controller.stop()


def message() -> EmailMessage:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = USER, "ana@example.org", "Marin County: answer due"
    m.set_content("The answer is due on December 6, 2026.")
    return m


def send(url: str) -> None:
    smtp_send(make_settings("sqlite://", smtp_url=url, mail_timeout_seconds=5), message())


@pytest.mark.usefixtures("trusted")
def test_starttls_with_a_login_delivers(starttls: tuple[Relay, int]) -> None:
    relay, port = starttls
    send(f"smtp://{IN_URL}@127.0.0.1:{port}")
    assert len(relay.received) == 1 and "answer is due on December 6" in relay.received[0]


@pytest.mark.usefixtures("trusted")
def test_implicit_tls_with_a_login_delivers(implicit_tls: tuple[Relay, int]) -> None:
    relay, port = implicit_tls
    send(f"smtps://{IN_URL}@127.0.0.1:{port}")
    assert len(relay.received) == 1


def test_a_certificate_the_host_does_not_trust_stops_the_mail(
    starttls: tuple[Relay, int], implicit_tls: tuple[Relay, int]
) -> None:
    """Without the test's certificate among the trusted ones, neither way sends: the
    password never goes to a server that could be anyone."""
    for scheme, (relay, port) in (("smtp", starttls), ("smtps", implicit_tls)):
        with pytest.raises(ssl.SSLCertVerificationError):
            send(f"{scheme}://{IN_URL}@127.0.0.1:{port}")
        assert relay.received == []
