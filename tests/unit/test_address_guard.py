"""The outbound address guard, with a stubbed resolver: no test here resolves or connects anywhere."""

from __future__ import annotations

import asyncio

import pytest

from phone_delivery.providers.address_guard import (
    AddressGuard,
    DestinationRefused,
    HostNotFound,
    address_problem,
    literal_address,
)


def guard(answers: dict[str, list[str]], allowed: tuple[str, ...] = ()) -> tuple[AddressGuard, list[str]]:
    """A guard whose resolver answers from ``answers``; the list records every lookup."""
    lookups: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        lookups.append(host)
        if host not in answers:
            raise HostNotFound(f"The host {host} does not resolve (no such name).")
        return answers[host]

    return AddressGuard(allowed, resolver=resolver), lookups


def connect(g: AddressGuard, host: str, port: int = 443) -> list[str]:
    return asyncio.run(g.resolve(host, port))


NON_PUBLIC = [
    "10.1.2.3",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.0.1",  # private
    "127.0.0.1",
    "127.8.9.10",
    "::1",  # loopback
    "169.254.169.254",
    "169.254.1.1",
    "fe80::1",  # link-local, metadata
    "100.100.100.200",
    "fd00:ec2::254",  # other clouds' metadata
    "fc00::1",
    "fd12:3456::1",  # unique local
    "100.64.0.1",
    "0.0.0.0",
    "255.255.255.255",
    "224.0.0.1",
    "::",  # shared, unspecified, broadcast, multicast
    "::ffff:10.0.0.1",
    "::ffff:127.0.0.1",  # IPv4-mapped
    "2002:7f00:1::",
    "2002:a00:1::5",  # 6to4 of 127.0.0.1 and 10.0.0.1 (Python calls these global)
    "64:ff9b::7f00:1",
    "64:ff9b::a9fe:a9fe",  # NAT64 of loopback and of the metadata address
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
    "::7f00:1",  # IPv4-compatible (deprecated)
]


@pytest.mark.parametrize("address", NON_PUBLIC)
def test_non_public_addresses_are_refused_at_connect(address: str) -> None:
    assert address_problem(address) is not None
    g, _ = guard({"gw.example": [address]})
    with pytest.raises(DestinationRefused, match="refused"):
        connect(g, "gw.example")


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "8.8.8.8", "2606:2800:220:1:248:1893:25c8:1946", "64:ff9b::5db8:d822"]
)
def test_public_addresses_pass(address: str) -> None:
    """NAT64 of a public address (what DNS64 gives an IPv6-only host) is public."""
    assert address_problem(address) is None
    g, _ = guard({"gw.example": [address]})
    assert connect(g, "gw.example") == [address]


def test_one_private_answer_among_public_ones_is_refused() -> None:
    g, _ = guard({"gw.example": ["93.184.216.34", "10.0.0.7"]})
    with pytest.raises(DestinationRefused, match=r"10\.0\.0\.7"):
        connect(g, "gw.example")


def test_connect_resolves_once_and_returns_what_it_checked() -> None:
    g, lookups = guard({"gw.example": ["93.184.216.34"]})
    assert connect(g, "gw.example") == ["93.184.216.34"]
    assert lookups == ["gw.example"]


def test_unknown_name_at_connect() -> None:
    g, _ = guard({})
    with pytest.raises(HostNotFound):
        connect(g, "nowhere.example")


SPELLINGS_OF_LOOPBACK_AND_PRIVATE = [
    "https://127.0.0.1/x",
    "https://2130706433/x",  # decimal
    "https://0x7f000001/x",  # hex
    "https://0x7f.1/x",
    "https://0177.0.0.1/x",  # octal
    "https://127.1/x",  # short form
    "https://127.0.0.1./x",  # trailing dot
    "https://[::1]/x",
    "https://[::ffff:127.0.0.1]/x",
    "https://[::ffff:7f00:1]/x",  # IPv4-mapped, both spellings
    "https://[2002:7f00:1::]/x",  # 6to4
    "https://[64:ff9b::7f00:1]/x",  # NAT64
    "https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/x",  # Teredo
    "https://[fe80::1%25eth0]/x",  # link-local with a zone
    "https://0xa9.0xfe.0xa9.0xfe/latest/meta-data",  # 169.254.169.254 in hex
    "https://012.0.0.1/x",  # 10.0.0.1 in octal
    "https://localhost/x",
    "https://LOCALHOST./x",
    "https://api.localhost/x",
    "https://127\u30020\u30020\u30021/x",  # ideographic full stops: the HTTP client sends 127.0.0.1
    "https://10\uff0e0\uff0e0\uff0e5/x",  # fullwidth full stops
    "https://169\uff61254\uff61169\uff61254/latest/meta-data",  # halfwidth ideographic full stops
]


@pytest.mark.parametrize("url", SPELLINGS_OF_LOOPBACK_AND_PRIVATE)
def test_certainly_bad_urls_are_refused_without_the_network(url: str) -> None:
    g, lookups = guard({})
    problem = g.problem(url)
    assert problem is not None and ("refused" in problem or "loopback" in problem), problem
    assert lookups == []


def test_literal_spellings() -> None:
    assert str(literal_address("2130706433")) == "127.0.0.1"
    assert str(literal_address("0x7f.1")) == "127.0.0.1"
    assert str(literal_address("0177.0.0.1")) == "127.0.0.1"
    assert str(literal_address("10.1")) == "10.0.0.1"
    assert literal_address("09.1") is None  # not octal, not a number: a name (which will not resolve)
    assert literal_address("4294967296") is None  # too large for IPv4
    assert literal_address("example.com") is None
    assert literal_address("1.2.3.4.5") is None


def test_names_that_do_not_resolve_now_are_accepted_at_save() -> None:
    g, lookups = guard({})
    assert g.problem("https://sms-gateway.internal.example/send?to=${to}") is None
    assert g.problem("https://93.184.216.34/x") is None  # a public literal
    assert lookups == []  # save never resolves


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://gw.example/sms", "https"),
        ("gw.example/sms", "absolute"),
        ("https://[::1/", "malformed"),
        ("https://user:pass@gw.example/sms", "user name"),
        ("https://user@gw.example/sms", "user name"),
        ("https://${to}.gw.example/sms", "host"),
        ("https://gw.example:${to}/sms", "host"),
        ("https://gw.example:99999/sms", "malformed"),
        ("https://a..b/sms", "malformed"),
        ("https://xn--a.com/sms", "malformed"),
        ("https://\uff11\uff12\uff17.0.0.1/sms", "malformed"),  # fullwidth digits: the HTTP client refuses them
        ("ftp://gw.example/x", "absolute"),
        ("https://gw.example/sms\r", "control"),
        ("https://gw.example/s ms", "spaces"),
        ("https://gw.exa\tmple/sms", "control"),
    ],
)
def test_malformed_urls_are_refused(url: str, words: str) -> None:
    g, _ = guard({})
    assert words in (g.problem(url) or ""), g.problem(url)


def test_allow_list_by_host_or_host_and_port() -> None:
    g, _ = guard({"internal.example": ["10.0.0.9"]}, allowed=("internal.example", "127.0.0.1:8080"))
    assert g.problem("https://internal.example/sms") is None
    assert g.problem("http://internal.example/sms") is None  # allow-listed hosts may use http
    assert g.problem("http://127.0.0.1:8080/sandbox/gateway/sms") is None
    assert g.problem("http://127.0.0.1:8081/other") is not None
    assert connect(g, "internal.example") == ["10.0.0.9"]  # resolved, not checked
    assert connect(g, "127.0.0.1", 8080) == ["127.0.0.1"]
    with pytest.raises(DestinationRefused):
        connect(g, "127.0.0.1", 8081)
