"""Webhook signatures (HMAC-SHA256 over timestamp and body) and replay memory."""

from __future__ import annotations

import hashlib
import hmac

from core.api.webhooks import TOLERANCE_SECONDS, check_signature, remember_delivery, sign

KEY = "workflow-secret"
BODY = b'{"sku": "A-1"}'


def test_signature_is_hmac_sha256_of_timestamp_dot_body():
    expected = hmac.new(KEY.encode(), b"1764236400." + BODY, hashlib.sha256).hexdigest()
    assert sign(KEY, 1764236400, BODY) == f"sha256={expected}"
    assert sign(KEY, "1764236400", BODY) == sign(KEY, 1764236400, BODY)
    assert sign(KEY, 1764236401, BODY) != sign(KEY, 1764236400, BODY)


def test_fresh_valid_deliveries_pass_and_others_say_why():
    now = 1764236400.0
    good = sign(KEY, 1764236400, BODY)
    assert check_signature(KEY, "1764236400", good, BODY, now) is None
    assert check_signature(KEY, "1764236400", good, BODY, now + TOLERANCE_SECONDS) is None
    assert "too old" in check_signature(KEY, "1764236400", good, BODY, now + TOLERANCE_SECONDS + 1)
    assert (
        check_signature(KEY, "1764236400", good, BODY + b" ", now)
        == "The signature does not match."
    )
    assert (
        check_signature("other", "1764236400", good, BODY, now) == "The signature does not match."
    )
    assert (
        check_signature(KEY, "yesterday", good, BODY, now)
        == "X-Beacon-Timestamp must be Unix seconds."
    )


def test_a_signature_is_accepted_once(services):
    assert remember_delivery(services.store, "sha256=abc", "restock")
    assert not remember_delivery(services.store, "sha256=abc", "restock")
    assert remember_delivery(services.store, "sha256=abd", "restock")
