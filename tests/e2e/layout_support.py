"""What the page-by-page browser suite checks on every storefront page it reaches: nothing
scrolls sideways (at 1280, 390 and 320 px, and just above each breakpoint of base.html's
styles, as narrow procurement frames are), axe-core finds no accessibility violation (at 1280
and 390 px), and a screenshot at both widths lands in build/screenshots/ for a reviewer."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

ROOT = Path(__file__).resolve().parents[2]
# package.json pins axe-core; make test installs it (npm ci)
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "build" / "screenshots"  # ignored by git (build/)
DESKTOP, PHONE, NARROWEST = 1280, 390, 320
# The narrowest width of each wider layout: 40rem stacks pricing tables, 48rem the catalog.
ABOVE_BREAKPOINTS = (641, 769)
HEIGHT = 800

_OVERFLOW = """() => {
  const root = document.documentElement, edge = root.clientWidth;
  const beyond = [];
  for (const element of document.body.querySelectorAll("*")) {
    const box = element.getBoundingClientRect();
    const spills = element.scrollWidth > element.clientWidth + 1
      && getComputedStyle(element).overflowX === "visible" && element.clientWidth > 0;
    if (box.width > 0 && (box.right > edge + 0.5 || spills)) {
      const name = element.tagName.toLowerCase() + (element.id ? "#" + element.id : "")
        + (typeof element.className === "string" && element.className
           ? "." + element.className.trim().split(/\\s+/).join(".") : "");
      beyond.push(name + " to " + Math.round(box.right + Math.max(0, element.scrollWidth - element.clientWidth)) + " px");
    }
  }
  return {scrollWidth: root.scrollWidth, clientWidth: edge, beyond: beyond.slice(0, 6)};
}"""

_AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map(n => n.target.join(" ")),
  }));
}"""


def _sideways(page: Page, width: int) -> str | None:
    """Why the page scrolls sideways at this width, or None when it does not."""
    measured: dict[str, Any] = page.evaluate(_OVERFLOW)
    if measured["scrollWidth"] <= measured["clientWidth"]:
        return None
    return (f"{width} px: the page is {measured['scrollWidth']} px wide "
            f"(reaching past the edge: {', '.join(measured['beyond'])})")  # fmt: skip


def with_axe(context: BrowserContext) -> BrowserContext:
    """Every page this context opens gets axe-core as an init script: outside the page's
    Content-Security-Policy (pages are checked as served), and compiled once per renderer
    rather than once per page (5 to 10 times faster than a script tag after each load)."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: `make test` installs it (npm ci, package-lock.json)")
    context.add_init_script(path=AXE)
    return context


@contextmanager
def axe_page(browser: Browser, timeout_ms: float | None = None) -> Iterator[Page]:
    """A desktop-sized page with axe-core in every document it loads, closed afterwards."""
    context = with_axe(browser.new_context(viewport={"width": DESKTOP, "height": HEIGHT}))
    if timeout_ms is not None:
        context.set_default_timeout(timeout_ms)
    try:
        yield context.new_page()
    finally:
        context.close()


def axe_violations(page: Page) -> list[str]:
    """axe-core's violations on the page as it is now, one line each."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        pytest.fail(f"no axe-core in {page.url}: open the page in a context from with_axe()")
    found: list[dict[str, Any]] = page.evaluate(_AXE_RUN)
    return [f"{v['impact']} {v['id']}: {v['help']} at {'; '.join(v['nodes'])}" for v in found]


def set_width(page: Page, width: int) -> None:
    page.set_viewport_size({"width": width, "height": HEIGHT})


def page_problems(page: Page, name: str, *, screenshot: bool = True) -> list[str]:
    """Sideways scrolling at 1280, 390, 320 px and above the breakpoints, and axe violations at
    1280 and 390 px, of the page as it is now (resized in place: a form's answer is not posted
    again); screenshots of both widths as build/screenshots/<name>-<width>.png. Leaves the
    page at 1280 px."""
    problems: list[str] = []
    for width in (PHONE, NARROWEST, *ABOVE_BREAKPOINTS, DESKTOP):
        set_width(page, width)
        if overflow := _sideways(page, width):
            problems.append(overflow)
        if width not in (PHONE, DESKTOP):
            continue
        problems += [f"{width} px: {violation}" for violation in axe_violations(page)]
        if screenshot:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=SCREENSHOTS / f"{name}-{width}.png", full_page=True)
    return problems


def assert_page_fits(page: Page, name: str, *, screenshot: bool = True) -> None:
    """The page is readable everywhere: no sideways scrolling, no axe violation."""
    problems = page_problems(page, name, screenshot=screenshot)
    assert not problems, f"{name} ({page.url}):\n" + "\n".join(problems)
