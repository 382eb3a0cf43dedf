"""The Standard Webhooks headers, checked as a partner would: with the `standardwebhooks`
library, against deliveries a real receiver on loopback took from the worker."""

import base64
import json
import time

import pytest
from standardwebhooks import Webhook as Verifier
from standardwebhooks.webhooks import WebhookVerificationError

from optout_tracker.db import unit_of_work
from optout_tracker.schemas import WebhookCreate
from optout_tracker.security import CLI
from optout_tracker.services import webhooks
from optout_tracker.webhook_worker import sign, sign_standard, standard_key
from tests.test_webhooks import SECRET, Live, Receiver
from tests.test_webhooks import live as live  # the fixture: a migrated database per test
from tests.test_webhooks import receiver as receiver  # the fixture: a receiver on loopback

BODY = b'{"event":"webhook.test","occurred_at":"2026-12-05T01:00:00.000Z","data":{}}'


def standard_form(secret: str) -> str:
    """What the README tells a partner whose secret is not in the Standard Webhooks form to
    give the libraries."""
    return "whsec_" + base64.b64encode(secret.encode()).decode()


def headers_for(secret: str, message_id: str = "msg-1", timestamp: int | None = None):
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": stamp,
        "webhook-signature": sign_standard(secret, message_id, stamp, BODY),
    }


def test_a_receiver_verifies_every_attempt_with_the_standard_webhooks_library(
    live: Live, receiver: Receiver
) -> None:
    with unit_of_work(live.engine) as session:
        made = webhooks.create(
            session,
            WebhookCreate(url=receiver.url, events=["vote.created"]),  # a generated secret
            CLI,
            allow_private=True,
        )
        generated, generated_id = made.secret, made.id
    chosen_id = live.subscribe(receiver.url, ["vote.created"])  # secret=SECRET, typed in
    live.log_vote()
    receiver.statuses = [500, 500]  # each subscription's first attempt fails: a retry each

    started = int(time.time())
    tally = live.worker(webhook_max_attempts=3).run(once=True)

    assert (tally.delivered, tally.retrying) == (2, 2)
    assert generated.startswith("whsec_")
    by_uuid = {d.uuid: d for d in live.deliveries()}
    verifiers = {
        generated_id: [Verifier(generated)],  # pasted as it is
        chosen_id: [Verifier(SECRET.encode()), Verifier(standard_form(SECRET))],
    }
    seen: dict[str, list[str]] = {}
    assert len(receiver.got) == 4
    for headers, raw in receiver.got:
        delivery = by_uuid[headers["x-optout-delivery"]]
        # The first delivery of an event names its message after itself.
        assert headers["webhook-id"] == delivery.message_id == delivery.uuid
        assert started <= int(headers["webhook-timestamp"]) <= time.time()
        assert headers["webhook-signature"].startswith("v1,")
        for verifier in verifiers[delivery.webhook_id]:
            assert verifier.verify(raw, headers) == json.loads(raw)
        # Beside it, unchanged: X-Optout-Signature, keyed by the secret as it is typed.
        secret = generated if delivery.webhook_id == generated_id else SECRET
        assert headers["x-optout-signature"] == sign(secret, raw)
        seen.setdefault(headers["webhook-id"], []).append(headers["webhook-signature"])
        # What the library refuses: another body, another subscription's key.
        with pytest.raises(WebhookVerificationError):
            verifiers[delivery.webhook_id][0].verify(raw.replace(b"Board", b"B0ard"), headers)
        other = chosen_id if delivery.webhook_id == generated_id else generated_id
        with pytest.raises(WebhookVerificationError):
            verifiers[other][0].verify(raw, headers)
    # A retry is the same message: the same webhook-id, signed again for its own timestamp.
    assert sorted(len(signatures) for signatures in seen.values()) == [2, 2]


@pytest.mark.parametrize(
    ("secret", "given"),
    [
        # Generated: the Standard Webhooks form, taken by the libraries as it is.
        (webhooks.new_secret(), "as it is"),
        # The same form, typed in: 24 bytes, no padding (as Svix makes them).
        ("whsec_" + base64.b64encode(bytes(range(24))).decode(), "as it is"),
        # Any other secret: its bytes.
        (SECRET, "as bytes"),
        ("correct-horse-battery-staple!", "as bytes"),
        # Generated before the Standard Webhooks headers: base64url, which is not the form
        # (the libraries would drop its - and _ and take another key).
        ("whsec_" + "A-_b" * 10 + "xyz", "as bytes"),
        ("whsec_" + "abcd" * 4 + "e", "as bytes"),  # 4n + 1 digits: no base64 at all
    ],
    ids=["generated", "24-bytes", "typed", "typed-2", "base64url", "4n+1-digits"],
)
def test_each_kind_of_secret_verifies_as_the_readme_says(secret: str, given: str) -> None:
    if given == "as it is":
        forms: list[str | bytes] = [secret]
        assert standard_key(secret) == base64.b64decode(secret.removeprefix("whsec_") + "==")
    else:
        forms = [secret.encode(), standard_form(secret)]
        assert standard_key(secret) == secret.encode()
    for form in forms:
        assert Verifier(form).verify(BODY, headers_for(secret)) == json.loads(BODY)
        with pytest.raises(WebhookVerificationError):  # five minutes late: a replay
            Verifier(form).verify(BODY, headers_for(secret, timestamp=int(time.time()) - 400))


def test_the_old_base64url_secrets_cannot_be_pasted_into_the_libraries_as_they_are() -> None:
    """Why the README says to give them as bytes: the library reads another key."""
    secret = "whsec_" + "A-_b" * 10 + "xyz"
    with pytest.raises(WebhookVerificationError):
        Verifier(secret).verify(BODY, headers_for(secret))


def test_a_generated_secret_is_a_valid_subscription_secret() -> None:
    made = WebhookCreate(url="https://partner.example/hook", secret=webhooks.new_secret())
    assert made.secret is not None and len(base64.b64decode(made.secret[6:])) == 32
    assert webhooks.new_secret() != webhooks.new_secret()
