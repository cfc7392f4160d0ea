from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from helpdesk.roles import is_agent
from tickets.integrations.models import ApiScope, ApiToken
from tickets.integrations.tokens import api_token_create, api_token_revoke
from tickets.integrations.webhooks import admin as webhooks_admin  # noqa: F401 (registers them)


class ApiTokenAddForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=ApiScope.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = ApiToken
        fields = ["name", "owner", "scopes", "expires_at"]

    def clean_owner(self) -> Any:
        owner = self.cleaned_data["owner"]
        if not is_agent(owner):
            raise forms.ValidationError("A token acts as an agent: pick an agent.")
        return owner


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "owner", "scopes", "expires_at", "revoked_at", "last_used_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "key_id", "owner__username"]
    actions = ["revoke"]
    readonly_fields = [
        "prefix", "owner", "scopes", "created_at", "created_by", "revoked_at", "last_used_at",
        "last_used_ip",
    ]  # fmt: skip
    fields = ["name", *readonly_fields, "expires_at"]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = ApiTokenAddForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ApiTokenAddForm.Meta.fields if obj is None else self.fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        data = form.cleaned_data
        new = api_token_create(
            owner=data["owner"],
            name=data["name"],
            scopes=data["scopes"],
            expires_at=data.get("expires_at"),
            created_by=request.user,
        )
        obj.pk = new.token.pk
        obj.__dict__.update(new.token.__dict__)
        messages.warning(
            request,
            f"The token's secret, shown only now (copy it; it cannot be shown again): {new.secret}",
        )

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset:
            api_token_revoke(token=token)
        self.message_user(request, f"Revoked {len(queryset)} token(s).")
