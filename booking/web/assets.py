"""The stylesheet, the script and the favicon, light on a slow phone.

Pages name the stylesheet and the script with a hash of their content in the file name
(``/assets/style.3f2a9c1b.css``), so a phone keeps them for a year and fetches them again only
when they change. A page kept from before a change asks for the old name and is sent the
current file (briefly cached), not a broken page.

Every page and file a patient loads is compressed (brotli, else gzip). The staff pages are
not: they hold health data and reflect what staff type into a search, the shape a
compression side channel (BREACH) needs; they are used on the clinic's own network and
screens, where size matters little.
"""

from __future__ import annotations

import hashlib
import mimetypes
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, request, url_for
from flask_compress import Compress

bp = Blueprint("assets", __name__)
compress = Compress()

A_YEAR = 365 * 24 * 3600
A_DAY = 24 * 3600


def _folder() -> Path:
    return Path(current_app.static_folder or "static")


def content_hash(filename: str) -> str:
    """The first 10 hex digits of the file's SHA-256: read once per process, or on every
    call while debugging, when the files change under a running server."""
    cache: dict[str, str] = current_app.extensions.setdefault("asset_hashes", {})
    if filename not in cache or current_app.debug:
        data = (_folder() / filename).read_bytes()
        cache[filename] = hashlib.sha256(data).hexdigest()[:10]
    return cache[filename]


def asset_url(filename: str) -> str:
    """``style.css`` as the page names it: ``/assets/style.<hash>.css``."""
    stem, _, extension = filename.rpartition(".")
    return url_for("assets.asset", name=f"{stem}.{content_hash(filename)}.{extension}")


@bp.get("/assets/<name>")
def asset(name: str):
    """The file behind a hashed name; read whole (the files are small) so that it can be
    compressed like a page."""
    stem, _, rest = name.partition(".")
    digest, _, extension = rest.rpartition(".")
    filename = f"{stem}.{extension}"
    path = _folder() / filename
    if not extension or "/" in filename or not path.is_file():
        return "Not found", 404
    response = _whole_file(path)
    if digest == content_hash(filename):
        response.headers["Cache-Control"] = f"public, max-age={A_YEAR}, immutable"
    else:  # a page from before the file changed
        response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/favicon.ico")
def favicon():
    response = _whole_file(_folder() / "favicon.ico")
    response.headers["Cache-Control"] = f"public, max-age={A_DAY}"
    return response


def _whole_file(path: Path) -> Response:
    return current_app.response_class(
        path.read_bytes(), mimetype=mimetypes.guess_type(path.name)[0]
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["asset_url"] = asset_url
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_REGISTER", False)  # only where compress_for_patients says
    app.config.setdefault("COMPRESS_STREAMS", False)
    compress.init_app(app)
    app.after_request(compress_for_patients)


def compress_for_patients(response: Response) -> Response:
    if request.blueprint == "staff":
        return response
    return compress.after_request(response)
