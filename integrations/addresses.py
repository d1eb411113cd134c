"""Where a webhook may point: http(s) URLs whose host resolves only to public addresses.

A webhook URL is typed by a customer and fetched by our servers, so without
this check it would let anyone make our workers call the metadata service,
the database or an admin page on the private network (SSRF). The check runs
when the URL is saved and again before every send, because a name's DNS
answer can change in between; the send then connects to the very address
that was checked, so a second lookup cannot swap it.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

ALLOWED_SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}


class UnsafeURL(ValueError):
    """The URL cannot be used for a webhook; the message says why, for people."""


class Unresolvable(UnsafeURL):
    """The host name has no address right now: refused when saved, retried when sending."""


def address_is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is loopback too
    return not (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global  # also carrier-grade NAT, documentation ranges, ...
    )


def split_url(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of a URL a webhook may use, or ``UnsafeURL``."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeURL(_("Enter a valid URL.")) from exc
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise UnsafeURL(_("Only http:// and https:// URLs can receive webhooks."))
    if not parts.hostname:
        raise UnsafeURL(_("The URL needs a host name."))
    if parts.username is not None or parts.password is not None:
        raise UnsafeURL(_("Leave user names and passwords out of the URL; deliveries are "
                          "signed with the endpoint's secret."))
    return scheme, parts.hostname, port or DEFAULT_PORTS[scheme]


def private_networks_allowed() -> bool:
    return bool(getattr(settings, "WEBHOOK_ALLOW_PRIVATE_NETWORKS", settings.DEBUG))


def resolve(url: str) -> tuple[str, str, int, str]:
    """``(scheme, host, port, address)``: the address to connect to, checked.

    Every address the name resolves to must be public (one private answer is
    enough to refuse: a client may pick any of them). Development
    (``WEBHOOK_ALLOW_PRIVATE_NETWORKS``, on with ``DEBUG``) skips that rule.
    """
    scheme, host, port = split_url(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Unresolvable(_("The host name “%(host)s” does not resolve.")
                           % {"host": host}) from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise Unresolvable(_("The host name “%(host)s” does not resolve.") % {"host": host})
    if not private_networks_allowed():
        for address in addresses:
            if not address_is_public(address):
                raise UnsafeURL(
                    _("“%(host)s” points to a private, local or reserved address (%(address)s); "
                      "webhooks go only to public addresses.")
                    % {"host": host, "address": address}
                )
    return scheme, host, port, addresses[0]
