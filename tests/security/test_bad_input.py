"""Hole 10 and the "no 5xx for bad input" family: query parameters we did not issue or cannot use."""

from __future__ import annotations

import base64

import pytest

from tests.support import Api, assert_pingone_error


def cursor_of(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


UUID = "0b0f1a8e-3c1d-4e55-9a11-5f2b1c9d7e60"
NOT_OURS = [
    cursor_of(f"99999999999999999999999:{UUID}"),  # beyond any database integer
    cursor_of(f"-99999999999999999999:{UUID}"),
    cursor_of(f"1e30:{UUID}"),
    cursor_of(f"+5:{UUID}"),
    cursor_of(f" 5:{UUID}"),
    cursor_of(f"1_000:{UUID}"),
    cursor_of(f"005:{UUID}"),
    cursor_of(f"5:{UUID.upper()}"),
    cursor_of(f"5:{UUID}:extra"),
    cursor_of("5:not-a-uuid"),
    cursor_of("\u0000"),
    cursor_of(f"5:{UUID}").rstrip("="),  # not as we wrote it
    "!!!",
    "",
    "%00",
]


@pytest.mark.parametrize("path", ["notifications", "activities"])
@pytest.mark.parametrize("cursor", NOT_OURS)
def test_a_cursor_we_did_not_issue_is_400(admin_api: Api, env: str, path: str, cursor: str) -> None:
    response = admin_api.get(f"/v1/environments/{env}/{path}", params={"cursor": cursor})
    body = assert_pingone_error(response, 400, "INVALID_DATA")
    assert body["details"][0]["target"] == "cursor"


@pytest.mark.parametrize("path", ["notifications", "activities"])
def test_the_cursors_we_issue_page_through_everything(admin_api: Api, env: str, path: str) -> None:
    for index in range(5):
        admin_api.post(
            f"/v1/environments/{env}/notifications",
            json={"deliveryMethod": "SMS", "to": "+14155552671", "message": f"m{index}"},
        )
    seen: list[str] = []
    url: str | None = f"/v1/environments/{env}/{path}?limit=2"
    while url:
        page = admin_api.get(url).json()
        seen += [item["id"] for item in page["_embedded"][path]]
        url = page["_links"].get("next", {}).get("href")
    assert len(seen) == len(set(seen)) >= 5


@pytest.mark.parametrize(
    "params",
    [
        {"since": "0001-01-01"},
        {"until": "0001-01-01T00:00:00+14:00"},
        {"since": "9999-12-31T23:59:59-23:59"},
        {"since": "99999-01-01"},
        {"since": "2026-13-01"},
        {"until": "\u0000"},
        {"status": "SENT,\u0000"},
        {"limit": "100000000000000000000"},
        {"limit": "-1"},
    ],
)
def test_notification_filters_never_answer_500(admin_api: Api, env: str, params: dict[str, str]) -> None:
    response = admin_api.get(f"/v1/environments/{env}/notifications", params=params)
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        assert_pingone_error(response, 400, response.json()["code"])


def test_a_naive_timestamp_means_utc(admin_api: Api, env: str) -> None:
    sent = admin_api.post(
        f"/v1/environments/{env}/notifications", json={"deliveryMethod": "SMS", "to": "+14155552671", "message": "x"}
    ).json()
    created = sent["createdAt"].removesuffix("Z")
    listed = admin_api.get(f"/v1/environments/{env}/notifications", params={"since": created}).json()
    assert sent["id"] in [n["id"] for n in listed["_embedded"]["notifications"]]
