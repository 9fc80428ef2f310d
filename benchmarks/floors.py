"""Floors: the least a signed-in page, API read and API write can cost on this stack."""

import uuid

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from notifications.models import Heartbeat


def floor_page(request: HttpRequest) -> HttpResponse:
    """A signed-in page in the site's layout with no data of its own."""
    return render(request, "benchmarks/floor.html")


class FloorApi(APIView):
    """GET: a trivial authenticated JSON answer. POST: insert one row."""

    def get(self, request: Request) -> Response:
        return Response({"ok": True})

    def post(self, request: Request) -> Response:
        beat = Heartbeat.objects.create(name=f"bench-{uuid.uuid4().hex}", beat_at=timezone.now())
        return Response({"id": beat.pk}, status=201)
