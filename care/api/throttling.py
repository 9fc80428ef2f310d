"""Rate limits of the API: per user, per anonymous address, and for issuing tokens.

Counts live in the cache (Redis in production, shared by all web processes). If the cache
is unreachable the request is let through and a warning logged: a rate limit must not turn
an outage of Redis into an outage of check-ins.
"""

import logging

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle

logger = logging.getLogger(__name__)


class _FailOpen(SimpleRateThrottle):
    def get_rate(self):
        # Read at call time (DRF reads it once at import), so settings changes take effect.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope) if self.scope else None

    def allow_request(self, request, view):
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        try:
            return super().allow_request(request, view)
        except Exception as exc:  # the cache is down: count nothing, serve the request
            logger.warning("API rate limit not applied: cache unavailable (%s)", type(exc).__name__)
            return True


class AnonThrottle(_FailOpen, AnonRateThrottle):
    """Unauthenticated calls, per client address."""


class UserThrottle(_FailOpen, UserRateThrottle):
    """Authenticated calls, per user (all their tokens and sessions together)."""


class TokenIssueThrottle(_FailOpen, SimpleRateThrottle):
    """Attempts to obtain a token (password checks), per client address."""

    scope = "token_issue"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
