"""One page shape for every list of the API."""

from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response


class Pagination(PageNumberPagination):
    """`?page=` (from 1) and `?page_size=` (1 to 200, default 50)."""

    page_size_query_param = "page_size"
    max_page_size = 200

    def get_paginated_response(self, data):
        page = self.page
        if page is None:  # paginate_queryset sets it; every caller runs that first
            raise RuntimeError("get_paginated_response() before paginate_queryset()")
        return Response(
            {
                "count": page.paginator.count,
                "page": page.number,
                "pages": page.paginator.num_pages,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        base = super().get_paginated_response_schema(schema)
        base["properties"]["page"] = {"type": "integer", "example": 1}
        base["properties"]["pages"] = {"type": "integer", "example": 1}
        base["required"] = ["count", "page", "pages", "next", "previous", "results"]
        return base
