from flask import Blueprint

bp = Blueprint("public", __name__)

from . import manage, questionnaire, routes, waitlist  # noqa: E402,F401
