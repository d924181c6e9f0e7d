"""Twilio's resources as the sandbox writes them: every property Twilio's OpenAPI description lists
(``shared/reference/twilio-oai``), ``None`` where the sandbox has no value, Twilio's date formats
(RFC 2822 in the 2010 API, ISO 8601 in v1/v2) and its ``uri`` (relative) and ``url`` (absolute)
conventions. The tests validate these bodies against Twilio's schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import phonenumbers

from phone_delivery.sandbox.clock import iso_now
from phone_delivery.sandbox.state import (
    Account,
    IncomingNumber,
    MessagingService,
    ShortCode,
    Verification,
    VerifyService,
    VerifyTemplate,
    new_sid,
)

API_VERSION = "2010-04-01"


def rfc2822(iso: str) -> str:
    return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").strftime("%a, %d %b %Y %H:%M:%S +0000")


def account_uri(account_sid: str) -> str:
    return f"/{API_VERSION}/Accounts/{account_sid}"


def account_resource(account: Account) -> dict[str, Any]:
    uri = account_uri(account.sid)
    subresources = (
        "addresses",
        "conferences",
        "signing_keys",
        "transcriptions",
        "connect_apps",
        "sip",
        "authorized_connect_apps",
        "usage",
        "keys",
        "applications",
        "recordings",
        "short_codes",
        "calls",
        "notifications",
        "incoming_phone_numbers",
        "queues",
        "messages",
        "outgoing_caller_ids",
        "available_phone_numbers",
        "balance",
    )
    names = {"short_codes": "SMS/ShortCodes", "sip": "SIP", "balance": "Balance"}
    return {
        "auth_token": account.auth_token,  # Twilio shows it too, to the account itself
        "date_created": rfc2822(account.date_created),
        "date_updated": rfc2822(account.date_created),
        "friendly_name": account.friendly_name,
        "owner_account_sid": account.sid,
        "sid": account.sid,
        "status": "active",
        "subresource_uris": {
            name: f"{uri}/{names.get(name, ''.join(p.title() for p in name.split('_')))}.json" for name in subresources
        },
        "type": "Full",
        "uri": f"{uri}.json",
    }


# GSM 03.38: the basic set (one septet each) and the extension table (two each).
GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = set("^{}\\[~]|€\f")


def segments(body: str) -> str:
    """How many SMS segments ``body`` takes: GSM-7 (160, or 153 per part) when every character is in
    the GSM set, else UCS-2 (70, or 67 per part, counting UTF-16 code units)."""
    if all(c in GSM_BASIC or c in GSM_EXTENDED for c in body):
        units, single, part = sum(2 if c in GSM_EXTENDED else 1 for c in body), 160, 153
    else:
        units, single, part = len(body.encode("utf-16-le")) // 2, 70, 67
    return str(1 if units <= single else -(-units // part))


def new_message(
    account: Account, to: str, from_number: str | None, body: str, service_sid: str | None
) -> dict[str, Any]:
    now = rfc2822(iso_now())
    sid = new_sid("SM")
    return {
        "body": body,
        # Through a Messaging Service the sender (and so the encoding) is chosen later: 0 until then.
        "num_segments": "0" if service_sid else segments(body),
        "direction": "outbound-api",
        "from": from_number,
        "to": to,
        "date_updated": now,
        "price": None,
        "error_message": None,
        "uri": f"{account_uri(account.sid)}/Messages/{sid}.json",
        "account_sid": account.sid,
        "num_media": "0",
        "status": "accepted" if service_sid else "queued",
        "messaging_service_sid": service_sid,
        "sid": sid,
        "date_sent": None,
        "date_created": now,
        "error_code": None,
        "price_unit": "USD",
        "api_version": API_VERSION,
        "subresource_uris": {
            "media": f"{account_uri(account.sid)}/Messages/{sid}/Media.json",
            "feedback": f"{account_uri(account.sid)}/Messages/{sid}/Feedback.json",
        },
    }


def new_call(account: Account, to: str, number: IncomingNumber) -> dict[str, Any]:
    now = rfc2822(iso_now())
    sid = new_sid("CA")
    uri = f"{account_uri(account.sid)}/Calls/{sid}"
    return {
        "sid": sid,
        "date_created": now,
        "date_updated": now,
        "parent_call_sid": None,
        "account_sid": account.sid,
        "to": to,
        "to_formatted": formatted(to),
        "from": number.phone_number,
        "from_formatted": formatted(number.phone_number),
        "phone_number_sid": number.sid,
        "status": "queued",
        "start_time": None,
        "end_time": None,
        "duration": None,
        "price": None,
        "price_unit": "USD",
        "direction": "outbound-api",
        "answered_by": None,
        "api_version": API_VERSION,
        "forwarded_from": None,
        "group_sid": None,
        "caller_name": None,
        "queue_time": "0",
        "trunk_sid": None,
        "uri": f"{uri}.json",
        "subresource_uris": {
            name: f"{uri}/{path}.json"
            for name, path in (
                ("feedback", "Feedback"),
                ("user_defined_messages", "UserDefinedMessages"),
                ("notifications", "Notifications"),
                ("recordings", "Recordings"),
                ("streams", "Streams"),
                ("payments", "Payments"),
                ("user_defined_message_subscriptions", "UserDefinedMessageSubscriptions"),
                ("siprec", "Siprec"),
                ("events", "Events"),
                ("feedback_summaries", "FeedbackSummaries"),
            )
        },
    }


def formatted(number: str) -> str:
    """How Twilio writes ``to_formatted``: national format for the number's country."""
    try:
        parsed = phonenumbers.parse(number)
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)


def incoming_number_resource(account: Account, number: IncomingNumber) -> dict[str, Any]:
    date = rfc2822(number.date_created)
    return {
        "account_sid": account.sid,
        "address_sid": None,
        "address_requirements": "none",
        "api_version": API_VERSION,
        "beta": False,
        "capabilities": {"voice": number.voice, "sms": number.sms, "mms": False, "fax": False},
        "date_created": date,
        "date_updated": date,
        "friendly_name": formatted(number.phone_number),
        "identity_sid": None,
        "phone_number": number.phone_number,
        "origin": "twilio",
        "sid": number.sid,
        "sms_application_sid": None,
        "sms_fallback_method": "POST",
        "sms_fallback_url": "",
        "sms_method": "POST",
        "sms_url": "",
        "status_callback": "",
        "status_callback_method": "POST",
        "trunk_sid": None,
        "uri": f"{account_uri(account.sid)}/IncomingPhoneNumbers/{number.sid}.json",
        "voice_receive_mode": "voice",
        "voice_application_sid": None,
        "voice_caller_id_lookup": False,
        "voice_fallback_method": "POST",
        "voice_fallback_url": None,
        "voice_method": "POST",
        "voice_url": None,
        "emergency_status": "Inactive",
        "emergency_address_sid": None,
        "emergency_address_status": "unregistered",
        "bundle_sid": None,
        "status": "in-use",
        "type": "local",
    }


def short_code_resource(account: Account, code: ShortCode) -> dict[str, Any]:
    date = rfc2822(account.date_created)
    return {
        "account_sid": account.sid,
        "api_version": API_VERSION,
        "date_created": date,
        "date_updated": date,
        "friendly_name": code.short_code,
        "short_code": code.short_code,
        "sid": code.sid,
        "sms_fallback_method": "POST",
        "sms_fallback_url": None,
        "sms_method": "POST",
        "sms_url": None,
        "uri": f"{account_uri(account.sid)}/SMS/ShortCodes/{code.sid}.json",
    }


def service_resource(base: str, service: MessagingService) -> dict[str, Any]:
    """A Messaging Service; ``base`` is the messaging API's absolute base (ending before ``/v1``)."""
    url = f"{base}/v1/Services/{service.sid}"
    return {
        "sid": service.sid,
        "account_sid": service.account_sid,
        "friendly_name": service.friendly_name,
        "date_created": service.date_created,
        "date_updated": service.date_created,
        "inbound_request_url": None,
        "inbound_method": "POST",
        "fallback_url": None,
        "fallback_method": "POST",
        "status_callback": None,
        "sticky_sender": True,
        "mms_converter": True,
        "smart_encoding": True,
        "scan_message_content": "inherit",
        "fallback_to_long_code": True,
        "area_code_geomatch": True,
        "synchronous_validation": True,
        "validity_period": 14400,
        "url": url,
        "links": {
            name: f"{url}/{path}"
            for name, path in (
                ("phone_numbers", "PhoneNumbers"),
                ("short_codes", "ShortCodes"),
                ("alpha_senders", "AlphaSenders"),
                ("messages", "Messages"),
                ("us_app_to_person", "Compliance/Usa2p"),
                ("us_app_to_person_usecases", "Compliance/Usa2p/Usecases"),
                ("channel_senders", "ChannelSenders"),
            )
        },
        "usecase": "undeclared",
        "us_app_to_person_registered": False,
        "use_inbound_webhook_on_number": False,
    }


def service_phone_number_resource(base: str, service: MessagingService, number: IncomingNumber) -> dict[str, Any]:
    try:
        country = phonenumbers.region_code_for_number(phonenumbers.parse(number.phone_number))
    except phonenumbers.NumberParseException:
        country = None
    capabilities = [name for name, on in (("SMS", number.sms), ("Voice", number.voice)) if on]
    return {
        "sid": number.sid,
        "account_sid": service.account_sid,
        "service_sid": service.sid,
        "date_created": number.date_created,
        "date_updated": number.date_created,
        "phone_number": number.phone_number,
        "country_code": country,
        "capabilities": capabilities,
        "url": f"{base}/v1/Services/{service.sid}/PhoneNumbers/{number.sid}",
    }


def verify_service_resource(base: str, account: Account, service: VerifyService) -> dict[str, Any]:
    url = f"{base}/v2/Services/{service.sid}"
    return {
        "sid": service.sid,
        "account_sid": account.sid,
        "friendly_name": service.friendly_name,
        "code_length": service.code_length,
        "lookup_enabled": False,
        "psd2_enabled": False,
        "skip_sms_to_landlines": False,
        "dtmf_input_required": True,
        "tts_name": None,
        "do_not_share_warning_enabled": False,
        "custom_code_enabled": True,
        "push": {"include_date": False, "apn_credential_sid": None, "fcm_credential_sid": None},
        "totp": {"issuer": service.friendly_name, "time_step": 30, "code_length": 6, "skew": 1},
        "default_template_sid": None,
        "whatsapp": {"msg_service_sid": None, "from": None},
        "passkeys": None,
        "verify_event_subscription_enabled": False,
        "date_created": service.date_created,
        "date_updated": service.date_created,
        "url": url,
        "links": {
            name: f"{url}/{path}"
            for name, path in (
                ("verification_checks", "VerificationCheck"),
                ("verifications", "Verifications"),
                ("rate_limits", "RateLimits"),
                ("messaging_configurations", "MessagingConfigurations"),
                ("entities", "Entities"),
                ("webhooks", "Webhooks"),
                ("access_tokens", "AccessTokens"),
            )
        },
    }


def verification_resource(base: str, account: Account, verification: Verification) -> dict[str, Any]:
    return {
        "sid": verification.sid,
        "service_sid": verification.service_sid,
        "account_sid": account.sid,
        "to": verification.to,
        "channel": verification.channel,
        "status": verification.status,
        "valid": verification.status == "approved",
        "lookup": {"carrier": None},
        "amount": None,
        "payee": None,
        "send_code_attempts": verification.send_code_attempts,
        "date_created": verification.date_created,
        "date_updated": verification.date_updated,
        "sna": None,
        "url": f"{base}/v2/Services/{verification.service_sid}/Verifications/{verification.sid}",
    }


def verification_check_resource(account: Account, verification: Verification) -> dict[str, Any]:
    """A verification check: the verification's own fields but its ``url``, ``lookup``, ``sna`` and
    ``send_code_attempts``, plus ``sna_attempts_error_codes``."""
    whole = verification_resource("", account, verification)
    dropped = ("url", "lookup", "sna", "send_code_attempts")
    return {**{k: v for k, v in whole.items() if k not in dropped}, "sna_attempts_error_codes": []}


def template_resource(account: Account, template: VerifyTemplate) -> dict[str, Any]:
    return {
        "sid": template.sid,
        "account_sid": account.sid,
        "friendly_name": template.friendly_name,
        "channels": template.channels,
        "translations": {"en": {"text": "Your {{friendly_name}} verification code is: {{code}}"}},
    }
