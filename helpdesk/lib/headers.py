"""Response headers every page carries beside the Content-Security-Policy (django-csp)."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

# Nothing here uses the camera, microphone, location, payments or USB: deny them to the
# page and to anything it might embed. (The chat tone uses Web Audio, which needs none.)
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), hid=(), "
    "bluetooth=(), magnetometer=(), gyroscope=(), accelerometer=(), display-capture=(), "
    "browsing-topics=()"
)


class PermissionsPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response
