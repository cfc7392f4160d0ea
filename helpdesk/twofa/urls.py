from django.urls import path

from helpdesk.twofa import views

app_name = "twofa"

urlpatterns = [
    path("verify/", views.verify, name="verify"),
    path("setup/", views.setup, name="setup"),
    path("codes/", views.codes, name="codes"),
    path("", views.manage, name="manage"),
]
