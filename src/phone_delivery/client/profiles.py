"""Where the command line finds its server and credentials: environment variables, a profile file,
or dev mode's ``dev-credentials.json``.

Each field is taken from the first of these that has it:

1. ``PHONE_DELIVERY_SERVER``, ``PHONE_DELIVERY_TOKEN_URL``, ``PHONE_DELIVERY_ADMIN_ENVIRONMENT_ID``,
   ``PHONE_DELIVERY_CLIENT_ID``, ``PHONE_DELIVERY_CLIENT_SECRET``, ``PHONE_DELIVERY_ENVIRONMENT``;
2. the profile named by ``--profile`` (or ``PHONE_DELIVERY_PROFILE``, else ``default``) in the profile
   file (``PHONE_DELIVERY_PROFILES_FILE``, else ``$XDG_CONFIG_HOME/phone-delivery/profiles.json``,
   else ``~/.config/phone-delivery/profiles.json``);
3. when no profile was asked for by name and ``default`` does not exist: dev mode's credentials,
   ``{PHONE_DELIVERY_DATA_DIR or .phone-delivery}/dev-credentials.json``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from phone_delivery.client.errors import UsageError

DEFAULT_PROFILE = "default"
DEV_CREDENTIALS = "dev-credentials.json"
FIELDS = ("server", "tokenUrl", "adminEnvironmentId", "clientId", "clientSecret", "environment")
ENV_VARS = {
    "server": "PHONE_DELIVERY_SERVER",
    "tokenUrl": "PHONE_DELIVERY_TOKEN_URL",
    "adminEnvironmentId": "PHONE_DELIVERY_ADMIN_ENVIRONMENT_ID",
    "clientId": "PHONE_DELIVERY_CLIENT_ID",
    "clientSecret": "PHONE_DELIVERY_CLIENT_SECRET",
    "environment": "PHONE_DELIVERY_ENVIRONMENT",
}


@dataclass(frozen=True)
class Credentials:
    """Everything a command needs to call the API. ``client_secret`` is never printed."""

    server: str
    token_url: str
    client_id: str
    client_secret: str
    environment: str | None
    source: str  # where they came from, for messages
    sandbox_base: str | None = None

    def __repr__(self) -> str:  # a traceback or a debugger never shows the secret
        return f"Credentials(server={self.server!r}, client_id={self.client_id!r}, source={self.source!r})"


def profiles_path(environ: Mapping[str, str]) -> Path:
    explicit = environ.get("PHONE_DELIVERY_PROFILES_FILE")
    if explicit:
        return Path(explicit).expanduser()
    config = environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config).expanduser() / "phone-delivery" / "profiles.json"


def dev_credentials_path(environ: Mapping[str, str], data_dir: Path | None = None) -> Path:
    return (data_dir or Path(environ.get("PHONE_DELIVERY_DATA_DIR") or ".phone-delivery")) / DEV_CREDENTIALS


def _read_json(path: Path, what: str) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise UsageError(f"cannot read the {what} {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise UsageError(f"the {what} {path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise UsageError(f"the {what} {path} must hold a JSON object")
    return data


def read_profiles(path: Path) -> dict[str, dict[str, str]]:
    if not path.exists():
        return {}
    profiles = _read_json(path, "profile file").get("profiles", {})
    if not isinstance(profiles, dict) or not all(isinstance(p, dict) for p in profiles.values()):
        raise UsageError(f'the profile file {path} must look like {{"profiles": {{"NAME": {{...}}}}}}')
    return {name: {k: str(v) for k, v in p.items() if k in FIELDS and v is not None} for name, p in profiles.items()}


def write_profile(path: Path, name: str, profile: Mapping[str, str]) -> None:
    """Add or replace one profile; the file (and a new folder) are readable by the owner only."""
    profiles = read_profiles(path)
    profiles[name] = {k: v for k, v in profile.items() if k in FIELDS and v}
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({"profiles": profiles}, handle, indent=2, sort_keys=True)
        handle.write("\n")
    os.chmod(temporary, 0o600)  # an existing temporary file keeps its mode through O_CREAT
    os.replace(temporary, path)


def profile_from_dev_credentials(data: Mapping[str, Any]) -> dict[str, str]:
    """A profile from dev mode's ``dev-credentials.json``."""
    try:
        return {
            "server": str(data["apiBase"]),
            "tokenUrl": str(data["tokenUrl"]),
            "clientId": str(data["clientId"]),
            "clientSecret": str(data["clientSecret"]),
            "environment": str(data["environmentId"]),
        }
    except KeyError as exc:
        raise UsageError(f"dev-credentials.json has no {exc.args[0]}: is it from phone-delivery dev?") from None


def read_dev_credentials(path: Path) -> dict[str, Any]:
    return _read_json(path, "dev credentials file")


def resolve(profile: str | None, environ: Mapping[str, str]) -> Credentials:
    """The credentials for this run (see the module's docstring for the order)."""
    path = profiles_path(environ)
    profiles = read_profiles(path)
    asked = profile or environ.get("PHONE_DELIVERY_PROFILE")
    name = asked or DEFAULT_PROFILE
    fields: dict[str, str] = {}
    source = f"profile {name!r} in {path}"
    sandbox_base = None
    if name in profiles:
        fields = dict(profiles[name])
    elif asked:
        raise UsageError(
            f"there is no profile {name!r} in {path}; create it with: phone-delivery login --profile {name}"
        )
    else:
        dev = dev_credentials_path(environ)
        if dev.exists():
            data = read_dev_credentials(dev)
            fields = profile_from_dev_credentials(data)
            sandbox_base = data.get("sandboxBase")
            source = f"dev mode's {dev}"
        else:
            source = "environment variables"
    overridden = [var for var in ENV_VARS.values() if environ.get(var)]
    for key, var in ENV_VARS.items():
        if environ.get(var):
            fields[key] = environ[var]
    if overridden:
        source += " overridden by " + ", ".join(overridden)
    return from_fields(fields, source, sandbox_base)


def from_fields(fields: Mapping[str, str], source: str, sandbox_base: str | None = None) -> Credentials:
    """Credentials from profile fields; a missing one is a usage error that says how to give it."""
    server = fields.get("server", "").rstrip("/")
    missing = [ENV_VARS[k] for k in ("server", "clientId", "clientSecret") if not fields.get(k)]
    if missing:
        raise UsageError(
            "no server or credentials: run 'phone-delivery login' (or 'phone-delivery login --dev'), start "
            "'phone-delivery dev' in this folder, or set " + ", ".join(missing)
        )
    token_url = fields.get("tokenUrl")
    for what, url in (("server", server), ("token URL", token_url)):
        if url is not None and not url.startswith(("http://", "https://")):
            raise UsageError(f"the {what} {url!r} ({source}) must be an http:// or https:// URL")
    if not token_url:
        admin_env = fields.get("adminEnvironmentId")
        if not admin_env:
            raise UsageError(
                "no token URL: set PHONE_DELIVERY_TOKEN_URL or PHONE_DELIVERY_ADMIN_ENVIRONMENT_ID "
                "(the environment of the application), or run 'phone-delivery login'"
            )
        token_url = f"{server}/{admin_env}/as/token"
    return Credentials(
        server=server,
        token_url=token_url,
        client_id=fields["clientId"],
        client_secret=fields["clientSecret"],
        environment=fields.get("environment") or None,
        source=source,
        sandbox_base=sandbox_base,
    )
