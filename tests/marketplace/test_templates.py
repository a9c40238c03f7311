"""Rules every template keeps, checked on the source: htmx 4 idioms only, forms that work
without JavaScript, design-system classes that exist, nothing inline for the CSP to block."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from marketplace.app import HTMX_DIR
from marketplace.settings import PROJECT_ROOT
from tests.helpers import design_system_classes

TEMPLATES = PROJECT_ROOT / "templates"
ALL_TEMPLATES = sorted(TEMPLATES.rglob("*.html"))


def test_no_htmx_2_idioms() -> None:
    checker = HTMX_DIR / "scripts" / "upgrade-check.py"
    result = subprocess.run(
        [sys.executable, str(checker), "--no-color", str(TEMPLATES)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("template", ALL_TEMPLATES, ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_template_rules(template: Path) -> None:
    source = template.read_text()
    for form in re.findall(r"<form\b[^>]*>", source):
        assert "action=" in form and "method=" in form, f"form without action or method: {form}"
    assert not re.search(r"<script(?![^>]*\bsrc=)", source), "inline script"
    assert not re.search(r"\sstyle=", source), "inline style"
    assert not re.search(r"\shx-on[:-]", source), "hx-on needs eval, which the CSP forbids"
    # A class built from a variable (ds_input--{{ width }}) is checked on rendered pages.
    classes = {c for c in re.findall(r"\b(ds_[a-zA-Z0-9_-]+)", source) if not c.endswith("-")}
    assert classes <= design_system_classes(), classes - design_system_classes()
