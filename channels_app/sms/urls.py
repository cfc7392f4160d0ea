from django.urls import path

from channels_app.sms import views

app_name = "hooks_twilio"

urlpatterns = [
    path("sms/", views.twilio_sms, name="sms"),
    path("status/", views.twilio_status, name="status"),
]
