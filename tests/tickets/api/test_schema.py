"""The OpenAPI schema: every endpoint, its token scope, examples, and the error shape."""

import pytest
from django.urls import get_resolver

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from drf_spectacular.generators import SchemaGenerator

    with django_db_blocker.unblock():
        return SchemaGenerator().get_schema(request=None, public=True)


def _api_routes():
    from tickets import api_urls

    def walk(patterns, prefix):
        for p in patterns:
            if hasattr(p, "url_patterns"):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            else:
                yield prefix + str(p.pattern)

    return list(walk(api_urls.urlpatterns, "/api/v1/"))


def test_every_api_route_is_in_the_schema(schema):
    documented = set(schema["paths"])
    for route in _api_routes():
        path = route.replace("<int:", "{").replace(">", "}")
        assert path in documented, path
    assert get_resolver()  # the urlconf loads


def test_every_operation_names_its_scope_and_the_error_shape(schema):
    for path, operations in schema["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in operations.items():
            scope = operation["x-required-scope"]
            assert f"**Token scope:** `{scope}`" in operation["description"], (path, method)
            for code in ("401", "403", "404"):
                body = operation["responses"][code]["content"]["application/json"]["schema"]
                assert body == {"$ref": "#/components/schemas/ErrorOutput"}, (path, method)


def test_the_scopes_are_the_ones_the_views_check(schema):
    scopes = {
        (path, method): op["x-required-scope"]
        for path, ops in schema["paths"].items()
        for method, op in ops.items()
        if path.startswith("/api/v1/")
    }

    assert scopes[("/api/v1/customers/", "post")] == "customers:write"
    assert scopes[("/api/v1/customers/{customer_id}/", "get")] == "customers:read"
    assert scopes[("/api/v1/kb/articles/{article_id}/publish/", "post")] == "kb:write"
    assert scopes[("/api/v1/attachments/{attachment_id}/", "get")] == "tickets:read"
    assert scopes[("/api/v1/tickets/{number}/replies/", "post")] == "tickets:write"
    assert scopes[("/api/v1/tickets/{number}/timeline/", "get")] == "tickets:read"
    assert scopes[("/api/v1/tickets/{number}/macros/{macro_id}/apply/", "post")] == "tickets:write"
    assert scopes[("/api/v1/customers/{customer_id}/export/", "get")] == "customers:read"
    assert scopes[("/api/v1/customers/{customer_id}/erase/", "post")] == "customers:write"
    assert scopes[("/api/v1/organizations/", "post")] == "customers:write"
    assert scopes[("/api/v1/users/", "get")] == "tickets:read"


def _examples(operation):
    found = set()
    for part in [operation.get("requestBody", {}), *operation["responses"].values()]:
        for media in part.get("content", {}).values():
            found |= set(media.get("examples", {}))
    return found


def test_every_operation_carries_an_example(schema):
    for path, operations in schema["paths"].items():
        downloads = path.startswith("/api/v1/attachments/") or path.endswith("/export/")
        if not path.startswith("/api/v1/") or downloads:
            continue  # a download's example would be bytes
        for method, operation in operations.items():
            assert _examples(operation), (path, method)


def test_the_ticket_list_documents_every_filter(schema):
    filters = {p["name"] for p in schema["paths"]["/api/v1/tickets/"]["get"]["parameters"]}
    assert {"status", "priority", "team", "assignee", "tag", "channel", "customer",
            "created_after", "created_before", "updated_after", "updated_before", "q",
            "cursor", "limit"} <= filters  # fmt: skip
    customers = schema["paths"]["/api/v1/customers/"]["get"]["parameters"]
    assert {"email", "phone", "organization", "cursor"} <= {p["name"] for p in customers}
