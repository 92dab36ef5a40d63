from flask import Blueprint

bp = Blueprint("public", __name__)

from . import manage, questionnaire, routes, waitlist, your_data  # noqa: E402,F401
