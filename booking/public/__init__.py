from flask import Blueprint

bp = Blueprint("public", __name__)

from . import (  # noqa: E402,F401
    manage,
    provider_webhooks,
    questionnaire,
    routes,
    waitlist,
    your_data,
)
