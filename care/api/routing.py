"""Routing of API classes, for care's API and the notifications app's."""

from django.contrib.auth.decorators import login_not_required


def api(view_class):
    """A URL's view of an API class: DRF answers unauthenticated calls itself (a JSON 403),
    never with the sign-in page's redirect."""
    return login_not_required(view_class.as_view())
