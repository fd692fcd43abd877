"""Who a request comes from: the JupyterHub user its API token belongs to.

The hub answers ``GET /hub/api/user`` for a token with the model of its owner (name, kind,
and the token's scopes), and 403 for a token it does not know. Where JupyterHub is installed
(it is beside every hub) its own :class:`jupyterhub.services.auth.HubAuth` asks, with its cache
and its scope check; elsewhere the same request is made with aiohttp. A token lets a student
grade only if it holds the scope JupyterHub gives for reaching this service,
``access:services!service=<name>`` (or ``access:services``).
"""

from __future__ import annotations

import logging
import re
import time

logger = logging.getLogger(__name__)

_TOKEN = re.compile(r"^\s*(?:token|bearer)\s+(\S+)\s*$", re.IGNORECASE)


class HubUnreachable(RuntimeError):
    """The hub's API could not say who a token belongs to (down, or answering with an error)."""


def token_of(authorization: str | None) -> str | None:
    """The token of an ``Authorization: token <t>`` (or ``bearer <t>``) header, or None."""
    match = _TOKEN.match(authorization or "")
    return match.group(1) if match else None


class HubUsers:
    """Asks the hub whose a token is, and whether it may use this service.

    Args:
        api_url: the hub's API, e.g. ``http://127.0.0.1:8081/hub/api`` (``$JUPYTERHUB_API_URL``).
        service: this service's name in ``c.JupyterHub.services``.
        api_token: the service's own token (``$JUPYTERHUB_API_TOKEN``), for HubAuth.
        cache_seconds: how long an answer of the hub is reused for the same token.
    """

    def __init__(self, api_url: str, service: str, api_token: str = "", cache_seconds: float = 60.0):
        if not re.match(r"^https?://[^/\s]+", api_url or ""):
            raise ValueError(f"the hub's API URL must be http(s)://host[:port]/hub/api, not {api_url!r}")
        self.api_url = api_url.rstrip("/")
        self.service = service
        self.scope = f"access:services!service={service}"
        self._cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, dict | None]] = {}
        try:
            from jupyterhub.services.auth import HubAuth
        except ImportError:
            self._hub_auth = None
        else:
            self._hub_auth = HubAuth(api_url=self.api_url, api_token=api_token, access_scopes={self.scope},
                                     cache_max_age=int(cache_seconds))

    @property
    def how(self) -> str:
        """Which client asks the hub (for the log)."""
        return "jupyterhub HubAuth" if self._hub_auth else "aiohttp (jupyterhub is not installed)"

    async def user(self, token: str) -> dict | None:
        """The hub's model of the token's owner, or None if the hub does not know the token.

        Raises:
            HubUnreachable: the hub did not answer, or answered with an error.
        """
        if self._hub_auth is not None:
            from tornado.web import HTTPError

            try:
                return await self._hub_auth.user_for_token(token, sync=False)
            except HTTPError as exc:
                raise HubUnreachable(f"the hub at {self.api_url} could not check the token: "
                                     f"{exc.log_message or exc}") from None
        return await self._ask(token)

    async def _ask(self, token: str) -> dict | None:
        import aiohttp

        now = time.monotonic()
        cached = self._cache.get(token)
        if cached and now - cached[0] < self._cache_seconds:
            return cached[1]
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as session:
                async with session.get(f"{self.api_url}/user",
                                       headers={"Authorization": f"token {token}"}) as response:
                    if response.status in (401, 403, 404):
                        model = None
                    elif response.status != 200:
                        raise HubUnreachable(f"the hub at {self.api_url} answered {response.status}")
                    else:
                        model = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise HubUnreachable(f"the hub at {self.api_url} did not answer: {exc}") from None
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[token] = (now, model)
        return model

    def refusal(self, model: dict) -> str | None:
        """Why the owner of a known token may not grade here (None if they may)."""
        if model.get("kind", "user") != "user":
            return (f"only hub users grade here, and this token is the {model.get('kind')} "
                    f"{model.get('name')!r}'s")
        scopes = set(model.get("scopes") or [])
        if self._hub_auth is not None:
            allowed = self._hub_auth.check_scopes({self.scope}, model)
        else:
            allowed = bool(scopes & {self.scope, "access:services"})
        if not allowed:
            return (f"this token of {model.get('name')!r} lacks the scope {self.scope}: the hub's "
                    f"administrator grants it to users and adds it to c.Spawner.server_token_scopes")
        return None
