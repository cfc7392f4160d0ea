"""Browser tests fail on a Content-Security-Policy violation: every page a journey opens
must work under the policy the app sends."""

from typing import Any


def csp_watch(browser: Any) -> list[str]:
    """Record the CSP violations Chromium reports in any page of `browser` from now on."""
    seen: list[str] = []
    new_context = browser.new_context

    def watched_context(*args: Any, **kwargs: Any) -> Any:
        context = new_context(*args, **kwargs)
        context.on(
            "console",
            lambda message: (
                seen.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )
        return context

    def watched_page(*args: Any, **kwargs: Any) -> Any:
        return watched_context(*args, **kwargs).new_page()

    browser.new_context = watched_context
    browser.new_page = watched_page
    return seen


def assert_no_csp_violations(seen: list[str]) -> None:
    assert seen == [], "Content-Security-Policy violations:\n" + "\n".join(seen)
