"""Attacks on the webhooks: subscriptions that reach the server's own network (SSRF), a
receiver that holds the worker, and the secret as a sort key. Each test performs the attack.
"""

import asyncio
import ipaddress
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator

import httpx2
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, col

from optout_tracker import netguard
from optout_tracker.config import Settings
from optout_tracker.db_types import utcnow
from optout_tracker.enums import DeliveryState
from optout_tracker.http import deps
from optout_tracker.main import create_app
from optout_tracker.models import Webhook, WebhookAttempt, WebhookDelivery
from optout_tracker.webhook_worker import IN_FLIGHT, Worker, _excerpt
from tests import factories
from tests.conftest import Credentials
from tests.test_admin_webhooks import PAGE, post_form
from tests.test_pages import sign_in
from tests.test_webhooks import API, Live
from tests.test_webhooks import live as live  # the fixture: a migrated database per test

# Internal destinations, each in the form an attacker would try; all https, so that what is
# refused is the destination and not the scheme. The expected reason follows each.
INTERNAL = [
    ("https://127.0.0.1/", "127.0.0.1 is a loopback address"),
    ("https://localhost:5432/", "localhost is an internal name"),
    ("https://169.254.169.254/latest/meta-data/", "169.254.169.254 is a cloud metadata address"),
    ("https://[::1]/", "::1 is a loopback address"),
    ("https://0.0.0.0/", "0.0.0.0 is the unspecified address"),
    ("https://2130706433/", "127.0.0.1 is a loopback address"),
    ("https://0x7f000001/", "127.0.0.1 is a loopback address"),
    ("https://127.1:8080/", "127.0.0.1 is a loopback address"),
    ("https://10.0.0.5/", "10.0.0.5 is a private address"),
    ("https://172.16.3.4/", "172.16.3.4 is a private address"),
    ("https://192.168.1.1/", "192.168.1.1 is a private address"),
    ("https://metadata.google.internal/computeMetadata/v1/", "is an internal name"),
    ("https://[::ffff:127.0.0.1]/", "127.0.0.1 is a loopback address"),
    ("https://user@127.0.0.1/", "may not carry a user name or password"),
    ("https://partner.example\\@127.0.0.1/", "may not carry a user name or password"),
    ("https://[fe80::1]/", "fe80::1 is a link-local address"),
    ("https://[fd00::1]/", "fd00::1 is a private address"),
    ("https://[::]/", ":: is the unspecified address"),
    ("https://224.0.0.1/", "224.0.0.1 is a multicast address"),
    ("https://[64:ff9b::7f00:1]/", "127.0.0.1 is a loopback address"),
    ("https://[2002:7f00:1::]/", "127.0.0.1 is a loopback address"),
    ("https://100.100.100.200/", "100.100.100.200 is a cloud metadata address"),
    ("https://100.64.0.1/", "100.64.0.1 is not a public address"),
    ("https://hooks.localhost/", "hooks.localhost is an internal name"),
    ("https://LOCALHOST./", "localhost. is an internal name"),
    ("http://partner.example.org/hook", "must be an https:// URL"),
]
# Not attacks, but they must be a 422 too, never a 500 from the resolver.
MALFORMED = [
    ("https:///hook", "has no host"),
    ("https://93.184.215.14:0/", "port 0 does not exist"),
    (f"https://{'a' * 64}.example/", "is not a host name"),
]
PUBLIC = ["https://93.184.215.14/hook", "https://[2606:4700::6810:84e5]/hook"]


def loopback_name() -> str:
    """A name other than localhost that the system resolves to 127.0.0.1 (the host's own
    name usually is, through /etc/hosts)."""
    name = socket.gethostname()
    try:
        infos = socket.getaddrinfo(name, 443, type=socket.SOCK_STREAM)
    except OSError:
        pytest.skip(f"{name} does not resolve here")
    if not all(ipaddress.ip_address(i[4][0]).is_loopback for i in infos):
        pytest.skip(f"{name} does not resolve to loopback here")
    return name


@pytest.fixture
def private_client(session: Session, app_settings: Settings) -> Iterator[TestClient]:
    """The `client` of an install that allows private receivers."""
    app = create_app(app_settings.model_copy(update={"webhook_allow_private": True}))
    app.dependency_overrides[deps.get_session] = lambda: session
    with TestClient(app) as c:
        yield c
    app.state.engine.dispose()


def count_webhooks(session: Session) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(Webhook)) or 0


# Subscriptions


def test_internal_destinations_are_refused_by_the_api(
    client: TestClient, credentials: Credentials, session: Session
) -> None:
    admin = credentials.headers("admin")
    loopback = (f"https://{loopback_name()}:8443/", "resolves to 127.0.0.1, a loopback address")
    for url, reason in [*INTERNAL, loopback, *MALFORMED]:
        r = client.post(f"{API}/webhooks", json={"url": url}, headers=admin)
        assert r.status_code == 422, (url, r.text)
        [error] = r.json()["errors"]
        assert error["field"] == "url" and reason in error["message"], (url, error)
    assert count_webhooks(session) == 0

    # Nor can a harmless subscription be moved there afterwards.
    hook = factories.webhook(session)
    r = client.patch(f"{API}/webhooks/{hook.id}", json={"url": "https://10.1.2.3/"}, headers=admin)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "url"
    session.refresh(hook)
    assert hook.url == "https://coalition.example.org/hooks/optout"


def test_internal_destinations_are_refused_by_the_admin_form(
    client: TestClient, credentials: Credentials, session: Session
) -> None:
    sign_in(client, credentials, "admin")
    for url, reason in INTERNAL:
        r = post_form(client, PAGE, PAGE, {"url": url, "events": "*"})
        assert r.status_code == 422, url
        shown = re.search(r'<p class="error" id="e-url">([^<]+)</p>', r.text)
        assert shown and reason in shown.group(1).replace("&#39;", "'"), (url, shown)
    assert count_webhooks(session) == 0
    hook = factories.webhook(session)
    r = post_form(client, f"{PAGE}/{hook.id}", f"{PAGE}/{hook.id}",
                  {"url": "https://169.254.169.254/", "events": "*"})  # fmt: skip
    assert r.status_code == 422 and 'id="e-url"' in r.text


def test_public_receivers_and_unresolved_names_are_taken(
    client: TestClient, credentials: Credentials
) -> None:
    # A name that does not resolve now is taken: every delivery checks it again.
    for url in [*PUBLIC, "https://hooks.partner.example/optout"]:
        r = client.post(f"{API}/webhooks", json={"url": url}, headers=credentials.headers("admin"))
        assert r.status_code == 201, (url, r.text)


def test_an_operator_may_allow_private_receivers_and_plain_http(
    private_client: TestClient, credentials: Credentials
) -> None:
    for url in ("http://127.0.0.1:9000/hook", "https://10.0.0.5/", "http://localhost:8080/"):
        r = private_client.post(
            f"{API}/webhooks", json={"url": url}, headers=credentials.headers("admin")
        )
        assert r.status_code == 201, (url, r.text)
    # Credentials in the URL stay refused: they would be sent to whoever answers.
    r = private_client.post(
        f"{API}/webhooks",
        json={"url": "http://u:p@127.0.0.1/"},
        headers=credentials.headers("admin"),
    )
    assert r.status_code == 422


def test_the_secret_is_no_sort_key(
    client: TestClient, credentials: Credentials, session: Session
) -> None:
    for secret in ("a" * 20, "z" * 20):
        factories.webhook(session, secret=secret)
    admin = credentials.headers("admin")
    for sort in ("secret", "-secret"):
        r = client.get(f"{API}/webhooks", params={"sort": sort}, headers=admin)
        assert r.status_code == 422, r.text
        [error] = r.json()["errors"]
        assert error["field"] == "sort" and "secret" not in error["message"]
    r = client.get(f"{API}/webhooks", params={"secret_from": "m"}, headers=admin)
    assert r.status_code == 422  # nor a filter
    sign_in(client, credentials, "admin")
    assert client.get(PAGE, params={"sort": "secret"}).status_code == 422


# Deliveries, against real sockets on 127.0.0.1


class Listener:
    """A TCP server on 127.0.0.1 that counts connections, keeps each request and lets
    `answer` reply on the socket as it likes."""

    def __init__(self, answer: Callable[["Listener", socket.socket], None]) -> None:
        self.answer = answer
        self.connections = 0
        self.requests: list[bytes] = []
        self.stopped = threading.Event()
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.05)
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, scheme: str = "http", host: str = "127.0.0.1") -> str:
        return f"{scheme}://{host}:{self.port}/hooks/optout"

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            data = b""
            while b"\r\n\r\n" not in data and (chunk := conn.recv(65536)):
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = re.search(rb"(?i)content-length: *(\d+)", head)
            while length and len(body) < int(length.group(1)) and (chunk := conn.recv(65536)):
                body += chunk
            self.requests.append(head + b"\r\n\r\n" + body)
            try:
                self.answer(self, conn)
            except OSError:
                pass

    def close(self) -> None:
        self.stopped.set()
        self.server.close()


def answer_ok(listener: Listener, conn: socket.socket) -> None:
    body = b"internal answer: db password is hunter2"
    conn.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    )


def answer_drip(listener: Listener, conn: socket.socket) -> None:
    """The status line, then one byte of a header every 0.3 s, forever."""
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    while not listener.stopped.wait(0.3):
        conn.sendall(b"X")


@pytest.fixture
def listen() -> Iterator[Callable[..., Listener]]:
    made: list[Listener] = []

    def make(answer: Callable[[Listener, socket.socket], None] = answer_ok) -> Listener:
        made.append(Listener(answer))
        return made[-1]

    yield make
    for listener in made:
        listener.close()


def attempts_of(live: Live, delivery_id: int) -> list[WebhookAttempt]:
    with Session(live.engine) as session:
        stmt = sa.select(WebhookAttempt).where(col(WebhookAttempt.delivery_id) == delivery_id)
        return list(session.scalars(stmt.order_by(col(WebhookAttempt.number))))


def eventually(check: Callable[[], bool], seconds: float = 5) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return False


def stand_in_dns(*answers: str) -> tuple[netguard.Resolver, list[str]]:
    """A resolver that gives each answer in turn (the last one from then on), as a DNS
    server under an attacker's control may; it notes every name it is asked."""
    asked: list[str] = []

    async def resolve(host: str, port: int) -> list[netguard.IPAddress]:
        asked.append(host)
        return [ipaddress.ip_address(answers[min(len(asked), len(answers)) - 1])]

    return resolve, asked


def test_a_subscription_made_while_allowed_is_refused_once_the_setting_is_off(
    live: Live, listen: Callable[..., Listener]
) -> None:
    receiver = listen()
    live.subscribe(receiver.url("https"), ["vote.created"])
    live.subscribe(receiver.url("http"), ["vote.created"])
    live.log_vote()

    tally = live.worker(webhook_allow_private=False, webhook_max_attempts=1).run(once=True)

    assert tally.failed == 2 and receiver.connections == 0
    errors = sorted(a.error or "" for d in live.deliveries() for a in attempts_of(live, d.id or 0))
    assert errors == [
        "refused: 127.0.0.1 is a loopback address",
        "refused: must be an https:// URL (http:// too when "
        "OPTOUT_WEBHOOK_ALLOW_PRIVATE=true allows private receivers)",
    ]


def test_names_that_resolve_inside_are_refused_at_delivery(
    live: Live, listen: Callable[..., Listener]
) -> None:
    receiver = listen()
    # Each passed when it was saved: the setting was on, or the name did not resolve yet.
    live.subscribe(receiver.url("https", loopback_name()), ["vote.created"])
    live.subscribe(receiver.url("https", "localhost"), ["vote.created"])
    with Session(live.engine) as session:
        factories.webhook(session, url=receiver.url("https", "hooks.partner.test"),
                          events=["vote.created"])  # fmt: skip
    live.log_vote()
    resolver, asked = stand_in_dns("127.0.0.1")
    worker = live.worker(webhook_allow_private=False, webhook_max_attempts=1)
    worker.resolver = resolver

    assert worker.run(once=True).failed == 3 and receiver.connections == 0
    errors = {a.error for d in live.deliveries() for a in attempts_of(live, d.id or 0)}
    assert errors == {
        f"refused: {loopback_name()} resolves to 127.0.0.1, a loopback address",
        "refused: localhost is an internal name",
        "refused: hooks.partner.test resolves to 127.0.0.1, a loopback address",
    }
    assert "localhost" not in asked  # refused by its name, before any lookup


def test_the_worker_connects_to_the_address_it_checked(
    live: Live, listen: Callable[..., Listener]
) -> None:
    """DNS rebinding: the name is looked up once; a second lookup would answer an address
    where nothing listens, and the system resolver does not know the name at all."""
    receiver = listen()
    live.subscribe(receiver.url("http", "rebind.partner.test"), ["vote.created"])
    live.log_vote()
    resolver, asked = stand_in_dns("127.0.0.1", "127.0.0.2")
    worker = live.worker()
    worker.resolver = resolver

    assert worker.run(once=True).delivered == 1
    assert asked == ["rebind.partner.test"] and receiver.connections == 1
    [request] = receiver.requests
    assert f"host: rebind.partner.test:{receiver.port}\r\n".encode() in request.lower()
    assert request.startswith(b"POST /hooks/optout HTTP/1.1\r\n")


def test_tls_is_spoken_to_the_receivers_name() -> None:
    """Connected by address, the TLS handshake still names (and verifies) the receiver."""
    resolver, _ = stand_in_dns("93.184.215.14")
    url = "https://hooks.partner.example:8443/optout?x=1"
    target = asyncio.run(netguard.target(url, allow_private=False, resolver=resolver))
    assert str(target.url) == "https://93.184.215.14:8443/optout?x=1"
    assert target.host_header == "hooks.partner.example:8443"
    assert target.extensions == {"sni_hostname": "hooks.partner.example"}
    assert target.public


def test_no_redirect_is_followed(live: Live, listen: Callable[..., Listener]) -> None:
    inside = listen()

    def redirect(listener: Listener, conn: socket.socket) -> None:
        conn.sendall(
            b"HTTP/1.1 307 Temporary Redirect\r\nLocation: %s\r\nContent-Length: 0\r\n"
            b"Connection: close\r\n\r\n" % inside.url().encode()
        )

    live.subscribe(listen(redirect).url(), ["vote.created"])
    live.log_vote()
    assert live.worker(webhook_max_attempts=1).run(once=True).failed == 1
    [delivery] = live.deliveries()
    [attempt] = attempts_of(live, delivery.id or 0)
    assert (attempt.status_code, attempt.error) == (307, "HTTP 307")
    assert inside.connections == 0


def test_a_private_receivers_answer_is_never_kept(
    live: Live, listen: Callable[..., Listener]
) -> None:
    live.subscribe(listen(answer_ok).url(), ["vote.created"])
    live.log_vote()
    assert live.worker().run(once=True).delivered == 1
    [delivery] = live.deliveries()
    [attempt] = attempts_of(live, delivery.id or 0)
    assert attempt.status_code == 200 and attempt.response_excerpt is None


def test_only_the_start_of_a_text_answer_is_kept() -> None:
    def excerpt(content_type: str, body: bytes) -> str | None:
        answer = httpx2.Response(
            200, headers={"Content-Type": content_type}, stream=httpx2.ByteStream(body)
        )
        return asyncio.run(_excerpt(answer))

    assert excerpt("text/plain; charset=utf-8", b"ok " * 400) == ("ok " * 400)[:500]
    assert excerpt("application/problem+json", b'{"title":"x"}') == '{"title":"x"}'
    assert excerpt("image/png", b"\x89PNG\r\n") is None
    assert excerpt("", b"no type given") is None


# The deadline, and outcomes recorded as they come


def test_a_dripping_receiver_is_cut_off_at_the_deadline(
    live: Live, listen: Callable[..., Listener]
) -> None:
    live.subscribe(listen(answer_drip).url(), ["vote.created"])
    live.log_vote()
    worker = live.worker(webhook_timeout_seconds=1, webhook_backoff_seconds=60)
    started = time.monotonic()
    thread = threading.Thread(target=worker.run, kwargs={"once": True}, daemon=True)
    thread.start()
    thread.join(timeout=5)
    took = time.monotonic() - started

    assert not thread.is_alive() and took < 2, f"the worker took {took:.1f} s"
    [delivery] = live.deliveries()
    [attempt] = attempts_of(live, delivery.id or 0)
    assert delivery.state is DeliveryState.pending and attempt.error == "timed out after 1 s"
    assert 900 <= attempt.duration_ms < 2000


def test_a_slow_receiver_holds_up_no_other_and_its_attempt_shows_while_in_flight(
    live: Live, listen: Callable[..., Listener]
) -> None:
    release = threading.Event()

    def answer_when_released(listener: Listener, conn: socket.socket) -> None:
        release.wait(10)
        answer_ok(listener, conn)

    slow, fast = listen(answer_when_released), listen(answer_ok)
    live.subscribe(slow.url(), ["vote.created"])
    live.subscribe(fast.url(), ["vote.created"])
    live.log_vote()
    worker = live.worker()
    thread = threading.Thread(target=worker.run, kwargs={"once": True}, daemon=True)
    thread.start()
    try:
        assert eventually(lambda: bool(slow.requests)), "the slow receiver got nothing"

        def fast_delivered() -> bool:
            return any(d.state is DeliveryState.delivered for d in live.deliveries())

        assert eventually(fast_delivered, 3), "the fast outcome waited for the slow receiver"
        waiting = [d for d in live.deliveries() if d.state is DeliveryState.pending]
        assert len(waiting) == 1 and len(fast.requests) == 1
        [in_flight] = attempts_of(live, waiting[0].id or 0)
        assert (in_flight.number, in_flight.status_code, in_flight.error) == (1, None, IN_FLIGHT)
    finally:
        release.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
    assert {d.state for d in live.deliveries()} == {DeliveryState.delivered}
    assert all(a.error is None for d in live.deliveries() for a in attempts_of(live, d.id or 0))


def test_a_worker_that_dies_leaves_its_claimed_attempt_visible(live: Live) -> None:
    """A crash between claim and outcome: the attempt shows as started without an outcome;
    the next worker's attempt says what happened to it."""
    live.subscribe("https://hooks.partner.example/optout", ["vote.created"])
    live.log_vote()
    [claimed] = Worker(live.engine, live.settings).claim()  # then the worker dies
    [attempt] = attempts_of(live, claimed.id)
    assert (attempt.number, attempt.status_code, attempt.error) == (1, None, IN_FLIGHT)

    with Session(live.engine) as session:  # its lease runs out
        session.execute(sa.update(WebhookDelivery).values(locked_until=utcnow()))
        session.commit()
    live.worker(webhook_max_attempts=2).run(once=True)
    died, failed = attempts_of(live, claimed.id)
    assert died.error == IN_FLIGHT and failed.number == 2
    assert failed.error and failed.error.startswith("hooks.partner.example does not resolve (")
    [delivery] = live.deliveries()
    assert delivery.state is DeliveryState.failed and delivery.attempt_count == 2


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("64:ff9b::5db8:d70e", False),  # NAT64 of 93.184.215.14: a public receiver via DNS64
        ("64:ff9b::7f00:1", True),  # NAT64 of 127.0.0.1
        ("::ffff:93.184.215.14", False),
        ("::ffff:10.0.0.1", True),
        ("2002:5db8:d70e::1", False),  # 6to4 of a public address
        ("2002:0a00:0001::1", True),  # 6to4 of 10.0.0.1
    ],
)
def test_an_ipv6_address_carrying_an_ipv4_one_is_judged_by_it(address: str, refused: bool) -> None:
    assert (netguard.kind_of(ipaddress.ip_address(address)) is not None) is refused


def test_a_resolver_that_does_not_answer_holds_a_subscription_two_seconds_at_most(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The subscription's transaction holds SQLite's write lock while the name is checked.
    monkeypatch.setattr(netguard.socket, "getaddrinfo", lambda *a, **k: time.sleep(5))
    started = time.monotonic()
    netguard.check_subscription("https://slow-dns.example.org/hook", allow_private=False)
    assert time.monotonic() - started < netguard.SUBSCRIPTION_LOOKUP_SECONDS + 1
