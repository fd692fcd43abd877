"""Certificates made for the lab, so the proxy can speak HTTPS as a balancer that terminates TLS does.

A certificate authority of the lab's own (made with ``trustme``, never trusted by the
system) signs a server certificate for the loopback names. The proxy serves with
:attr:`LabTLS.server`; a client that trusts :attr:`LabTLS.client` (or the CA file, e.g.
``curl --cacert ca.pem``) checks the certificate and the host name as a browser would.
Behind it the backends still speak plain HTTP on loopback, and learn from the proxy's
``X-Forwarded-Proto: https`` that the client's connection was secure, which is what
lets a ``Secure`` cookie, sent by browsers over HTTPS only, work.

The lab's own clients (:func:`stickylab.live.traffic.exchange`) trust a proxy's certificate
once the lab has called :func:`trust` for its URL: nothing else in the process does.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

__all__ = ["LOOPBACK_NAMES", "LabTLS", "client_context", "forget", "lab_certificates", "trust"]

#: The names the lab's server certificate is made for.
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class LabTLS:
    """The lab's TLS: the proxy's context, a client context that trusts the lab's CA, the CA in PEM."""

    server: ssl.SSLContext
    client: ssl.SSLContext
    ca_pem: bytes

    def write_ca(self, path: str | Path) -> Path:
        """Write the CA certificate to ``path`` (for ``curl --cacert`` or a browser); the path."""
        path = Path(path)
        path.write_bytes(self.ca_pem)
        return path


def lab_certificates(names: tuple[str, ...] = LOOPBACK_NAMES) -> LabTLS:
    """A new CA and a server certificate for ``names``; TLS 1.2 at least, as current balancers require."""
    try:
        import trustme
    except ImportError:         # pragma: no cover - trustme is in the live extra
        raise RuntimeError("HTTPS in the lab needs trustme: pip install trustme "
                           "(it is in requirements.txt)") from None
    if not names or any(not isinstance(n, str) or not n for n in names):
        raise ValueError(f"names must be host names or addresses, got names={names!r}")
    ca = trustme.CA(organization_name="StickyLab lab CA")
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.minimum_version = ssl.TLSVersion.TLSv1_2
    ca.issue_cert(*names).configure_cert(server)
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)      # checks the certificate and the host name
    client.minimum_version = ssl.TLSVersion.TLSv1_2
    ca.configure_trust(client)
    return LabTLS(server, client, ca.cert_pem.bytes())


#: Origin (``https://host:port``) -> the client context that trusts the lab serving there.
_TRUSTED: dict[str, ssl.SSLContext] = {}


def _origin(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


def trust(url: str, context: ssl.SSLContext) -> None:
    """Let the lab's clients check the certificate of the server at ``url``'s origin with ``context``."""
    _TRUSTED[_origin(url)] = context


def forget(url: str) -> None:
    """Undo :func:`trust` for ``url``'s origin (the lab serving there has stopped)."""
    _TRUSTED.pop(_origin(url), None)


def client_context(url: str) -> ssl.SSLContext | bool:
    """The context a lab client checks ``url``'s certificate with: a trusted lab's, else ``True``.

    ``True`` is aiohttp's default: the system's certificate authorities.
    """
    if not url.startswith("https://") or not _TRUSTED:
        return True
    return _TRUSTED.get(_origin(url), True)
