"""The error pages leave the visitor a way on."""

from django.test import RequestFactory
from django.views.defaults import server_error


def test_the_server_error_page_links_to_the_start_page():
    response = server_error(RequestFactory().get("/me/checkin/"))

    html = response.content.decode()
    assert response.status_code == 500
    assert '<a href="/">Go to your start page</a>' in html
