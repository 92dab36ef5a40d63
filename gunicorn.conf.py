"""gunicorn's settings file, read from the working directory when gunicorn starts.

Rate limits kept in memory (``RATELIMIT_STORAGE_URI=memory://``, the default) are counted by
each web worker on its own, so with four workers an address gets four times the limit, and
sign-in attempts spread over the workers escape the lock's rate limit. One worker is fine;
more need a shared store such as Redis. This warns at start-up instead of failing quietly.
"""

import os


def when_ready(server):
    storage = os.environ.get("RATELIMIT_STORAGE_URI") or "memory://"
    if storage.startswith("memory://") and server.cfg.workers > 1:
        server.log.warning(
            "RATELIMIT_STORAGE_URI is memory:// with %s web workers: each worker counts the "
            "rate limits on its own, so every limit is %s times looser. Set "
            "RATELIMIT_STORAGE_URI to a Redis URL shared by the workers.",
            server.cfg.workers,
            server.cfg.workers,
        )
