"""Annotated dependency aliases for routes: the container, the signed-in user, role guards."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import select

from workstation.bootstrap import Container
from workstation.errors import DomainError, Forbidden
from workstation.models import User


class NotSignedIn(DomainError):
    status = 401
    error_id = "not_signed_in"


def get_container(request: Request) -> Container:
    return request.app.state.container  # type: ignore[no-any-return]


ContainerDep = Annotated[Container, Depends(get_container)]


def user_from_session(container: Container, session: dict[str, Any]) -> User | None:
    uid = session.get("uid")
    if not isinstance(uid, int):
        return None
    with container.db.session() as s:
        user = s.scalar(select(User).where(User.id == uid, User.active.is_(True)))
    if user is None or session.get("pw") != user.password_hash[-12:]:
        return None  # deactivated or password changed since sign-in
    return user


def current_user(request: Request, container: ContainerDep) -> User:
    user = user_from_session(container, request.session)
    if user is None:
        raise NotSignedIn("sign in first")
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def require_roles(*roles: str) -> Callable[..., User]:
    """``Depends(require_roles("supervisor", "admin"))`` — admin always passes."""

    def guard(user: CurrentUser) -> User:
        if user.role not in roles and user.role != "admin":
            raise Forbidden(f"this needs the role {' or '.join(roles)}", details={"role": user.role})
        return user

    return guard
