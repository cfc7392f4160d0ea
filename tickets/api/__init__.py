"""REST API v1 (docs/api.md): one module per resource; tickets.api_urls maps them."""

from tickets.api.attachments import AttachmentDownloadApi
from tickets.api.customers import CustomerDetailApi, CustomerListApi
from tickets.api.kb import (
    ArticleDetailApi,
    ArticleListApi,
    ArticlePublishApi,
    ArticleUnpublishApi,
    CategoryDetailApi,
    CategoryListApi,
    KbSearchApi,
)
from tickets.api.messages import InboundMessageApi
from tickets.api.tickets import TicketDetailApi, TicketListApi, TicketReplyApi

__all__ = [
    "ArticleDetailApi",
    "ArticleListApi",
    "ArticlePublishApi",
    "ArticleUnpublishApi",
    "AttachmentDownloadApi",
    "CategoryDetailApi",
    "CategoryListApi",
    "CustomerDetailApi",
    "CustomerListApi",
    "InboundMessageApi",
    "KbSearchApi",
    "TicketDetailApi",
    "TicketListApi",
    "TicketReplyApi",
]
