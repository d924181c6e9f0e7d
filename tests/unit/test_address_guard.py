"""The outbound address guard, with a stubbed resolver: no test here resolves or connects anywhere."""

from __future__ import annotations

import asyncio

import pytest

from phone_delivery.providers.address_guard import AddressGuard, address_problem


def guard(answers: dict[str, list[str]], allowed: tuple[str, ...] = ()) -> AddressGuard:
    async def resolver(host: str, port: int) -> list[str]:
        if host not in answers:
            raise OSError("no such host")
        return answers[host]

    return AddressGuard(allowed, resolver=resolver)


def problem(g: AddressGuard, url: str) -> str | None:
    return asyncio.run(g.problem(url))


@pytest.mark.parametrize(
    "address",
    [
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
    ],
)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert address_problem(address) is not None
    assert "refused" in (problem(guard({"gw.example": [address]}), "https://gw.example/sms") or "")


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:2800:220:1:248:1893:25c8:1946"])
def test_public_addresses_pass(address: str) -> None:
    assert address_problem(address) is None
    assert problem(guard({"gw.example": [address]}), "https://gw.example/sms") is None


def test_one_private_answer_among_public_ones_is_refused() -> None:
    g = guard({"gw.example": ["93.184.216.34", "10.0.0.7"]})
    assert "10.0.0.7" in (problem(g, "https://gw.example/") or "")


def test_literal_addresses_are_checked_without_resolving() -> None:
    g = guard({})  # any resolution would fail
    assert problem(g, "https://93.184.216.34/x") is None
    assert problem(g, "https://[::1]:8443/x") is not None


def test_https_required_and_unresolvable_refused() -> None:
    g = guard({"gw.example": ["93.184.216.34"]})
    assert "https" in (problem(g, "http://gw.example/sms") or "")
    assert "could not be resolved" in (problem(g, "https://unknown.example/") or "")
    assert problem(g, "gw.example/sms") is not None
    assert problem(g, "https://[::1/") is not None


def test_allow_list_by_host_or_host_and_port() -> None:
    g = guard({"internal.example": ["10.0.0.9"]}, allowed=("internal.example", "127.0.0.1:8080"))
    assert problem(g, "https://internal.example/sms") is None
    assert problem(g, "http://internal.example/sms") is None  # allow-listed hosts may use http
    assert problem(g, "http://127.0.0.1:8080/sandbox/gateway/sms") is None
    assert problem(g, "http://127.0.0.1:8081/other") is not None
