"""Agent-facing KB search for the reply box: JSON, agents only (the API's default)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from helpdesk.lib.urls import absolute_url
from knowledge_base.models import SearchSource
from knowledge_base.selectors import kb_search
from knowledge_base.services import search_log_record


class ArticleHitOutput(serializers.Serializer):
    title = serializers.CharField()
    url = serializers.CharField(help_text="Absolute link to paste into a reply.")
    category = serializers.CharField()
    excerpt = serializers.CharField()
    snippet = serializers.CharField(help_text="HTML: escaped text with <mark> highlights.")


class KbSearchApi(APIView):
    required_scopes = {"GET": "kb:read"}

    class InputSerializer(serializers.Serializer):
        q = serializers.CharField(max_length=200)
        limit = serializers.IntegerField(min_value=1, max_value=20, default=8)

    @extend_schema(parameters=[InputSerializer], responses=ArticleHitOutput(many=True))
    def get(self, request: Request) -> Response:
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        query = params.validated_data["q"]
        hits = kb_search(query=query, limit=params.validated_data["limit"])
        search_log_record(query=query, result_count=len(hits), source=SearchSource.AGENT)
        results = [
            {
                "title": hit.title,
                "url": absolute_url(hit.url),
                "category": hit.category_name,
                "excerpt": hit.excerpt,
                "snippet": str(hit.snippet),
            }
            for hit in hits
        ]
        return Response({"results": ArticleHitOutput(results, many=True).data})
