"""What a handler gets besides its parameters: the site and who is calling."""

from __future__ import annotations

from dataclasses import dataclass

from .store import Site


@dataclass(frozen=True)
class Context:
    """The call's context.

    Attributes:
        site: The sandbox site state.
        userid: The web-service user owning the token.
        functions: The functions of the token's service, in site-info order.
        siteurl: Base URL used in rendered links (``http://host:port``).
        privatekey: The ``userprivateaccesskey`` of the token (never logged).
    """

    site: Site
    userid: int
    functions: tuple[str, ...]
    siteurl: str
    privatekey: str = ""
