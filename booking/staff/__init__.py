from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")

# The page modules register their views on bp when imported.
from . import (  # noqa: E402,F401,I001
    access,
    admin,
    appointments,
    auth,
    availability,
    clinical_review,
    contact,
    emails,
    erase,
    home,
    new_booking,
    questions,
    video_link,
    waitlist,
)
