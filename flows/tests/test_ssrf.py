"""The SSRF matrix of http actions: refused before any connection, and the guarded sender's limits."""

import base64
import hashlib
import hmac
import logging
import socket

import pytest

from flows import ssrf
from flows.actions import standard_webhooks_headers


@pytest.fixture
def no_connections(monkeypatch):
    """Any attempt to open a connection fails the test: refusals must happen before connecting."""
    opened = []

    class Forbidden:
        def __init__(self, host, *args, **kwargs):
            opened.append(host)
            raise AssertionError(f"a connection to {host} was attempted")

    monkeypatch.setattr(ssrf, "PinnedHTTPConnection", Forbidden)
    monkeypatch.setattr(ssrf, "PinnedHTTPSConnection", Forbidden)
    return opened


def fake_resolver(mapping, calls=None):
    def resolve(host, port, *args, **kwargs):
        if calls is not None:
            calls.append(host)
        family = socket.AF_INET6 if ":" in mapping[host][0] else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port)) for address in mapping[host]]

    return resolve


REFUSED_URLS = [
    ("http://127.0.0.1/", "loopback"),
    ("http://127.0.0.1:8080/admin", "loopback"),
    ("http://127.1/", "loopback"),  # short form, resolved by the system resolver
    ("http://2130706433/", "loopback"),  # decimal form
    ("http://0x7f000001/", "loopback"),  # hex form
    ("http://localhost/", "loopback"),  # a hostname resolving to a private address
    ("http://[::1]/", "loopback"),
    ("http://10.0.0.8/", "private"),
    ("http://172.16.5.4/", "private"),
    ("http://192.168.1.1/", "private"),
    ("http://169.254.10.10/", "link-local"),
    ("http://[fe80::1]/", "link-local"),
    ("http://100.64.0.1/", "CGNAT"),
    ("http://169.254.169.254/latest/meta-data/", "metadata"),
    ("http://100.100.100.200/", "metadata"),
    ("http://[fd00:ec2::254]/", "metadata"),
    ("http://metadata.google.internal/computeMetadata/v1/", "metadata"),
    ("http://[fd12:3456::1]/", "ULA"),
    ("http://[::ffff:127.0.0.1]/", "loopback"),  # IPv4-mapped
    ("http://[::ffff:7f00:1]/", "loopback"),  # IPv4-mapped, hex
    ("http://[::ffff:10.1.2.3]/", "private"),
    ("http://[::ffff:169.254.169.254]/", "metadata"),
    ("http://[64:ff9b::a9fe:a9fe]/", "metadata"),  # NAT64 form of 169.254.169.254
    ("http://[2002:7f00:1::]/", "loopback"),  # 6to4 form of 127.0.0.1
    ("http://[::127.0.0.1]/", "loopback"),  # IPv4-compatible form
    ("http://0.0.0.0/", "unspecified"),
    ("http://[::]/", "unspecified"),
    ("http://224.0.0.1/", "multicast"),
    ("http://192.0.2.1/", "private"),  # documentation range (ipaddress calls it private)
    ("ftp://example.com/", "only http"),
    ("file:///etc/passwd", "only http"),
    ("http://user:pw@example.com/", "credentials"),
]


@pytest.mark.parametrize("url,reason", REFUSED_URLS, ids=[u for u, _ in REFUSED_URLS])
def test_refused_before_connecting(url, reason, no_connections):
    with pytest.raises(ssrf.SSRFError) as info:
        ssrf.send("GET", url, headers={}, body=None)
    assert reason.lower() in str(info.value).lower()
    assert no_connections == []


def test_a_name_resolving_to_a_private_address_is_refused(no_connections):
    resolver = fake_resolver({"internal.example.com": ["10.1.2.3"]})
    with pytest.raises(ssrf.SSRFError, match="internal.example.com resolves to a refused address.*private"):
        ssrf.send("GET", "https://internal.example.com/x", headers={}, body=None, resolver=resolver)
    assert no_connections == []


def test_one_private_answer_among_public_ones_refuses_the_host(no_connections):
    resolver = fake_resolver({"mixed.example.com": ["93.184.216.34", "127.0.0.1"]})
    with pytest.raises(ssrf.SSRFError, match="loopback"):
        ssrf.send("GET", "https://mixed.example.com/", headers={}, body=None, resolver=resolver)
    assert no_connections == []


def test_the_escape_hatch_never_opens_metadata(allow_private, no_connections):
    for url in ("http://169.254.169.254/", "http://[::ffff:169.254.169.254]/", "http://metadata.google.internal/"):
        with pytest.raises(ssrf.SSRFError, match="metadata"):
            ssrf.send("GET", url, headers={}, body=None)
    assert no_connections == []


def test_loopback_is_refused_by_default_and_nothing_reaches_the_receiver(receiver):
    with pytest.raises(ssrf.SSRFError, match="loopback"):
        ssrf.send("POST", receiver.url("/hook"), headers={}, body=b"{}")
    assert receiver.requests == []


def test_escape_hatch_lets_loopback_through_loudly(allow_private, receiver, caplog):
    with caplog.at_level(logging.WARNING, logger="flows.ssrf"):
        result = ssrf.send("POST", receiver.url("/hook?a=1"), headers={"X-Test": "1"}, body=b'{"a":1}')
    assert result.status == 201 and b'"ok": true' in result.body
    assert receiver.requests[0].path == "/hook?a=1" and receiver.requests[0].body == b'{"a":1}'
    assert any(r.getMessage() == "flow_http_private_network_allowed" for r in caplog.records)


def test_dns_is_resolved_once_and_the_checked_address_is_used_with_the_host_header(allow_private, receiver):
    calls = []
    resolver = fake_resolver({"hooks.example.test": ["127.0.0.1"]}, calls)
    result = ssrf.send("GET", f"http://hooks.example.test:{receiver.port}/x", headers={}, body=None,
                       resolver=resolver)
    assert result.status == 200 and result.address == "127.0.0.1"
    assert calls == ["hooks.example.test"]  # no second lookup at connect time (DNS rebinding)
    assert receiver.requests[0].headers["Host"] == f"hooks.example.test:{receiver.port}"


def test_redirects_are_not_followed(allow_private, receiver):
    target = receiver.url("/target")
    result = ssrf.send("GET", receiver.url(f"/redirect?to={target}"), headers={}, body=None)
    assert result.status == 302
    assert receiver.count("/target") == 0


def test_timeout_is_a_transient_error(allow_private, receiver):
    with pytest.raises(ssrf.TransientHTTPError, match="timed out"):
        ssrf.send("GET", receiver.url("/slow/2"), headers={}, body=None, timeout=0.3)


def test_connection_refused_is_a_transient_error(allow_private):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    with pytest.raises(ssrf.TransientHTTPError, match="connection failed"):
        ssrf.send("GET", f"http://127.0.0.1:{port}/", headers={}, body=None)


def test_response_is_capped(allow_private, receiver):
    result = ssrf.send("GET", receiver.url("/big"), headers={}, body=None, max_bytes=1000)
    assert result.truncated is True and len(result.body) == 1000


@pytest.mark.parametrize("host,allowed,expected", [
    ("hooks.example.com", "*", True),
    ("hooks.example.com", "example.com", True),
    ("example.com", "example.com", True),
    ("evil-example.com", "example.com", False),
    ("example.com.evil.io", "example.com", False),
    ("api.partner.io", "example.com, partner.io", True),
    ("api.partner.io", "", False),
])
def test_domain_allow_list(host, allowed, expected):
    assert ssrf.host_allowed(host, allowed) is expected


def test_allow_list_is_enforced_before_resolving(no_connections):
    with pytest.raises(ssrf.SSRFError, match="not in the allowed domains"):
        ssrf.send("GET", "https://other.example.org/", headers={}, body=None, allowed_domains="example.com",
                  resolver=fake_resolver({}))


def test_standard_webhooks_signature_matches_the_spec_vector():
    # Test vector of the Standard Webhooks reference libraries.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    headers = standard_webhooks_headers(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", b'{"test": 2432232314}',
                                        timestamp=1614265330)
    assert headers["webhook-signature"] == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert headers["webhook-id"] == "msg_p5jXN8AQM9LWM0D4loKWxJek" and headers["webhook-timestamp"] == "1614265330"
    key = base64.b64decode(secret[len("whsec_"):])
    expected = hmac.new(key, b'msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{"test": 2432232314}', hashlib.sha256)
    assert headers["webhook-signature"] == "v1," + base64.b64encode(expected.digest()).decode()


def test_the_escape_hatch_is_off_by_default():
    from django.conf import settings

    assert settings.FLOW_HTTP_ALLOW_PRIVATE_NETWORKS is False


# Issue 15, item 5: the deadline covers the whole exchange, also while headers and body trickle in.
@pytest.mark.parametrize("path", ["/drip-body", "/drip-headers"])
def test_a_server_dripping_one_byte_every_0_9_s_is_cut_at_the_timeout(allow_private, path):
    import time

    from tests.drip import DripServer

    with DripServer(interval=0.9) as server:
        started = time.monotonic()
        with pytest.raises(ssrf.TransientHTTPError, match="2 s"):
            ssrf.send("GET", server.base + path, headers={}, body=None, timeout=2.0)
        elapsed = time.monotonic() - started
    # Cut at the 2 s deadline (plus scheduling slack), not after the whole 60-byte trickle.
    assert elapsed < 2.9, elapsed
