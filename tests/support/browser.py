"""A real browser for the web tests: Playwright driving Debian's Chromium.

Never a browser downloaded by Playwright (the machines have no internet but the package
registries): the executable is ``chromium`` on PATH (``apt-get install chromium``, which
``scripts/install.sh`` does as root), or the one named by ``SMSCOPE_TEST_CHROMIUM``.
Without it the browser tests are skipped with that reason. As root Chromium needs
``--no-sandbox``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest


def chromium_path() -> str | None:
    named = os.environ.get("SMSCOPE_TEST_CHROMIUM")
    if named:
        return named
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per test module (each test opens its own context): Playwright's
    synchronous API runs an event loop of its own, kept apart from the other modules'
    ``asyncio.run``."""
    path = chromium_path()
    if path is None:
        pytest.skip("no Chromium for the browser tests: apt-get install chromium "
                    "(or set SMSCOPE_TEST_CHROMIUM)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - installed by scripts/install.sh
        pytest.skip("playwright is not installed: make install")
    args = ["--no-sandbox"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=path, args=args)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def browser_page(browser: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies) and its page."""
    context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris")
    try:
        yield context.new_page()
    finally:
        context.close()
