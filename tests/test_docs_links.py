"""Every relative link and image in README.md and docs/*.md names a file (or folder) that exists."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# [text](target) and ![alt](target), target up to a space (a "title") or the closing parenthesis
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)


def relative_targets(page: Path) -> list[str]:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))        # code blocks are examples, not links
    targets = []
    for target in LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("#"):
            continue                                                # http:, mailto:, an anchor on the page
        targets.append(target.split("#")[0])
    return targets


def test_the_link_pattern_reads_links_and_images(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("See [the guide](docs/a.md#top), ![pic](images/b.png \"B\"), [web](https://x.org), "
                    "[here](#anchor).\n```\n[not a link](nowhere.md)\n```\n", encoding="utf-8")
    assert relative_targets(page) == ["docs/a.md", "images/b.png"]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_and_image_resolves(page):
    missing = [t for t in relative_targets(page) if not (page.parent / t).exists()]
    assert not missing, f"{page.relative_to(ROOT)} links to missing files: {missing}"
    if page.name == "README.md":
        assert relative_targets(page)        # the pattern finds the README's links at all
