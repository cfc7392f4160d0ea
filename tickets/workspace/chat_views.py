"""The waiting-chats counter as a fragment: what chat_alerts.js polls and refetches."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from tickets.workspace.views import agent_required


@agent_required
@require_GET
def chats_waiting(request: HttpRequest) -> HttpResponse:
    return render(request, "agent/_waiting_chats.html")
