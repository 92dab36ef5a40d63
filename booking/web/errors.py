"""Friendly error pages: a patient never sees a stack trace or a bare status line."""

from flask import Flask, abort, g, render_template, request
from flask_wtf.csrf import CSRFError

MESSAGES = {
    400: ("Something went wrong with that request", "Please go back and try again."),
    403: ("Not allowed", "You do not have access to this page."),
    404: (
        "Page not found",
        "The link may be mistyped or no longer valid.",
    ),
    405: ("Not allowed", "That action is not available here."),
    415: (
        "We could not read that form",
        "Please use the form on the page. If this keeps happening, call the clinic.",
    ),
    413: (
        "Too much text",
        "What you sent was larger than we accept. Please shorten your answers and try again.",
    ),
    429: (
        "Too many attempts",
        "Please wait a little while before trying again. If you need help now, call the clinic.",
    ),
    500: (
        "Sorry, something went wrong on our side",
        "Please try again in a minute, or call the clinic.",
    ),
}


def render_error(code: int):
    """The page for ``code``; a 500 shows the request's id, for a patient to quote on the
    phone and the operator to find in the logs."""
    title, message = MESSAGES.get(code, MESSAGES[500])
    request_id = g.get("request_id") if code >= 500 else None
    return (
        render_template("errors/error.html", title=title, message=message, request_id=request_id),
        code,
    )


FORM_ENCODED = "application/x-www-form-urlencoded"
WHATSAPP_WEBHOOK = "/webhooks/whatsapp"


def refuse_what_no_page_sends():
    """Every form here posts URL-encoded fields. A JSON body would otherwise reach the forms
    as data (Flask-WTF reads JSON too) and a file upload as a file object, where the checks
    expect text: refuse both before any view runs. A NUL in the query string is refused too:
    no link of ours has one, and PostgreSQL refuses it in any query it reaches. WhatsApp's
    webhook is the one endpoint that takes JSON: it is signed, and read as JSON only."""
    json_allowed = request.path == WHATSAPP_WEBHOOK and request.mimetype == "application/json"
    if (
        request.method == "POST"
        and not json_allowed
        and (request.mimetype != FORM_ENCODED or request.files)
    ):
        abort(415)
    if any("\x00" in key + value for key, value in request.args.items(multi=True)):
        abort(400)


def register(app: Flask) -> None:
    app.before_request(refuse_what_no_page_sends)
    for code in MESSAGES:
        app.register_error_handler(code, lambda error, code=code: render_error(code))

    @app.errorhandler(429)
    def too_many(error):
        # A limit with its own page (the booking form, shown again with the answers) wins.
        if getattr(error, "response", None) is not None:
            return error.response
        return render_error(429)

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(400)
