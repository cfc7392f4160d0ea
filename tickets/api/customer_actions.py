"""What an integration does to one customer beyond editing it: add or remove an address,
merge another record into it, export its personal data (ZIP) and erase it."""

import tempfile

from django.http import FileResponse, Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from tickets.api.customers import CUSTOMER_EXAMPLE, detail_body
from tickets.api.errors import CONFLICTS, domain_statuses
from tickets.api.lookups import customer_get_for_agent
from tickets.api.permissions import ApiView, require_perm
from tickets.api.serializers import CustomerDetailOutput, ErrorOutput
from tickets.customer_services import customer_identity_add, customer_identity_remove
from tickets.errors import TicketErrorCode
from tickets.models import ContactIdentity, Customer, IdentityKind
from tickets.privacy import ERASE_PERMISSION, customer_erase, customer_export_archive
from tickets.services import customer_merge

# Up to this size the export is built in memory, past it in a temporary file.
_IN_MEMORY = 8 * 1024 * 1024


class IdentityInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[IdentityKind.EMAIL, IdentityKind.PHONE])
    value = serializers.CharField(max_length=320, help_text="any format; stored normalized")


class CustomerIdentityListApi(ApiView):
    required_scopes = {"POST": "customers:write"}

    @extend_schema(
        summary="Add an email or phone to a customer",
        description="Refused with `identity_taken` when the address is another customer's "
        "(merge the two instead). Adding one the customer has changes nothing.",
        request=IdentityInput,
        responses={201: CustomerDetailOutput},
        examples=[
            OpenApiExample(
                "A work address",
                value={"kind": "email", "value": "dana@acme.example"},
                request_only=True,
            )
        ],
    )
    def post(self, request: Request, customer_id: int) -> Response:
        detail = customer_get_for_agent(user=request.user, customer_id=customer_id)
        require_perm(request, "tickets.change_customer", "editing customers")
        params = IdentityInput(data=request.data)
        params.is_valid(raise_exception=True)
        with domain_statuses(CONFLICTS):
            customer_identity_add(
                customer=detail.customer, actor=request.user, **params.validated_data
            )
        fresh = customer_get_for_agent(user=request.user, customer_id=customer_id)
        return Response(detail_body(fresh), status=status.HTTP_201_CREATED)


class CustomerIdentityDetailApi(ApiView):
    required_scopes = {"DELETE": "customers:write"}

    @extend_schema(
        summary="Remove an email or phone from a customer",
        description="Refused with `identity_in_use` while the address wrote messages in the "
        "history, and with `invalid_identity` for the customer's last address.",
        responses={204: None},
        examples=[
            OpenApiExample(
                "Refused: the address wrote messages",
                value={
                    "error": {
                        "code": "identity_in_use",
                        "message": "+14155550100 wrote messages in this customer's history, "
                        "so it stays. Merge customers to join two records.",
                    }
                },
                response_only=True,
                status_codes=["400"],
            )
        ],
    )
    def delete(self, request: Request, customer_id: int, identity_id: int) -> Response:
        detail = customer_get_for_agent(user=request.user, customer_id=customer_id)
        require_perm(request, "tickets.change_customer", "editing customers")
        identity = ContactIdentity.objects.filter(pk=identity_id, customer=detail.customer).first()
        if identity is None:
            raise Http404(f"Customer {customer_id} has no address {identity_id}.")
        with domain_statuses(CONFLICTS):
            customer_identity_remove(identity=identity, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MergeInput(serializers.Serializer):
    other = serializers.IntegerField(
        help_text="The customer merged into this one: its addresses and tickets move here."
    )


class CustomerMergeApi(ApiView):
    required_scopes = {"POST": "customers:write"}

    @extend_schema(
        summary="Merge another customer into this one",
        description="The `other` customer's addresses and tickets move to this one, which "
        "is the answer; the other keeps `merged_into` pointing here. `merge_self` (400) "
        "for the same customer, `merge_merged` (409) when either was already merged.",
        request=MergeInput,
        responses={200: CustomerDetailOutput, 409: ErrorOutput},
        examples=[
            OpenApiExample("Merge customer 23 into this one", value={"other": 23}),
            OpenApiExample(
                "The surviving customer",
                value={**CUSTOMER_EXAMPLE, "open_tickets": [1042, 1077]},
                response_only=True,
            ),
        ],
    )
    def post(self, request: Request, customer_id: int) -> Response:
        target = customer_get_for_agent(user=request.user, customer_id=customer_id).customer
        require_perm(request, "tickets.change_customer", "merging customers")
        params = MergeInput(data=request.data)
        params.is_valid(raise_exception=True)
        source = _visible_or_field_error(request, params.validated_data["other"])
        with domain_statuses(CONFLICTS):
            customer_merge(source=source, target=target, actor=request.user)
        return Response(
            detail_body(customer_get_for_agent(user=request.user, customer_id=customer_id))
        )


def _visible_or_field_error(request: Request, customer_id: int) -> Customer:
    try:
        return customer_get_for_agent(user=request.user, customer_id=customer_id).customer
    except Http404 as exc:
        raise serializers.ValidationError(
            {"other": [f"There is no customer {customer_id}."]}
        ) from exc


class CustomerExportApi(ApiView):
    required_scopes = {"GET": "customers:read"}

    @extend_schema(
        summary="Export a customer's personal data (ZIP)",
        description="`customer.json` (the record, its addresses, tickets and messages, "
        "internal notes included) and every file they sent or received. The export is in "
        "the audit log.",
        responses={
            (200, "application/zip"): OpenApiResponse(
                OpenApiTypes.BINARY, description="the archive"
            )
        },
    )
    def get(self, request: Request, customer_id: int) -> FileResponse:
        customer = customer_get_for_agent(user=request.user, customer_id=customer_id).customer
        out = tempfile.SpooledTemporaryFile(max_size=_IN_MEMORY)  # noqa: SIM115 (the response closes it)
        customer_export_archive(customer=customer, out=out, actor=request.user)
        out.seek(0)
        return FileResponse(
            out,
            as_attachment=True,
            filename=f"customer-{customer.pk}-export.zip",
            content_type="application/zip",
        )


_ERASED_EXAMPLE = {
    "customer_id": 17,
    "customers": 1,
    "identities": 2,
    "tickets": 3,
    "messages": 11,
    "attachments": 1,
}


class ErasureOutput(serializers.Serializer):
    customer_id = serializers.IntegerField()
    customers = serializers.IntegerField(help_text="records erased: this one and those merged in")
    identities = serializers.IntegerField()
    tickets = serializers.IntegerField()
    messages = serializers.IntegerField()
    attachments = serializers.IntegerField()


class CustomerEraseApi(ApiView):
    required_scopes = {"POST": "customers:write"}

    @extend_schema(
        summary="Erase a customer's personal data",
        description="Irreversible: name, addresses, message texts, files and ticket subjects "
        "go; the record and its tickets stay as “Erased customer #id” so reports still count "
        f"them. The owner needs `{ERASE_PERMISSION}` (admins): else 403 `permission_denied`. "
        "`already_erased` and `merge_merged` (erase the record it was merged into) are 409.",
        request=None,
        responses={200: ErasureOutput, 409: ErrorOutput},
        examples=[
            OpenApiExample(
                "What was erased",
                value=_ERASED_EXAMPLE,
                response_only=True,
            )
        ],
    )
    def post(self, request: Request, customer_id: int) -> Response:
        customer = customer_get_for_agent(user=request.user, customer_id=customer_id).customer
        statuses = {
            **CONFLICTS,
            TicketErrorCode.NOT_FOUND: status.HTTP_404_NOT_FOUND,
            TicketErrorCode.NOT_ALLOWED: status.HTTP_403_FORBIDDEN,
        }
        with domain_statuses(statuses):
            summary = customer_erase(customer, actor=request.user)
        return Response(summary.as_dict())
