from django.urls import path

from knowledge_base.api import KbSearchApi

app_name = "kb-api"

urlpatterns = [path("search/", KbSearchApi.as_view(), name="search")]
