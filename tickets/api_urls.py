from django.urls import include, path

from tickets import api
from tickets.api import automation

kb_urlpatterns = (
    [
        path("search/", api.KbSearchApi.as_view(), name="search"),
        path("categories/", api.CategoryListApi.as_view(), name="category-list"),
        path(
            "categories/<int:category_id>/",
            api.CategoryDetailApi.as_view(),
            name="category-detail",
        ),
        path("articles/", api.ArticleListApi.as_view(), name="article-list"),
        path("articles/<int:article_id>/", api.ArticleDetailApi.as_view(), name="article-detail"),
        path(
            "articles/<int:article_id>/publish/",
            api.ArticlePublishApi.as_view(),
            name="article-publish",
        ),
        path(
            "articles/<int:article_id>/unpublish/",
            api.ArticleUnpublishApi.as_view(),
            name="article-unpublish",
        ),
    ],
    "kb-api",
)

urlpatterns = [
    path("tickets/", api.TicketListApi.as_view(), name="api-ticket-list"),
    path("tickets/<int:number>/", api.TicketDetailApi.as_view(), name="api-ticket-detail"),
    path("tickets/<int:number>/replies/", api.TicketReplyApi.as_view(), name="api-ticket-reply"),
    path(
        "tickets/<int:number>/timeline/",
        api.TicketTimelineApi.as_view(),
        name="api-ticket-timeline",
    ),
    path(
        "tickets/<int:number>/macros/<int:macro_id>/apply/",
        api.MacroApplyApi.as_view(),
        name="api-macro-apply",
    ),
    path("macros/", api.MacroListApi.as_view(), name="api-macro-list"),
    path("users/", api.UserListApi.as_view(), name="api-user-list"),
    path("users/<int:user_id>/", api.UserDetailApi.as_view(), name="api-user-detail"),
    path("teams/", api.TeamListApi.as_view(), name="api-team-list"),
    path("teams/<int:team_id>/", api.TeamDetailApi.as_view(), name="api-team-detail"),
    path("messages/", api.InboundMessageApi.as_view(), name="api-inbound-message"),
    path("customers/", api.CustomerListApi.as_view(), name="api-customer-list"),
    path(
        "customers/<int:customer_id>/",
        api.CustomerDetailApi.as_view(),
        name="api-customer-detail",
    ),
    path(
        "customers/<int:customer_id>/identities/",
        api.CustomerIdentityListApi.as_view(),
        name="api-customer-identity-list",
    ),
    path(
        "customers/<int:customer_id>/identities/<int:identity_id>/",
        api.CustomerIdentityDetailApi.as_view(),
        name="api-customer-identity-detail",
    ),
    path(
        "customers/<int:customer_id>/merge/",
        api.CustomerMergeApi.as_view(),
        name="api-customer-merge",
    ),
    path(
        "customers/<int:customer_id>/export/",
        api.CustomerExportApi.as_view(),
        name="api-customer-export",
    ),
    path(
        "customers/<int:customer_id>/erase/",
        api.CustomerEraseApi.as_view(),
        name="api-customer-erase",
    ),
    path("organizations/", api.OrganizationListApi.as_view(), name="api-organization-list"),
    path(
        "organizations/<int:organization_id>/",
        api.OrganizationDetailApi.as_view(),
        name="api-organization-detail",
    ),
    path(
        "attachments/<int:attachment_id>/",
        api.AttachmentDownloadApi.as_view(),
        name="api-attachment-download",
    ),
    path("kb/", include(kb_urlpatterns)),
    path("reports/", include("tickets.api.reports")),
    path("webhooks/", include("tickets.integrations.webhooks.urls")),
    path("triggers/", automation.TriggerListApi.as_view(), name="api-trigger-list"),
    path("triggers/reorder/", automation.TriggerReorderApi.as_view(), name="api-trigger-reorder"),
    path(
        "triggers/<int:rule_id>/", automation.TriggerDetailApi.as_view(), name="api-trigger-detail"
    ),
    path("automations/", automation.TimeRuleListApi.as_view(), name="api-automation-list"),
    path(
        "automations/reorder/",
        automation.TimeRuleReorderApi.as_view(),
        name="api-automation-reorder",
    ),
    path(
        "automations/<int:rule_id>/",
        automation.TimeRuleDetailApi.as_view(),
        name="api-automation-detail",
    ),
]
