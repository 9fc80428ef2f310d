"""The application's URLs and the benchmarks' floors under /bench/."""

from django.urls import path

from benchmarks import floors
from tracker.urls import handler400, handler403, handler404, handler500, urlpatterns

urlpatterns = [
    path("bench/page/", floors.floor_page, name="bench-floor-page"),
    path("bench/api/", floors.FloorApi.as_view(), name="bench-floor-api"),
    *urlpatterns,
]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
