"""The agent's available / away toggle for automatic assignment (tickets.automation)."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from tickets.automation.assignment import agent_availability_get, agent_availability_set
from tickets.workspace.views import agent_required


@agent_required
@require_http_methods(["GET", "POST"])
def availability(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        available = request.POST.get("available") == "1"
        agent_availability_set(user=request.user, available=available)
        messages.success(
            request,
            "You are available: tickets waiting for your teams come to you."
            if available
            else "You are away: automatic assignment skips you until you come back.",
        )
        return redirect("tickets:availability")
    prefs = agent_availability_get(user=request.user)
    return render(request, "agent/availability.html", {"prefs": prefs})
