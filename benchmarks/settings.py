"""The project's settings plus the floor endpoints the benchmarks compare against.

Only the URLconf and a template folder are added: middleware, authentication, sessions,
templates, database and cache are the production ones, so a floor goes through the same
stack as the page it is compared with.
"""

from tracker.settings import *  # noqa: F403
from tracker.settings import BASE_DIR, TEMPLATES

ROOT_URLCONF = "benchmarks.urls"
TEMPLATES[0]["DIRS"] = [*TEMPLATES[0]["DIRS"], BASE_DIR / "benchmarks" / "templates"]
