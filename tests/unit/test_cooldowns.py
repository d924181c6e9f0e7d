"""PingOne's cooldown periods and resendLimit, as ``domain.cooldowns.decide`` applies them."""

from __future__ import annotations

from phone_delivery.domain.cooldowns import BLOCK_MS, COOLDOWN, RESEND_LIMIT, CooldownState, cooldown_rule, decide

RULES = {
    "cooldownConfiguration": {
        "sms": {
            "enabled": True,
            "periods": [
                {"duration": 10, "timeUnit": "SECONDS"},
                {"duration": 1, "timeUnit": "MINUTES"},
                {"duration": 5, "timeUnit": "MINUTES"},
            ],
            "resendLimit": 3,
        },
        "voice": {"enabled": False},
    }
}
RULE = cooldown_rule("p", "Policy", RULES, "SMS", "+14155552671", "alice")
assert RULE is not None
START = 1_000_000_000


def run(times: list[int]) -> list[str | None]:
    """The rule each send at these offsets (ms from START) is refused by, None when accepted."""
    state = CooldownState(0, 0, None)
    outcomes = []
    for offset in times:
        outcome = decide(RULE, state, START + offset)
        state = outcome.state
        outcomes.append(outcome.rule)
    return outcomes


def test_the_three_periods_and_later_resends() -> None:
    # first send; resend 1 after 10 s; resend 2 after 1 min; resend 3 after 5 min
    assert run([0, 10_000, 70_000, 370_000]) == [None, None, None, None]
    assert run([0, 9_999]) == [None, COOLDOWN]
    assert run([0, 10_000, 69_999]) == [None, None, COOLDOWN]
    assert run([0, 10_000, 70_000, 369_999]) == [None, None, None, COOLDOWN]


def test_refused_requests_are_not_resends() -> None:
    assert run([0, 1_000, 2_000, 10_000, 70_000]) == [None, COOLDOWN, COOLDOWN, None, None]


def test_after_resend_limit_the_number_is_blocked_30_minutes() -> None:
    sends = [0, 10_000, 70_000, 370_000]  # the first send and three resends (resendLimit 3)
    blocked_at = 700_000
    assert run([*sends, blocked_at]) == [None, None, None, None, RESEND_LIMIT]
    assert run([*sends, blocked_at, blocked_at + BLOCK_MS - 1]) == [None] * 4 + [RESEND_LIMIT] * 2
    # when the block ends, a new series starts
    assert run([*sends, blocked_at, blocked_at + BLOCK_MS, blocked_at + BLOCK_MS + 1]) == [None] * 4 + [
        RESEND_LIMIT,
        None,
        COOLDOWN,
    ]


def test_a_series_ends_30_minutes_after_its_last_send() -> None:
    assert run([0, 10_000, 10_000 + 30 * 60_000, 10_000 + 30 * 60_000 + 9_999]) == [None, None, None, COOLDOWN]


def test_refusals_name_the_period_and_the_retry_time() -> None:
    state = decide(RULE, CooldownState(0, 0, None), START).state
    refused = decide(RULE, state, START + 4_000)
    assert refused.error is not None and refused.error.retry_after == 6
    [detail] = refused.error.details
    assert detail.code == "LIMIT_EXCEEDED" and detail.target == "to"
    assert detail.message == (
        "The notification policy 'Policy' asks to wait 10 seconds before resend 1 to this number "
        "(cooldownConfiguration.sms.periods[0]): try again at 1970-01-12T13:46:50.000Z."
    )
    assert detail.inner_error == {"retryAfter": 6}


def test_group_by_user_id_keys_the_user_at_the_number() -> None:
    by_number = cooldown_rule("p", "P", RULES, "SMS", "+14155552671", "alice")
    grouped_rules = {"cooldownConfiguration": {"sms": {**RULES["cooldownConfiguration"]["sms"], "groupBy": "USER_ID"}}}
    alice = cooldown_rule("p", "P", grouped_rules, "SMS", "+14155552671", "alice")
    bob = cooldown_rule("p", "P", grouped_rules, "SMS", "+14155552671", "bob")
    nobody = cooldown_rule("p", "P", grouped_rules, "SMS", "+14155552671", None)
    assert by_number and alice and bob and nobody
    assert len({by_number.key, alice.key, bob.key}) == 3
    assert nobody.key == by_number.key  # no user.id: by number
    assert alice.target == "user.id" and by_number.target == "to"
    assert cooldown_rule("p", "P", RULES, "VOICE", "+14155552671", None) is None
