"""The report as a PDF: the same sections and blocks as the HTML, laid out on A4 pages with matplotlib.

Pure Python (matplotlib's PdfPages), so it works offline without system libraries. :func:`layout` decides the
pages (deterministic, so tests can predict the page count) and :func:`render_pdf` draws them. Every section
starts on a new page.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from builder.report.content import Block, Section

PAGE_W, PAGE_H = 8.27, 11.69  # A4, inches
LEFT, RIGHT, TOP, BOTTOM = 0.7, 0.7, 0.75, 0.8
WIDTH = PAGE_W - LEFT - RIGHT
#: Tallest a figure is drawn, leaving room on its page for a heading above and a caption below.
MAX_FIGURE_H = PAGE_H - TOP - BOTTOM - 1.3
INK, MUTED, ACCENT, WARN = "#1d2430", "#5b6472", "#1f5fa8", "#9a5b00"


@dataclass
class Page:
    """Things placed on one page: ``("text", x, y, text, style)``, ``("image", x, y, w, h, png)``,
    ``("rect", x, y, w, h, colour)``; ``x``/``y`` in inches from the top-left corner."""

    items: list[tuple[Any, ...]] = field(default_factory=list)


class _Layout:
    def __init__(self) -> None:
        self.pages: list[Page] = []
        self.y = PAGE_H

    @property
    def page(self) -> Page:
        return self.pages[-1]

    def new_page(self) -> None:
        self.pages.append(Page())
        self.y = TOP

    def need(self, height: float) -> None:
        if self.y + height > PAGE_H - BOTTOM:
            self.new_page()

    def text(self, line: str, x: float, size: float, *, weight: str = "normal", colour: str = INK,
             style: str = "normal", family: str = "sans-serif", gap: float = 1.45) -> None:
        height = size * gap / 72
        self.need(height)
        self.page.items.append(("text", x, self.y, line, {"fontsize": size, "fontweight": weight, "color": colour,
                                                          "fontstyle": style, "family": family}))
        self.y += height

    def paragraph(self, text: str, *, x: float = LEFT, width: float = WIDTH, size: float = 9.5,
                  prefix: str = "", background: str | None = None, **style: Any) -> None:
        chars = max(20, int(width * 72 / (size * (0.62 if style.get("family") == "monospace" else 0.53))))
        indent = 0.2 if prefix else 0.0
        lines = textwrap.wrap(text, chars - (3 if prefix else 0), break_long_words=True,
                              replace_whitespace=False) or [""]
        for i, line in enumerate(lines):
            self.need(size * style.get("gap", 1.45) / 72)
            if background:
                self.page.items.append(("rect", x - 0.08, self.y - 0.02, width + 0.16, size * 1.45 / 72, background))
            if prefix and i == 0:
                self.page.items.append(("text", x, self.y, prefix, {"fontsize": size, "color": style.get("colour",
                                                                                                        INK)}))
            self.text(line, x + indent, size, **style)
        self.y += size * 0.35 / 72


def _chars_for(width: float, size: float) -> int:
    return max(4, int(width * 72 / (size * 0.55)))


def _table(lay: _Layout, block: Block) -> None:
    size, row_h = 8.0, 8.0 * 1.55 / 72
    columns = max([1, len(block.header), *(len(r) for r in block.rows)])
    header = list(block.header) + [""] * (columns - len(block.header))
    lengths = [max([len(str(header[c]))] + [len(str(r[c])) for r in block.rows if c < len(r)]) for c in range(columns)]
    char_w = size * 0.6 / 72
    widths = (np.clip(np.asarray(lengths, float), 3, 70) + 2) * char_w
    if widths.sum() > WIDTH:  # shrink the widest columns first
        excess = widths.sum() - WIDTH
        room = np.maximum(widths - 8 * char_w, 0)
        widths -= room / max(room.sum(), 1e-9) * min(excess, room.sum())
    width = float(max(widths.sum(), 2.0))

    def wrapped(cells: Sequence[Any]) -> list[list[str]]:
        """Each cell's text wrapped to its column (at most 4 lines, the last one shortened with …)."""
        out = []
        for c in range(columns):
            text = str(cells[c]) if c < len(cells) else ""
            limit = _chars_for(widths[c] - 0.08, size)
            lines = textwrap.wrap(text, limit, break_long_words=True) or [""]
            if len(lines) > 4:
                lines = lines[:4]
                lines[-1] = lines[-1][: limit - 1] + "…"
            out.append(lines)
        return out

    def row(cells: Sequence[Any], bold: bool) -> None:
        texts = wrapped(cells)
        height = row_h * max(len(t) for t in texts)
        lay.need(height)
        if bold:
            lay.page.items.append(("rect", LEFT, lay.y - 0.02, width, height, "#eef2f7"))
        x = LEFT
        for c, lines in enumerate(texts):
            for i, line in enumerate(lines):
                lay.page.items.append(("text", x + 0.04, lay.y + i * row_h, line,
                                       {"fontsize": size, "color": INK, "fontweight": "bold" if bold else "normal"}))
            x += widths[c]
        lay.y += height
        lay.page.items.append(("rect", LEFT, lay.y - 0.03, width, 0.006, "#d9dee5"))

    lay.need(row_h * min(len(block.rows) + 1, 4))
    row(header, True)
    for cells in block.rows:
        if lay.y + row_h * max(len(t) for t in wrapped(cells)) > PAGE_H - BOTTOM:
            lay.new_page()
            row(header, True)
        row(cells, False)
    if block.caption:
        lay.y += 0.04
        lay.paragraph(block.caption, size=8, colour=MUTED)
    lay.y += 0.08


def figure_height(block: Block) -> float:
    """Height in inches that a figure block takes on the page, caption included."""
    from PIL import Image

    with Image.open(io.BytesIO(block.png or b"")) as image:
        px_w, px_h = image.size
    width = min(WIDTH, px_w / 100.0)
    height = min(width * px_h / px_w, MAX_FIGURE_H)
    caption_lines = len(textwrap.wrap(block.caption, int(WIDTH * 72 / (8 * 0.53)))) if block.caption else 0
    return height + 0.14 + caption_lines * 8 * 1.45 / 72


def _figure(lay: _Layout, block: Block) -> None:
    from PIL import Image

    with Image.open(io.BytesIO(block.png or b"")) as image:
        px_w, px_h = image.size
    width = min(WIDTH, px_w / 100.0)
    height = width * px_h / px_w
    if height > MAX_FIGURE_H:
        height, width = MAX_FIGURE_H, MAX_FIGURE_H * px_w / px_h
    lay.need(figure_height(block))
    x = LEFT + (WIDTH - width) / 2
    lay.page.items.append(("image", x, lay.y, width, height, block.png))
    lay.y += height + 0.06
    if block.caption:
        lay.paragraph(block.caption, size=8, colour=MUTED)
    lay.y += 0.08


def _block(lay: _Layout, block: Block, following: Block | None = None) -> None:
    kind = block.kind
    if kind == "text":
        lay.paragraph(block.text)
    elif kind == "headline":
        lay.text(block.text, LEFT, 15, weight="bold", colour=ACCENT)
        lay.paragraph(block.caption)
    elif kind == "subheading":
        keep = figure_height(following) if following and following.kind == "figure" and following.png else 1.0
        lay.need(min(keep, PAGE_H - TOP - BOTTOM - 0.5) + 0.35)
        lay.y += 0.08
        lay.text(block.text, LEFT, 11.5, weight="bold")
    elif kind == "note":
        lay.paragraph(block.text, size=8.5, colour=MUTED, style="italic")
    elif kind in ("bullets", "warnings"):
        colour = WARN if kind == "warnings" else INK
        for item in block.items:
            lay.paragraph(item, x=LEFT + 0.1, width=WIDTH - 0.1, prefix="!" if kind == "warnings" else "•",
                          colour=colour)
    elif kind == "methods":
        lay.paragraph(block.text, x=LEFT + 0.1, width=WIDTH - 0.2, background="#eef4fb")
        lay.y += 0.08
    elif kind == "references":
        for i, item in enumerate(block.items):
            link = block.links[i] if i < len(block.links) else None
            lay.paragraph(f"{i + 1}. {item}" + (f" {link}" if link else ""), size=8.5)
    elif kind == "code":
        for line in block.text.splitlines():
            lay.paragraph(line or " ", x=LEFT + 0.1, width=WIDTH - 0.2, size=7, family="monospace", gap=1.3,
                          background="#f6f8fa")
            lay.y -= 7 * 0.35 / 72
    elif kind == "table":
        _table(lay, block)
    elif kind == "figure" and block.png:
        _figure(lay, block)


def layout(sections: Sequence[Section], *, title: str = "", subtitle: str = "") -> list[Page]:
    """Place every block of ``sections`` on A4 pages; each section starts a new page."""
    lay = _Layout()
    for index, section in enumerate(sections):
        lay.new_page()
        if index == 0 and title:
            lay.text(title, LEFT, 18, weight="bold")
            if subtitle:
                lay.paragraph(subtitle, size=9, colour=MUTED)
            lay.page.items.append(("rect", LEFT, lay.y, WIDTH, 0.03, ACCENT))
            lay.y += 0.2
        lay.text(section.title, LEFT, 15, weight="bold")
        lay.page.items.append(("rect", LEFT, lay.y - 0.02, WIDTH, 0.01, "#d9dee5"))
        lay.y += 0.12
        for i, block in enumerate(section.blocks):
            _block(lay, block, section.blocks[i + 1] if i + 1 < len(section.blocks) else None)
    return lay.pages


def render_pdf(sections: Sequence[Section], path: str | Path, *, title: str = "", subtitle: str = "",
               footer: str = "") -> int:
    """Write the PDF to ``path`` and return its number of pages."""
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle
    from PIL import Image

    pages = layout(sections, title=title, subtitle=subtitle)
    path = Path(path)
    with PdfPages(path, metadata={"Title": title or "Cellwright report", "Creator": "Cellwright"}) as pdf:
        for number, page in enumerate(pages, start=1):
            fig = Figure(figsize=(PAGE_W, PAGE_H))
            for item in page.items:
                if item[0] == "text":
                    _, x, y, text, style = item
                    fig.text(x / PAGE_W, 1 - y / PAGE_H, text, va="top", ha="left", parse_math=False, **style)
                elif item[0] == "rect":
                    _, x, y, w, h, colour = item
                    fig.patches.append(Rectangle((x / PAGE_W, 1 - (y + h) / PAGE_H), w / PAGE_W, h / PAGE_H,
                                                 transform=fig.transFigure, color=colour, zorder=-1, lw=0))
                else:
                    _, x, y, w, h, png = item
                    ax = fig.add_axes((x / PAGE_W, 1 - (y + h) / PAGE_H, w / PAGE_W, h / PAGE_H))
                    with Image.open(io.BytesIO(png)) as image:
                        ax.imshow(np.asarray(image.convert("RGB")), interpolation="antialiased")
                    ax.set_axis_off()
            fig.text(0.5, 0.35 / PAGE_H, f"{footer}    page {number} of {len(pages)}".strip(), ha="center",
                     fontsize=7.5, color=MUTED, parse_math=False)
            pdf.savefig(fig)
    return len(pages)
