"""REST API v1 (docs/api.md): one module per resource; tickets.api_urls maps them."""

from tickets.api.attachments import AttachmentDownloadApi
from tickets.api.customer_actions import (
    CustomerEraseApi,
    CustomerExportApi,
    CustomerIdentityDetailApi,
    CustomerIdentityListApi,
    CustomerMergeApi,
)
from tickets.api.customers import CustomerDetailApi, CustomerListApi
from tickets.api.directory import TeamDetailApi, TeamListApi, UserDetailApi, UserListApi
from tickets.api.kb import (
    ArticleDetailApi,
    ArticleListApi,
    ArticlePublishApi,
    ArticleUnpublishApi,
    CategoryDetailApi,
    CategoryListApi,
    KbSearchApi,
)
from tickets.api.macros import MacroApplyApi, MacroListApi
from tickets.api.messages import InboundMessageApi
from tickets.api.organizations import OrganizationDetailApi, OrganizationListApi
from tickets.api.tickets import TicketDetailApi, TicketListApi, TicketReplyApi
from tickets.api.timeline import TicketTimelineApi

__all__ = [
    "ArticleDetailApi",
    "ArticleListApi",
    "ArticlePublishApi",
    "ArticleUnpublishApi",
    "AttachmentDownloadApi",
    "CategoryDetailApi",
    "CategoryListApi",
    "CustomerDetailApi",
    "CustomerEraseApi",
    "CustomerExportApi",
    "CustomerIdentityDetailApi",
    "CustomerIdentityListApi",
    "CustomerListApi",
    "CustomerMergeApi",
    "InboundMessageApi",
    "KbSearchApi",
    "MacroApplyApi",
    "MacroListApi",
    "OrganizationDetailApi",
    "OrganizationListApi",
    "TeamDetailApi",
    "TeamListApi",
    "TicketDetailApi",
    "TicketListApi",
    "TicketReplyApi",
    "TicketTimelineApi",
    "UserDetailApi",
    "UserListApi",
]
