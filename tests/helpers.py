"""Small helpers shared by several test files."""

from __future__ import annotations

from html.parser import HTMLParser

# Every tag the email templates write; anything else in an HTML part came from somewhere else.
EMAIL_TAGS = {
    "html",
    "body",
    "p",
    "div",
    "h2",
    "ul",
    "li",
    "strong",
    "table",
    "tr",
    "th",
    "td",
    "a",
    "br",
}


class ParsedHtml(HTMLParser):
    """The tags and attributes an HTML document really has, and the text a reader sees."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    @property
    def seen(self) -> str:
        return "".join(self.text)


def assert_only_app_markup(html: str, base_url: str, label: str = "") -> ParsedHtml:
    """The HTML has only the templates' own tags, no event handlers, and links only to the app,
    a phone number or an email address: nothing a patient typed became markup."""
    parsed = ParsedHtml(html)
    for tag, attributes in parsed.tags:
        assert tag in EMAIL_TAGS, (label, tag)
        assert not any(name.startswith("on") for name in attributes), (label, tag)
        href = attributes.get("href")
        if href is not None:
            assert href.startswith((base_url, "tel:", "mailto:")), (label, href)
    return parsed
