from django.urls import include, path

from tickets import api

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
    path("messages/", api.InboundMessageApi.as_view(), name="api-inbound-message"),
    path("customers/", api.CustomerListApi.as_view(), name="api-customer-list"),
    path(
        "customers/<int:customer_id>/",
        api.CustomerDetailApi.as_view(),
        name="api-customer-detail",
    ),
    path(
        "attachments/<int:attachment_id>/",
        api.AttachmentDownloadApi.as_view(),
        name="api-attachment-download",
    ),
    path("kb/", include(kb_urlpatterns)),
    path("reports/", include("tickets.api.reports")),
    path("webhooks/", include("tickets.integrations.webhooks.urls")),
]
