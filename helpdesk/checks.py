"""System checks for `manage.py check --deploy`."""

from typing import Any

from django.core.checks import Tags, Warning, register

from helpdesk.lib.urls import public_base_url_problems


@register(Tags.security, deploy=True)
def public_base_url_check(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    return [
        Warning(problem, id="helpdesk.W001", hint="See README: Configuration, PUBLIC_BASE_URL.")
        for problem in public_base_url_problems()
    ]
