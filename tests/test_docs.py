"""The README and docs/ name files that exist: a module moved or renamed without its page
fails here instead of sending a newcomer to a file that is not there."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# Folders the runs make (ignored by git): named by the docs, absent from a fresh clone.
MADE_BY_RUNS = {
    line.strip() for line in (ROOT / ".gitignore").read_text().splitlines() if line.strip()
}
NAMED = re.compile(r"`((?:booking|tests|bench|templates|migrations|deploy)/[\w./-]+)`")


def test_every_file_the_docs_name_exists():
    named = [(page.name, name) for page in PAGES for name in NAMED.findall(page.read_text())]
    assert len(named) > 20  # the pattern finds what the pages name
    missing = [
        f"{page}: {name}" for page, name in named if "*" not in name and name not in MADE_BY_RUNS
    ]
    missing = [entry for entry in missing if not (ROOT / entry.split(": ", 1)[1]).exists()]
    assert missing == []


def test_every_docs_page_is_linked_from_the_readme():
    readme = (ROOT / "README.md").read_text()
    unlinked = [page.name for page in PAGES[1:] if f"docs/{page.name}" not in readme]
    assert unlinked == []


def test_the_readme_stays_short():
    assert len((ROOT / "README.md").read_text().splitlines()) < 250


def test_the_readme_lists_each_text_as_it_must_be_registered():
    """WhatsApp templates and India's DLT templates must match the text sent word for word:
    the README's table is what the clinic registers, so it is the code's list."""
    from booking.messages.channels import TEXTS

    readme = (ROOT / "README.md").read_text()
    for kind, text in TEXTS.items():
        row = f"| {kind} | `consult_{text.template}` | {text.words} |"
        assert row in readme, row


def test_the_readme_names_each_fixed_item_a_clinician_signs():
    from booking.intake.clinical_review import FIXED

    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Needs clinician sign-off", 1)[1].split("\n## ", 1)[0]
    for item in FIXED:
        first_words = " ".join(item.title.split(":")[0].split()[:4])
        assert first_words in section, first_words
