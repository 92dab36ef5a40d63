"""The waitlist's pages: joining it when no time suits, and the link in an offer email, which
gives this browser the offer's hold and continues to the details like any booking."""

from __future__ import annotations

import functools

from flask import (
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from ..appointments.waitlist import (
    OFFER_KEY,
    confirm,
    could_ever_suit,
    find_entry,
    find_offer,
    join,
    remove,
)
from ..core.audit import Actor
from ..core.models import WaitlistEntry
from ..core.timeutil import now_utc
from ..extensions import csrf, db, limiter
from ..intake import choices
from ..privacy.notice import NOTICE_VERSION
from ..web.booking_flow import HOLD_KEY, ZONE_KEY
from ..web.booking_form import ConfirmForm, WaitlistForm
from ..web.fields import chosen_timezone
from . import bp
from .manage import manage_rate_limit
from .routes import _made, booking_rate_limit, over_the_limit


def _page(form, status=200, notice=None):
    page = render_template("public/waitlist.html", form=form, choices=choices, notice=notice)
    return page, status


def _too_many(limit):
    """Over the limit: the form again with every answer kept, and when to try again."""
    notice, headers = over_the_limit(limit, "requests", "Join the waitlist")
    body, _ = _page(WaitlistForm(), notice=notice)
    return Response(body, status=429, headers=headers)


@bp.route("/waitlist", methods=["GET", "POST"])
@csrf.exempt  # the form checks its own token, so an expired one can keep the answers
@limiter.shared_limit(
    booking_rate_limit, scope="booking", deduct_when=_made, methods=["POST"], on_breach=_too_many
)
def waitlist():
    if request.method == "GET":
        tz_name = chosen_timezone(request.args.get("tz"), current_app.config["CLINIC_TIMEZONE"])
        return _page(WaitlistForm(formdata=None, timezone=tz_name))
    form = WaitlistForm()
    if not form.validate_on_submit():
        return _page(form, 422)
    order = {value: index for index, (value, _) in enumerate(choices.WEEKDAYS)}
    entry = WaitlistEntry(
        name=form.name.data,
        email=form.email.data,
        phone=form.phone.data,
        preferred_channel=form.preferred_channel.data,
        language=form.language.data,
        timezone=form.timezone.data,
        weekdays=",".join(sorted(set(form.weekdays.data), key=order.__getitem__)),
        day_parts=",".join(p for p, _ in choices.DAY_PARTS if p in form.day_parts.data),
        consent_version=NOTICE_VERSION,
    )
    if not could_ever_suit(db.session, entry, now_utc()):
        form.day_parts.errors = [
            "The clinic has no consult times on these days at these times of day in the "
            "coming weeks. Please tick more days or times of day."
        ]
        return _page(form, 422)
    # The same page whether or not the email or phone was on the list already: it must not
    # tell a stranger who is.
    if join(db.session, entry, now_utc()):
        current_app.logger.info("waitlist entry %s added, to be confirmed", entry.id)
    db.session.commit()
    return redirect(url_for(".waitlist_joined"), code=303)


@bp.get("/waitlist/joined")
def waitlist_joined():
    return render_template("public/waitlist_joined.html")


@bp.get("/waitlist/offer/<token>")
@limiter.limit(manage_rate_limit)
def waitlist_offer(token):
    offer = find_offer(db.session, token, now_utc())
    if offer is None:
        return (
            render_template(
                "public/manage_gone.html",
                title="This offer has ended",
                message="The time was kept for you for a while and has passed to the next "
                "person, or has been booked. We will email you the next time that suits.",
            ),
            404,
        )
    # This browser now holds the offered time, as if it had chosen it.
    session[HOLD_KEY] = token
    session[ZONE_KEY] = offer.entry.timezone
    session[OFFER_KEY] = offer.id
    return redirect(url_for(".details"))


def _with_open_entry(view):
    """The entry behind a link from one of its messages, or a page saying the link no longer
    works (the person left, booked, or never confirmed)."""

    @functools.wraps(view)
    def with_entry(token):
        entry = find_entry(db.session, token)
        if entry is None:
            gone = render_template(
                "public/manage_gone.html",
                title="This link does not work",
                message="You may have left the waitlist, or booked, or not confirmed in time. "
                "To join it again, use the form on the booking page.",
            )
            return gone, 404
        return view(token, entry)

    return with_entry


@bp.get("/waitlist/entry/<token>")
@limiter.limit(manage_rate_limit)
@_with_open_entry
def waitlist_entry(token, entry):
    """From any waitlist message: what the person told us, to keep (confirm) or to leave."""
    return render_template(
        "public/waitlist_entry.html", entry=entry, token=token, choices=choices, form=ConfirmForm()
    )


@bp.post("/waitlist/entry/<token>/confirm")
@limiter.limit(manage_rate_limit)
@_with_open_entry
def waitlist_entry_confirm(token, entry):
    if ConfirmForm().validate_on_submit():
        confirm(db.session, entry, now_utc())
        db.session.commit()
        flash("You are on the waitlist. We will email you when a time that suits comes free.")
    return redirect(url_for(".waitlist_entry", token=token))


@bp.post("/waitlist/entry/<token>/leave")
@limiter.limit(manage_rate_limit)
@_with_open_entry
def waitlist_entry_leave(token, entry):
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for(".waitlist_entry", token=token))
    remove(db.session, entry, now_utc(), Actor.patient(request.remote_addr))
    db.session.commit()
    return render_template("public/waitlist_left.html")
