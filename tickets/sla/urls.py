from django.urls import path

from tickets.sla import views

app_name = "sla"

urlpatterns = [
    path("reports/sla/", views.sla_report_view, name="report"),
]
