"""The theme's static files: accessible colours, clean images, nothing from another host."""

from __future__ import annotations

import re
import struct
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

THEME = Path(__file__).resolve().parent.parent / "mailman_crans_theme"
STATIC = THEME / "static" / "mailman_crans_theme"
CSS = STATIC / "css" / "crans.css"
ADMIN_CSS = STATIC / "css" / "crans-admin.css"
# (text colour, background it is shown on), as custom properties of each stylesheet.
CONTRAST_PAIRS = {
    CSS: [
        ("--crans-link", "--crans-page-bg"),
        ("--crans-link-hover", "--crans-page-bg"),
        ("--crans-muted", "--crans-page-bg"),
        ("--crans-navbar-text", "--crans-navbar-bg"),
        ("--crans-button-text", "--crans-button-bg"),
        ("--crans-button-text", "--crans-button-hover-bg"),
        ("--crans-search-text", "--crans-search-bg"),
        ("--crans-muted", "--crans-search-bg"),
        ("--crans-footer-text", "--crans-footer-bg"),
        ("--crans-link", "--crans-footer-bg"),
    ],
    ADMIN_CSS: [
        ("--header-color", "--header-bg"),
        ("--header-branding-color", "--header-bg"),
        ("--header-link-color", "--header-bg"),
        ("--accent", "--header-bg"),  # the site's name in the header
        ("--breadcrumbs-fg", "--breadcrumbs-bg"),
        ("--breadcrumbs-link-fg", "--breadcrumbs-bg"),
        ("--button-fg", "--button-bg"),
        ("--button-fg", "--button-hover-bg"),
        ("--button-fg", "--default-button-bg"),
        ("--button-fg", "--default-button-hover-bg"),
    ],
}
# The only addresses of another host the theme names: the footer's links, which the
# visitor may follow (Crans' own, and upstream's credits).
FOOTER_LINKS = {
    "https://www.crans.org/",
    "https://wiki.crans.org/CransTechnique/ServicesMineurs/MailMan3/Utilisation",
    "http://hyperkitty.readthedocs.org",
    "https://postorius.readthedocs.org",
    "https://list.org",
}
SVG_NAMESPACE = "http://www.w3.org/2000/svg"


def custom_properties(stylesheet: Path) -> dict[str, str]:
    """The custom properties of the stylesheet's :root rules, var() references resolved."""
    declared: dict[str, str] = {}
    for block in re.findall(r":root[^{]*\{([^}]*)\}", stylesheet.read_text()):
        declared.update(re.findall(r"(--[\w-]+)\s*:\s*([^;]+);", block))

    def resolve(value: str) -> str:
        reference = re.fullmatch(r"var\((--[\w-]+)\)", value.strip())
        return resolve(declared[reference.group(1)]) if reference else value.strip()

    return {name: resolve(value) for name, value in declared.items()}


def relative_luminance(colour: str) -> float:
    """WCAG 2 relative luminance of a #rgb or #rrggbb colour."""
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(digit * 2 for digit in digits)
    assert re.fullmatch(r"[0-9a-fA-F]{6}", digits), f"not a hex colour: {colour}"
    channels = []
    for index in range(0, 6, 2):
        value = int(digits[index : index + 2], 16) / 255
        channels.append(value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4)
    red, green, blue = channels
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(text: str, background: str) -> float:
    lighter, darker = sorted((relative_luminance(text), relative_luminance(background)))[::-1]
    return (lighter + 0.05) / (darker + 0.05)


def test_contrast_ratio_matches_wcag_examples():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert contrast_ratio("#fff", "#fff") == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("stylesheet", "text", "background"),
    [(sheet.name, *pair) for sheet, pairs in CONTRAST_PAIRS.items() for pair in pairs],
)
def test_text_colours_pass_wcag_aa(stylesheet, text, background):
    properties = custom_properties(STATIC / "css" / stylesheet)
    ratio = contrast_ratio(properties[text], properties[background])
    assert ratio >= 4.5, f"{text} on {background}: {ratio:.2f}:1"


def test_every_text_colour_of_the_theme_is_checked():
    """A `color:` of crans.css is one of the text colours of CONTRAST_PAIRS."""
    checked = {text for text, _ in CONTRAST_PAIRS[CSS]}
    used = set(re.findall(r"(?<![-\w])color:\s*var\((--[\w-]+)\)", CSS.read_text()))
    assert used and used <= checked, used - checked


def test_stylesheets_load_only_the_theme_images():
    for stylesheet in (CSS, ADMIN_CSS):
        text = stylesheet.read_text()
        assert "@import" not in text
        assert "@font-face" not in text
        for url in re.findall(r"url\(([^)]*)\)", text):
            image = (stylesheet.parent / url.strip("\"'")).resolve()
            assert image.parent == STATIC / "img" and image.is_file(), url


def theme_files() -> list[Path]:
    return [path for path in (THEME / "templates").rglob("*.html")] + [
        path for path in STATIC.rglob("*") if path.suffix in (".css", ".svg")
    ]


def test_no_request_to_another_host():
    """Templates and static files name no other host, except the footer's links."""
    for path in theme_files():
        text = path.read_text()
        for url in re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}[^\s\"'<>)]*", text):
            if path.suffix == ".svg" and url == SVG_NAMESPACE:  # a name, not a request
                continue
            assert url in FOOTER_LINKS, f"{path.relative_to(THEME)} names {url}"
            assert f'<a href="{url}">' in text, f"{url} is not a link in {path.name}"


@pytest.mark.parametrize("name", ["crans-logo.svg", "favicon.svg"])
def test_svg_images_are_self_contained(name):
    root = ElementTree.parse(STATIC / "img" / name).getroot()
    assert root.tag == f"{{{SVG_NAMESPACE}}}svg"
    assert re.fullmatch(r"0 0 \d+ \d+", root.get("viewBox"))
    assert root.find(f"{{{SVG_NAMESPACE}}}title").text == "Crans"
    for element in root.iter():
        assert element.tag.split("}")[1] not in ("script", "image", "foreignObject", "style")
        assert not any("href" in attribute for attribute in element.attrib)


def test_png_favicon_is_32_pixels_square():
    data = (STATIC / "img" / "favicon.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    assert struct.unpack(">II", data[16:24]) == (32, 32)
