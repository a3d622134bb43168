"""The loopback check the agent tests rely on: it must catch a connection that leaves the machine."""

from __future__ import annotations

from tests.agents.agents import outside_connects

TRACE = """\
101 connect(12, {sa_family=AF_INET, sin_port=htons(18789), sin_addr=inet_addr("127.0.0.1")}, 16) = 0
101 connect(13, {sa_family=AF_UNIX, sun_path="/run/nscd/socket"}, 110) = -1 ENOENT (No such file or directory)
102 connect(14, {sa_family=AF_INET6, sin6_port=htons(8080), sin6_flowinfo=htonl(0), \
inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 0
103 sendto(6, "\\1", 1, MSG_NOSIGNAL, NULL, 0) = 1
104 sendto(4, [{nlmsg_len=40, nlmsg_type=0x14}], 40, 0, {sa_family=AF_NETLINK, nl_pid=0, nl_groups=00000000}, 12) = 40
102 connect(15, {sa_family=AF_INET6, sin6_port=htons(8080), sin6_flowinfo=htonl(0), \
inet_pton(AF_INET6, "::ffff:127.0.0.1", &sin6_addr), sin6_scope_id=0}, 28) = 0
"""
OUTSIDE = [
    '7 connect(3, {sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr("160.79.104.10")}, 16 <unfinished ...>',
    '7 connect(3, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("127.0.0.53")}, 16) = 0',
    '7 connect(3, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("10.1.2.3")}, 16) = 0',
    "7 connect(4, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "
    '"2606:4700::6810:84e5", &sin6_addr), sin6_scope_id=0}, 28) = 0',
    "7 connect(5, {sa_family=AF_PACKET, sll_protocol=htons(ETH_P_ALL), sll_ifindex=2}, 20) = 0",
    '9 sendto(50, "76\\1\\0\\3api\\6github\\3com\\0", 32, MSG_NOSIGNAL, {sa_family=AF_INET, sin_port=htons(53), '
    'sin_addr=inet_addr("10.255.255.53")}, 16) = 32',
]


def test_loopback_and_local_sockets_pass() -> None:
    assert outside_connects(TRACE) == []


def test_anything_else_is_caught() -> None:
    assert outside_connects(TRACE + "\n".join(OUTSIDE)) == OUTSIDE
