"""The shape of ``booking/``: no import circle, and no arrow from the clinic's domain packages
into the web front doors.

The domain (``core``, ``scheduling``, ``appointments``, ``intake``, ``messages``, ``privacy``,
``staff_accounts``, and the worker) is what the pages, the command line, the worker and later
the API share; it must work without a request. ``web`` holds the form pieces and the booking
steps both front doors use; ``public`` and ``staff`` are the two front doors. The imports are
read from the source, so a new module is checked without being listed here.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "booking"
WEB = ("booking.web", "booking.public", "booking.staff")
# Wiring, not domain: the app factory registers the blueprints, and the command line is a
# front door of its own.
WIRING = {"booking", "booking.cli"}


def module_name(path: Path) -> str:
    parts = ["booking", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in PACKAGE.rglob("*.py")}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The modules of ``booking`` this one imports (a name imported from a package counts as
    its submodule when there is one)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                found.add(submodule if submodule in known else target)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {target for target in found if target in known and target != name}


def graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    edges = {name: imports_of(name, path, known) for name, path in found.items()}
    # A blueprint package imports its page modules to register them, and they import its
    # ``bp``: Flask's usual pattern, not a circle of logic.
    for name, path in found.items():
        if path.name == "__init__.py":
            edges[name] = {target for target in edges[name] if not target.startswith(name + ".")}
    return edges


def in_web(name: str) -> bool:
    return any(name == web or name.startswith(web + ".") for web in WEB)


def test_no_domain_module_imports_a_front_door():
    arrows = [
        f"{name} -> {target}"
        for name, targets in graph().items()
        if not in_web(name) and name not in WIRING
        for target in targets
        if in_web(target)
    ]
    assert arrows == []


def test_the_shared_web_pieces_never_reach_into_a_front_door():
    """``web`` serves both front doors (and later the API), so it imports neither."""
    arrows = [
        f"{name} -> {target}"
        for name, targets in graph().items()
        if name.startswith("booking.web")
        for target in targets
        if target.startswith(("booking.public", "booking.staff"))
    ]
    assert arrows == []


def test_no_import_circle():
    edges = graph()
    circles = []
    state: dict[str, str] = {}

    def visit(name: str, path: list[str]) -> None:
        state[name] = "open"
        for target in sorted(edges[name]):
            if state.get(target) == "open":
                circles.append(" -> ".join([*path[path.index(target) :], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[name] = "done"

    for name in sorted(edges):
        if name not in state:
            visit(name, [name])
    assert circles == []


def test_the_checks_see_an_arrow_and_a_circle():
    """The two checks above would fail on what they look for (a check that reads nothing
    passes everything)."""
    edges = graph()
    assert "booking.core.models" in edges["booking.appointments.bookings"]
    assert "booking.web.booking_form" in edges["booking.public.routes"]
    assert in_web("booking.staff.home") and not in_web("booking.intake.choices")
