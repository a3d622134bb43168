"""Which addresses an image URL may lead to: every class, in its IPv4 and IPv6 forms."""

from __future__ import annotations

import pytest

from app.fetch.addresses import refusal

ALLOWABLE = [  # refused by default, allowed with IMAGE_URL_ALLOW_PRIVATE
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("::1", "loopback"),
    ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
    ("::ffff:7f00:1", "loopback"),  # the same, written in hex
    ("64:ff9b::127.0.0.1", "loopback"),  # NAT64
    ("2002:7f00:1::", "loopback"),  # 6to4
    ("10.0.0.1", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.255", "private"),
    ("192.168.0.1", "private"),
    ("fc00::1", "private"),
    ("fd12:3456::1", "private"),
    ("::ffff:192.168.1.1", "private"),
    ("169.254.1.1", "link-local"),
    ("fe80::1", "link-local"),
    ("fe80::1%eth0", "link-local"),
    ("100.64.0.1", "CGNAT"),
    ("100.127.255.254", "CGNAT"),
]
NEVER = [  # refused whatever the setting
    ("169.254.169.254", "metadata"),
    ("169.254.170.2", "metadata"),
    ("100.100.100.200", "metadata"),
    ("fd00:ec2::254", "metadata"),
    ("::ffff:169.254.169.254", "metadata"),
    ("0.0.0.0", "unspecified"),
    ("::", "unspecified"),
    ("::ffff:0.0.0.0", "unspecified"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("ff02::1", "multicast"),
    ("255.255.255.255", "reserved"),
    ("240.0.0.1", "reserved"),
    ("192.0.2.1", "reserved"),  # documentation
    ("198.18.0.1", "reserved"),  # benchmarking
    ("2001:db8::1", "reserved"),  # documentation
    ("::127.0.0.1", "reserved"),  # the deprecated IPv4-compatible form
    ("fec0::1", "reserved"),  # site-local, deprecated
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "reserved"),  # Teredo
]
PUBLIC = ["1.1.1.1", "8.8.8.8", "172.32.0.1", "100.128.0.1", "2606:4700::1111", "::ffff:1.1.1.1", "64:ff9b::1.1.1.1"]


@pytest.mark.parametrize(("address", "kind"), ALLOWABLE)
def test_private_classes_are_refused_unless_allowed(address: str, kind: str) -> None:
    reason = refusal(address)
    assert reason is not None and kind in reason
    assert refusal(address, allow_private=True) is None


@pytest.mark.parametrize(("address", "kind"), NEVER)
def test_special_addresses_are_refused_even_when_private_ones_are_allowed(address: str, kind: str) -> None:
    for allow in (False, True):
        reason = refusal(address, allow_private=allow)
        assert reason is not None and kind in reason


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address: str) -> None:
    assert refusal(address) is None


def test_an_ipv6_form_says_it_wraps_an_ipv4_address() -> None:
    assert refusal("::ffff:10.0.0.1") == "a private address (inside the IPv6 address)"


def test_what_is_not_an_address_is_refused() -> None:
    assert refusal("example.com") == "not an IP address"
