from django.urls import path

from knowledge_base import views

app_name = "kb"

urlpatterns = [
    path("", views.kb_home, name="home"),
    path("search/", views.kb_search, name="search"),
    path("category/<slug:slug>/", views.kb_category, name="category"),
    path("article/<slug:slug>/", views.kb_article, name="article"),
    path("article/<slug:slug>/vote/", views.kb_vote, name="vote"),
    path("article/<slug:slug>/answered/", views.kb_deflect, name="deflect"),
]
