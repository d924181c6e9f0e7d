"""The sandbox's JSON admin API (``{sandboxBase}/_admin``): seed accounts, inject faults, read requests.

Documented in docs/sandbox.md. It is for tests and demos: loopback clients need no credentials,
others the dev account's (``admin_access``).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from phone_delivery.sandbox.state import DEFAULT_ERROR_CODES, Account, Fault, NumberScript, SandboxState
from phone_delivery.sandbox.twilio_http import E164

SCRIPT_OUTCOMES = ("delivered", "undelivered", "failed")
CALL_OUTCOMES = ("completed", "busy", "no-answer", "failed")


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _json(request: Request) -> dict[str, Any] | None:
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def account_json(account: Account) -> dict[str, Any]:
    return {
        "accountSid": account.sid,
        "authToken": account.auth_token,  # sandbox credentials only: the admin API is a test fixture
        "friendlyName": account.friendly_name,
        "messagingServices": [
            {"sid": s.sid, "friendlyName": s.friendly_name, "phoneNumbers": [n.phone_number for n in s.sender_pool]}
            for s in account.messaging_services
        ],
        "numbers": [
            {"sid": n.sid, "phoneNumber": n.phone_number, "sms": n.sms, "voice": n.voice} for n in account.numbers
        ],
        "shortCodes": [{"sid": c.sid, "shortCode": c.short_code} for c in account.short_codes],
        "verifyServices": [{"sid": v.sid, "friendlyName": v.friendly_name} for v in account.verify_services],
        "verifyTemplates": [
            {"sid": t.sid, "friendlyName": t.friendly_name, "channels": t.channels} for t in account.verify_templates
        ],
    }


def script_json(script: NumberScript) -> dict[str, Any]:
    return {
        "phoneNumber": script.phone_number,
        "refuse": script.refuse,
        "outcome": script.outcome,
        "errorCode": script.error_code,
        "delayMs": script.delay_ms,
        "callOutcome": script.call_outcome,
    }


def _e164(value: object) -> str:
    if not isinstance(value, str) or not E164.fullmatch(value):
        raise ValueError("phone numbers are E.164, like +14155550100")
    return value


def seed_account(state: SandboxState, account: Account, body: dict[str, Any]) -> None:
    """Adds what a create-account body lists (also used by dev mode)."""
    for number in body.get("numbers", []) or []:
        state.add_number(
            account.sid, _e164(number["phoneNumber"]), bool(number.get("sms", True)), bool(number.get("voice", True))
        )
    for service in body.get("messagingServices", []) or []:
        if isinstance(service, dict):
            pool = [_e164(n) for n in service.get("phoneNumbers", []) or []]
            state.add_messaging_service(account.sid, str(service["friendlyName"]), service.get("sid"), pool)
        else:
            state.add_messaging_service(account.sid, str(service))
    for code in body.get("shortCodes", []) or []:
        state.add_short_code(account.sid, str(code))
    for service in body.get("verifyServices", []) or []:
        if isinstance(service, dict):
            length = int(service.get("codeLength", 6))
            if not 4 <= length <= 10:
                raise ValueError("codeLength must be 4 to 10")
            state.add_verify_service(account.sid, str(service["friendlyName"]), service.get("sid"), length)
        else:
            state.add_verify_service(account.sid, str(service))
    for template in body.get("verifyTemplates", []) or []:
        state.add_verify_template(account.sid, str(template["friendlyName"]), list(template.get("channels", ["sms"])))


def admin_routes(state: SandboxState) -> list[Route]:
    async def create_account(request: Request) -> Response:
        body = await _json(request)
        if body is None:
            return _error(400, "body must be a JSON object")
        sid, token = body.get("accountSid"), body.get("authToken")
        if sid is not None and (not isinstance(sid, str) or not sid.startswith("AC") or len(sid) != 34):
            return _error(400, "accountSid must be AC followed by 32 hex characters")
        if sid in state.accounts:
            return _error(409, f"account {sid} exists already")
        account = state.add_account(sid, token if isinstance(token, str) else None, str(body.get("friendlyName", "")))
        try:
            seed_account(state, account, body)
        except (KeyError, TypeError, AttributeError, ValueError, OverflowError):
            state.remove_account(account.sid)
            return _error(
                400,
                "numbers need phoneNumber (E.164); messagingServices and verifyServices are names or objects with "
                "friendlyName; verifyTemplates need friendlyName; codeLength is 4 to 10",
            )
        return JSONResponse(account_json(account), status_code=201)

    async def get_account(request: Request) -> Response:
        account = state.accounts.get(request.path_params["sid"])
        return JSONResponse(account_json(account)) if account else _error(404, "no such account")

    async def add_service(request: Request) -> Response:
        sid = request.path_params["sid"]
        body = await _json(request)
        if sid not in state.accounts:
            return _error(404, "no such account")
        if body is None or not isinstance(body.get("friendlyName"), str):
            return _error(400, "friendlyName (string) is required")
        service = state.add_messaging_service(sid, body["friendlyName"], body.get("sid"))
        return JSONResponse({"sid": service.sid, "friendlyName": service.friendly_name}, status_code=201)

    async def remove_service(request: Request) -> Response:
        sid, mg = request.path_params["sid"], request.path_params["mg"]
        if sid not in state.accounts or not state.remove_messaging_service(sid, mg):
            return _error(404, "no such messaging service")
        return Response(status_code=204)

    async def remove_number(request: Request) -> Response:
        account = state.accounts.get(request.path_params["sid"])
        if account is None:
            return _error(404, "no such account")
        if not state.remove_number(account.sid, request.path_params["number"]):
            return _error(404, "no such number")
        return Response(status_code=204)

    async def add_syniverse(request: Request) -> Response:
        body = await _json(request)
        if body is None:
            return _error(400, "body must be a JSON object")
        try:
            account = state.add_syniverse_account(
                body.get("authToken"), list(body.get("senderIds", [])), list(body.get("channels", []))
            )
        except (KeyError, TypeError):
            return _error(400, "senderIds need address; channels need name")
        return JSONResponse(
            {"authToken": account.token, "senderIds": account.sender_ids, "channels": account.channels},
            status_code=201,
        )

    async def syniverse_messages(request: Request) -> Response:
        account = state.syniverse.get(request.path_params["token"])
        if account is None:
            return _error(404, "no such Syniverse account")
        return JSONResponse({"messageRequests": account.message_requests})

    async def add_oauth_client(request: Request) -> Response:
        body = await _json(request)
        if body is None:
            return _error(400, "body must be a JSON object")
        try:
            expires_in = int(body.get("expiresIn", 3600))
        except (TypeError, ValueError, OverflowError):
            return _error(400, "expiresIn must be an integer")
        client = state.add_oauth_client(body.get("clientId"), body.get("clientSecret"), expires_in)
        return JSONResponse(
            {"clientId": client.client_id, "clientSecret": client.client_secret, "expiresIn": client.expires_in},
            status_code=201,
        )

    async def oauth_tokens(_: Request) -> Response:
        issued = state.issued_oauth_tokens()
        return JSONResponse({"tokens": [{"accessToken": t, "clientId": c} for t, c in issued.items()]})

    async def gateway_requests(_: Request) -> Response:
        return JSONResponse(
            {
                "requests": [
                    {
                        "method": r.method,
                        "path": r.path,
                        "query": r.query,
                        "headers": r.headers,
                        "body": r.body,
                        "at": r.at,
                    }
                    for r in list(state.gateway_requests)
                ]
            }
        )

    async def clear_gateway(_: Request) -> Response:
        state.clear_gateway_requests()
        return Response(status_code=204)

    async def add_fault(request: Request) -> Response:
        body = await _json(request)
        if body is None:
            return _error(400, "body must be a JSON object")
        try:
            fault = Fault(
                remaining=int(body.get("count", 1)),
                status=int(body["status"]) if body.get("status") is not None else None,
                code=int(body["code"]) if body.get("code") is not None else None,
                message=str(body["message"]) if body.get("message") is not None else None,
                latency_ms=int(body.get("latencyMs", 0)),
                path_contains=str(body["pathContains"]) if body.get("pathContains") else None,
                account_sid=str(body["accountSid"]) if body.get("accountSid") else None,
                retry_after=int(body["retryAfter"]) if body.get("retryAfter") is not None else None,
            )
        except (TypeError, ValueError, OverflowError):
            return _error(400, "count, status, code, latencyMs and retryAfter must be integers")
        state.add_fault(fault)
        return JSONResponse(vars(fault), status_code=201)

    async def clear_faults(_: Request) -> Response:
        state.clear_faults()
        return Response(status_code=204)

    async def list_requests(_: Request) -> Response:
        return JSONResponse({"requests": state.snapshot_requests()})

    async def set_script(request: Request) -> Response:
        body = await _json(request)
        number = body.get("phoneNumber") if body else None
        if body is None or not isinstance(number, str) or not E164.fullmatch(number):
            return _error(400, "phoneNumber (E.164, like +14155550100) is required")
        try:
            script = NumberScript(
                phone_number=number,
                refuse=int(body["refuse"]) if body.get("refuse") is not None else None,
                outcome=str(body.get("outcome", "delivered")),
                error_code=int(body["errorCode"]) if body.get("errorCode") is not None else None,
                delay_ms=int(body.get("delayMs", 0)),
                call_outcome=str(body.get("callOutcome", "completed")),
            )
        except (TypeError, ValueError, OverflowError):
            return _error(400, "refuse, errorCode and delayMs must be integers")
        if script.error_code is None and script.outcome != "delivered":
            script.error_code = DEFAULT_ERROR_CODES.get(script.outcome)
        if script.outcome not in SCRIPT_OUTCOMES or script.call_outcome not in CALL_OUTCOMES:
            return _error(
                400, f"outcome is one of {', '.join(SCRIPT_OUTCOMES)}; callOutcome one of {', '.join(CALL_OUTCOMES)}"
            )
        if not 0 <= script.delay_ms <= 600_000:
            return _error(400, "delayMs is 0 to 600000")
        state.set_script(script)
        return JSONResponse(script_json(script), status_code=201)

    async def list_scripts(_: Request) -> Response:
        return JSONResponse({"scripts": [script_json(s) for s in state.list_scripts()]})

    async def clear_scripts(_: Request) -> Response:
        state.clear_scripts()
        return Response(status_code=204)

    async def reset(_: Request) -> Response:
        state.reset()
        return Response(status_code=204)

    return [
        Route("/accounts", create_account, methods=["POST"]),
        Route("/accounts/{sid}", get_account, methods=["GET"]),
        Route("/accounts/{sid}/messaging-services", add_service, methods=["POST"]),
        Route("/accounts/{sid}/messaging-services/{mg}", remove_service, methods=["DELETE"]),
        Route("/accounts/{sid}/numbers/{number}", remove_number, methods=["DELETE"]),
        Route("/syniverse/accounts", add_syniverse, methods=["POST"]),
        Route("/syniverse/accounts/{token}/message-requests", syniverse_messages, methods=["GET"]),
        Route("/oauth/clients", add_oauth_client, methods=["POST"]),
        Route("/oauth/tokens", oauth_tokens, methods=["GET"]),
        Route("/gateway/requests", gateway_requests, methods=["GET"]),
        Route("/gateway/requests", clear_gateway, methods=["DELETE"]),
        Route("/faults", add_fault, methods=["POST"]),
        Route("/faults", clear_faults, methods=["DELETE"]),
        Route("/requests", list_requests, methods=["GET"]),
        Route("/scripts", set_script, methods=["POST"]),
        Route("/scripts", list_scripts, methods=["GET"]),
        Route("/scripts", clear_scripts, methods=["DELETE"]),
        Route("/reset", reset, methods=["POST"]),
    ]
