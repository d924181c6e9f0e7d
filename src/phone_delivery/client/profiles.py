"""Where the command line finds its server and credentials: environment variables, a profile file,
or dev mode's ``dev-credentials.json``.

The credential fields (server, tokenUrl, adminEnvironmentId, clientId, clientSecret) come whole
from ONE source, never mixed field by field (an environment's secret must not go to a file's token
URL). The source is the first of:

1. environment variables, when any of ``PHONE_DELIVERY_SERVER``, ``PHONE_DELIVERY_TOKEN_URL``,
   ``PHONE_DELIVERY_ADMIN_ENVIRONMENT_ID``, ``PHONE_DELIVERY_CLIENT_ID`` or
   ``PHONE_DELIVERY_CLIENT_SECRET`` is set: then all of them come from there (a missing one is a
   usage error naming it), and a profile named as well is a usage error;
2. the profile named by ``--profile`` (or ``PHONE_DELIVERY_PROFILE``) in the profile file
   (``PHONE_DELIVERY_PROFILES_FILE``, else ``$XDG_CONFIG_HOME/phone-delivery/profiles.json``, else
   ``~/.config/phone-delivery/profiles.json``); a named profile that does not exist is an error;
3. dev mode's ``{PHONE_DELIVERY_DATA_DIR or .phone-delivery}/dev-credentials.json`` when it exists,
   so that the dev banner's commands go to the dev server even when a ``default`` profile exists.
   It is used only when its ``apiBase`` and ``tokenUrl`` are on this machine (127.0.0.0/8, ::1,
   ``localhost``): a cloned repository's file pointing elsewhere would otherwise receive secrets;
4. the ``default`` profile.

``PHONE_DELIVERY_ENVIRONMENT`` alone may override the default environment of any of them.
"""

from __future__ import annotations

import ipaddress
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from phone_delivery.client.errors import UsageError

DEFAULT_PROFILE = "default"
DEV_CREDENTIALS = "dev-credentials.json"
CREDENTIAL_FIELDS = ("server", "tokenUrl", "adminEnvironmentId", "clientId", "clientSecret")
FIELDS = (*CREDENTIAL_FIELDS, "environment")
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
    """Add or replace one profile; the file (and a new folder) are readable by the owner only.

    The new content goes to a fresh temporary file beside it (``mkstemp``: created with O_EXCL and
    mode 0600, so never an existing file or a symlink planted there), then replaces the file."""
    profiles = read_profiles(path)
    profiles[name] = {k: v for k, v in profile.items() if k in FIELDS and v}
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump({"profiles": profiles}, handle, indent=2, sort_keys=True)
            handle.write("\n")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def is_loopback(url: str) -> bool:
    """Whether ``url``'s host is this machine: 127.0.0.0/8, ::1 or ``localhost``."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return False
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def profile_from_dev_credentials(data: Mapping[str, Any], path: Path | str = DEV_CREDENTIALS) -> dict[str, str]:
    """A profile from dev mode's ``dev-credentials.json``, refused unless it points at this machine."""
    try:
        fields = {
            "server": str(data["apiBase"]),
            "tokenUrl": str(data["tokenUrl"]),
            "clientId": str(data["clientId"]),
            "clientSecret": str(data["clientSecret"]),
            "environment": str(data["environmentId"]),
        }
    except KeyError as exc:
        raise UsageError(f"dev-credentials.json has no {exc.args[0]}: is it from phone-delivery dev?") from None
    for key, url in (("apiBase", fields["server"]), ("tokenUrl", fields["tokenUrl"])):
        if not is_loopback(url):
            raise UsageError(
                f"{path}: its {key} {url!r} is not on this machine (127.0.0.1, ::1 or localhost), so its "
                "credentials are not used: 'phone-delivery dev' writes loopback addresses only. A file like this "
                "one (say, from a cloned repository) would send secrets elsewhere: delete it, or use --profile"
            )
    return fields


def read_dev_credentials(path: Path) -> dict[str, Any]:
    return _read_json(path, "dev credentials file")


def resolve(profile: str | None, environ: Mapping[str, str]) -> Credentials:
    """The credentials for this run (see the module's docstring for the order)."""
    path = profiles_path(environ)
    asked = profile or environ.get("PHONE_DELIVERY_PROFILE")
    from_env = [ENV_VARS[key] for key in CREDENTIAL_FIELDS if environ.get(ENV_VARS[key])]
    sandbox_base = None
    if from_env:
        if asked:
            raise UsageError(
                f"both the profile {asked!r} and {', '.join(from_env)} are given: the credentials come from one "
                "place only; unset the variables, or do not name a profile (--profile, PHONE_DELIVERY_PROFILE)"
            )
        fields = {key: environ[ENV_VARS[key]] for key in CREDENTIAL_FIELDS if environ.get(ENV_VARS[key])}
        missing = [ENV_VARS[key] for key in ("server", "clientId", "clientSecret") if key not in fields]
        if "tokenUrl" not in fields and "adminEnvironmentId" not in fields:
            missing.append("PHONE_DELIVERY_TOKEN_URL (or PHONE_DELIVERY_ADMIN_ENVIRONMENT_ID)")
        if missing:
            raise UsageError(
                f"{', '.join(from_env)} {'is' if len(from_env) == 1 else 'are'} set, so the credentials come from "
                f"environment variables only, and these are not set: {', '.join(missing)}"
            )
        source = "environment variables"
    elif asked:
        profiles = read_profiles(path)
        if asked not in profiles:
            raise UsageError(
                f"there is no profile {asked!r} in {path}; create it with: phone-delivery login --profile {asked}"
            )
        fields = dict(profiles[asked])
        source = f"profile {asked!r} in {path}"
    elif (dev := dev_credentials_path(environ)).exists():
        data = read_dev_credentials(dev)
        fields = profile_from_dev_credentials(data, dev)
        sandbox_base = data.get("sandboxBase")
        source = f"dev mode's {dev}"
    else:
        fields = dict(read_profiles(path).get(DEFAULT_PROFILE, {}))
        source = f"profile {DEFAULT_PROFILE!r} in {path}" if fields else "no profile, no dev mode"
    if environ.get(ENV_VARS["environment"]):
        fields["environment"] = environ[ENV_VARS["environment"]]
        source += " + PHONE_DELIVERY_ENVIRONMENT"
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
