"""The privacy notice's version, and what the notice says about keeping data.

Every consent stores the version of the notice it was given against, so the clinic can show
what a patient agreed to. Change ``NOTICE_VERSION`` whenever ``templates/public/privacy.html``
changes what it promises; earlier consents keep the version they were given under.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app

NOTICE_VERSION = "2026-12-04"


def video_service() -> str:
    """The video service's address as the notice names it (meet.jit.si unless configured)."""
    return urlsplit(current_app.config["VIDEO_BASE_URL"]).netloc or "the clinic's video service"


def grievance_contact() -> str:
    """Whom a patient writes to with a complaint about their data (the clinic's grievance
    officer, as India's DPDP Act asks); the clinic's own contacts until one is set."""
    config = current_app.config
    return config["GRIEVANCE_CONTACT"] or (
        f"{config['CLINIC_NAME']}, {config['CLINIC_EMAIL']}, {config['CLINIC_PHONE']}"
    )
