"""Typed readers for ``DISPATCHER_*`` environment variables.

Every reader fails loudly at start-up with the variable's name, so a typo in a
deployment never turns into a silently different service.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def _bad(name: str, value: str, expected: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"{name}={value!r} is malformed: expected {expected}")


def env_str(name: str, default: str = "") -> str:
    value = _raw(name)
    return default if value is None else value


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise _bad(name, value, "an integer") from None
    if minimum is not None and number < minimum:
        raise _bad(name, value, f"an integer >= {minimum}")
    if maximum is not None and number > maximum:
        raise _bad(name, value, f"an integer <= {maximum}")
    return number


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        raise _bad(name, value, "a number") from None
    if number != number or (minimum is not None and number < minimum):
        raise _bad(name, value, f"a number >= {minimum}")
    return number


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise _bad(name, value, "one of 1/0, true/false, yes/no, on/off")


def env_choice(name: str, default: str, *, choices: tuple[str, ...]) -> str:
    value = _raw(name)
    if value is None:
        return default
    if value.upper() not in choices:
        raise _bad(name, value, f"one of {', '.join(choices)}")
    return value.upper()


def env_list(name: str, default: tuple[str, ...] = ()) -> list[str]:
    """A comma-separated list; blanks around items are dropped."""
    value = _raw(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_url(name: str, default: str = "", *, schemes: tuple[str, ...]) -> str:
    value = _raw(name)
    if value is None:
        return default
    parts = urlsplit(value)
    if parts.scheme not in schemes or not (parts.netloc or parts.path):
        raise _bad(name, _redact_url(value), f"a URL starting with {' or '.join(s + '://' for s in schemes)}")
    return value


def env_host_port(name: str, default: str) -> str:
    value = _raw(name) or default
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise _bad(name, value, "HOST:PORT, e.g. 127.0.0.1:8000")
    return value


def env_mapping(name: str) -> dict[str, str]:
    """``key=value,key2=value2`` pairs."""
    result: dict[str, str] = {}
    for item in env_list(name):
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise _bad(name, item, "comma-separated name=value pairs")
        result[key.strip()] = value.strip()
    return result


def env_secret(name: str, *, store: Path) -> str:
    """A secret from the environment, else one generated once into ``store``.

    The generated file lives under the data directory (never in the repository)
    and is readable by its owner only.
    """
    value = _raw(name)
    if value is not None:
        if len(value) < 16:
            raise _bad(name, "***", "a secret of at least 16 characters")
        return value
    if not store.exists():
        _create_secret_file(store)
    return store.read_text().strip()


def _create_secret_file(store: Path) -> None:
    # Written aside and linked into place: processes starting together on a
    # fresh machine all end up reading the one secret that won.
    store.parent.mkdir(parents=True, exist_ok=True)
    scratch = store.with_name(f".{store.name}.{os.getpid()}")
    fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
    try:
        os.link(scratch, store)
    except FileExistsError:
        pass
    finally:
        scratch.unlink()


def _redact_url(url: str) -> str:
    """The URL without its password, fit for an error message."""
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


def env_origins(name: str) -> list[str]:
    """A comma-separated list of web origins (``https://host[:port]``, no path), for CORS."""
    origins = env_list(name)
    for origin in origins:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query:
            raise _bad(name, origin, "origins like https://frontend.example.org (scheme, host, port; no path)")
    return origins


def env_file_load(project_dir: Path) -> Path | None:
    """Read ``DISPATCHER_ENV_FILE``, else ``.env`` in the project folder, into the environment.

    So the service and every ``manage.py`` command started from another shell see the
    same configuration. Variables already set in the environment win over the file's.
    Returns the file read, or None when there is none.
    """
    from dotenv import load_dotenv

    named = _raw("DISPATCHER_ENV_FILE")
    path = Path(named).expanduser() if named else project_dir / ".env"
    if not path.is_file():
        if named:
            raise _bad("DISPATCHER_ENV_FILE", named, "the path of a readable file of NAME=value lines")
        return None
    load_dotenv(path, override=False)
    return path
