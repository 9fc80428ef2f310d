"""The project's settings with the benchmarks' floors added to the URLs.

Only the URLconf changes: middleware, authentication, sessions, templates, database and
cache are the production ones, so a floor goes through the same stack as the page it is
compared with.
"""

from tracker.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.urls"
