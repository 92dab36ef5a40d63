"""The webhooks WhatsApp and Twilio call: delivery statuses and replies.

They are open to the internet, so nothing is believed before its signature checks out
(``X-Hub-Signature-256`` over the raw body with the app secret; ``X-Twilio-Signature`` over
the URL and parameters with the auth token): a bad or missing signature is refused with 403
and changes nothing. A message id we do not know yet is answered 404, so the provider delivers
it again; everything else is 200, also when an event was already handled.
"""

from __future__ import annotations

import hmac

from flask import Response, abort, current_app, request

from ..core.timeutil import now_utc
from ..extensions import csrf, db
from ..messages.provider_events import record_sms_status, record_whatsapp
from ..messages.texts import twilio_signature_ok, whatsapp_signature_ok
from . import bp


@bp.get("/webhooks/whatsapp")
def whatsapp_verify():
    """Meta's check when the webhook is registered: echo ``hub.challenge`` for our token."""
    token = current_app.config.get("WHATSAPP_VERIFY_TOKEN") or ""
    given = request.args.get("hub.verify_token", "")
    if (
        request.args.get("hub.mode") != "subscribe"
        or not token
        or not hmac.compare_digest(token, given)
    ):
        abort(403)
    return Response(request.args.get("hub.challenge", ""), mimetype="text/plain")


@bp.post("/webhooks/whatsapp")
@csrf.exempt  # signed by WhatsApp instead
def whatsapp_events():
    raw = request.get_data(cache=True)
    if not whatsapp_signature_ok(raw, request.headers.get("X-Hub-Signature-256")):
        abort(403)
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        abort(400)
    known = record_whatsapp(db.session, payload, now_utc())
    db.session.commit()
    return Response(status=200 if known else 404)


@bp.post("/webhooks/sms/status")
@csrf.exempt  # signed by Twilio instead
def sms_status():
    params = request.form.to_dict()
    # Twilio signs the URL it was given, which the service built from BASE_URL.
    url = f"{current_app.config['BASE_URL']}/webhooks/sms/status"
    if not twilio_signature_ok(url, params, request.headers.get("X-Twilio-Signature")):
        abort(403)
    known = record_sms_status(db.session, params, now_utc())
    db.session.commit()
    return Response(status=200 if known else 404)
