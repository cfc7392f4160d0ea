from django.urls import path

from tickets.portal import start, views

app_name = "portal"

urlpatterns = [
    path("", start.start, name="start"),
    path("support/new/", views.support_new, name="support-new"),
    path("support/thanks/", views.support_thanks, name="support-thanks"),
    path("support/suggest/", views.support_suggest, name="support-suggest"),
    path("portal/", views.portal_home, name="home"),
    path("portal/login/<str:token>/", views.portal_login, name="login"),
    path("portal/logout/", views.portal_logout, name="logout"),
    path("portal/tickets/", views.portal_tickets, name="tickets"),
    path("portal/tickets/<int:number>/", views.portal_ticket, name="ticket"),
    path("portal/tickets/<int:number>/status/", views.portal_ticket_status, name="ticket-status"),
    path("portal/attachments/<int:attachment_id>/", views.portal_attachment, name="attachment"),
    path("portal/rate/<str:token>/", views.portal_rate, name="rate"),
]
