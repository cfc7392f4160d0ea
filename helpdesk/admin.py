"""The Django admin is for admins only: staff status alone (an agent) does not open it."""

from django.contrib import admin
from django.http import HttpRequest

from helpdesk.roles import is_admin


def _admins_only(request: HttpRequest) -> bool:
    return bool(request.user.is_active and request.user.is_staff and is_admin(request.user))


admin.site.has_permission = _admins_only  # type: ignore[method-assign]
admin.site.site_header = "Help desk administration"
admin.site.site_title = "Help desk admin"
