from django.contrib.auth import views as auth_views
from django.urls import path

from helpdesk.twofa.views import AgentLoginView
from tickets.workspace import availability
from tickets.workspace import chat_views as chats
from tickets.workspace import downloads as file_views
from tickets.workspace import edit_views as edit
from tickets.workspace import search_views as search_views
from tickets.workspace import views as views

app_name = "tickets"

urlpatterns = [
    path(
        "login/",
        AgentLoginView.as_view(),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(next_page="tickets:login"), name="logout"),
    path("", views.queue, name="queue"),
    path("counts/", views.counts, name="counts"),
    path("chats/waiting/", chats.chats_waiting, name="chats-waiting"),
    path("bulk/", views.bulk, name="bulk"),
    path("search/", search_views.search, name="search"),
    path("search/suggest/", search_views.search_suggest, name="search-suggest"),
    path("customers/suggest/", search_views.customer_suggest, name="customer-suggest"),
    path("kb/search/", views.kb_search, name="kb-search"),
    path("macros/", edit.macros, name="macros"),
    path("availability/", availability.availability, name="availability"),
    path("macros/<int:macro_id>/delete/", edit.macro_remove, name="macro-delete"),
    path("tickets/<int:number>/", views.ticket_detail, name="ticket"),
    path("tickets/<int:number>/timeline/", views.ticket_timeline, name="ticket-timeline"),
    path("tickets/<int:number>/header/", views.ticket_header, name="ticket-header"),
    path("tickets/<int:number>/reply/", views.ticket_reply, name="ticket-reply"),
    path("tickets/<int:number>/update/", edit.ticket_update, name="ticket-update"),
    path("tickets/<int:number>/merge/", edit.ticket_merge, name="ticket-merge"),
    path(
        "tickets/<int:number>/macros/<int:macro_id>/",
        views.macro_preview,
        name="macro-preview",
    ),
    path("customers/<int:customer_id>/edit/", edit.customer_edit, name="customer-edit"),
    path(
        "customers/<int:customer_id>/identities/",
        edit.customer_identity_add,
        name="customer-identity-add",
    ),
    path("customers/<int:customer_id>/merge/", edit.customer_merge, name="customer-merge"),
    path(
        "customers/<int:customer_id>/portal-sign-out/",
        edit.customer_portal_sign_out,
        name="customer-portal-sign-out",
    ),
    path(
        "attachments/<int:attachment_id>/",
        views.agent_required(file_views.agent_attachment_download),
        name="attachment-download",
    ),
]
