from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")

from . import access, admin, appointments, auth, availability, emails, home, new_booking, questions  # noqa: E402,F401,I001
