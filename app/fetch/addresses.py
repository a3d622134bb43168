"""Which IP addresses the gateway may connect to on a client's behalf. Pure: an address in, a verdict out."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

# Cloud instance metadata and similar endpoints: never an image, often credentials. AWS/GCP/Azure/OCI,
# AWS ECS task metadata, Alibaba, Oracle's legacy one, AWS's IPv6 endpoint.
METADATA = frozenset(
    ip_address(a) for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "192.0.0.192", "fd00:ec2::254")
)
# Ranges IMAGE_URL_ALLOW_PRIVATE opens (an intranet image server is a legitimate wish); named here
# rather than taken from `is_private`, which also holds documentation and benchmarking ranges.
_ALLOWABLE: tuple[tuple[str, IPv4Network | IPv6Network], ...] = (
    ("a loopback address", ip_network("127.0.0.0/8")),
    ("a loopback address", ip_network("::1/128")),
    ("a private address", ip_network("10.0.0.0/8")),
    ("a private address", ip_network("172.16.0.0/12")),
    ("a private address", ip_network("192.168.0.0/16")),
    ("a private address", ip_network("fc00::/7")),
    ("a link-local address", ip_network("169.254.0.0/16")),
    ("a link-local address", ip_network("fe80::/10")),
    ("a shared (CGNAT) address", ip_network("100.64.0.0/10")),
)
# Special-purpose ranges that `is_global` does not rule out on every Python version.
_SPECIAL = tuple(
    ip_network(n)
    for n in ("::/96", "fec0::/10", "2001::/32", "2001:db8::/32", "100::/64", "240.0.0.0/4", "192.0.0.0/24")
)  # IPv4-compatible (deprecated), site-local (deprecated), Teredo, documentation, discard, class E, IETF
_NAT64 = ip_network("64:ff9b::/96")  # the well-known NAT64 prefix: the last 32 bits are an IPv4 address


def embedded_ipv4(ip: IPv6Address) -> IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped, NAT64, 6to4), which is where it really leads."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour


def refusal(address: str, *, allow_private: bool = False) -> str | None:
    """Why the gateway may not connect to `address` ("a loopback address", ...), or None if it may.

    Metadata, unspecified, multicast and other special-purpose addresses are refused whatever the
    setting; loopback, private, link-local and CGNAT ones unless `allow_private`."""
    try:
        ip = ip_address(address.split("%", 1)[0])  # an IPv6 zone ("fe80::1%eth0") does not change the class
    except ValueError:
        return "not an IP address"
    if isinstance(ip, IPv6Address) and (inner := embedded_ipv4(ip)) is not None:
        reason = refusal(str(inner), allow_private=allow_private)
        return None if reason is None else f"{reason} (inside the IPv6 address)"
    if ip in METADATA:
        return "a cloud metadata address"
    if ip.is_unspecified:
        return "the unspecified address"
    if ip.is_multicast:
        return "a multicast address"
    for reason, network in _ALLOWABLE:
        if ip.version == network.version and ip in network:
            return None if allow_private else reason
    if not ip.is_global or any(ip.version == n.version and ip in n for n in _SPECIAL):
        return "a reserved address"
    return None


class Refused(OSError):
    """A fetch the policy does not allow; `reason` is fit for the client's error message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
