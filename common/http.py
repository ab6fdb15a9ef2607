"""The request type of a view behind `login_required`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from accounts.models import User


class AuthenticatedHttpRequest(HttpRequest):
    """A request whose user is signed in. Annotate a `login_required` view's request with it so
    that `request.user` is a `User`, not `User | AnonymousUser`; it is a type only, never built."""

    user: User
