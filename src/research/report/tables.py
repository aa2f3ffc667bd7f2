"""Writing a report's pieces: tables (CSV, safe to open in a spreadsheet), figures (PNG, shown as
numbered ``<figure>`` with alt text and caption) and tables shown for reading.

Numbers are never rounded here; rounding is a presentation choice made by :func:`show`.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

import pandas as pd

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """Prefix text that a spreadsheet would run as a formula with an apostrophe.

    Numbers are left alone (a negative number is not a formula).

    Examples
    --------
    >>> neutralise("=HYPERLINK(\\"http://x\\")"), neutralise("-0.5"), neutralise("-call me")
    ('\\'=HYPERLINK("http://x")', '-0.5', "'-call me")
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        try:
            float(value)
            return value
        except ValueError:
            return "'" + value
    return value


def safe_for_spreadsheet(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells cannot run as spreadsheet formulas."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralise, na_action="ignore")
    return out


def save_table(frame: pd.DataFrame, out, name: str) -> Path:
    """Write ``frame`` to ``OUT/tables/NAME.csv`` (UTF-8, no index, formula-safe text); return the
    path."""
    folder = Path(out) / "tables"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.csv"
    safe_for_spreadsheet(frame).to_csv(path, index=False)
    return path


#: The figures' resolution (pixels per inch); the report shows them at 96/144 of their pixel size.
FIGURE_DPI = 144
#: zlib level of the figures' PNGs: 3 writes them about a third faster than Pillow's default (6)
#: for some 5% more bytes, the pixels being the same.
PNG_COMPRESSION = 3


def _plain_savefig() -> bool:
    """Whether savefig's settings (colours, transparency, padding) are those a plain draw gives."""
    import matplotlib

    rc = matplotlib.rcParams
    return (
        str(rc["savefig.facecolor"]) == "auto"
        and str(rc["savefig.edgecolor"]) == "auto"
        and not rc["savefig.transparent"]
        and rc["savefig.pad_inches"] not in (None, "layout")
    )


def _laid_out(fig) -> bool:
    """Whether drawing ``fig`` leaves everything where it is (no layout engine that lays the
    figure out when it is drawn, as ``fig.tight_layout()`` leaves it)."""
    from matplotlib.layout_engine import PlaceHolderLayoutEngine

    engine = fig.get_layout_engine()
    return engine is None or isinstance(engine, PlaceHolderLayoutEngine)


def _inside(box, fig) -> bool:
    """Whether ``box`` (inches) lies within the figure."""
    width, height = fig.get_size_inches()
    return box.x0 >= 0 and box.y0 >= 0 and box.x1 <= width and box.y1 <= height


def _title_overflows(fig, renderer) -> bool:
    """Whether an axes title is wider than the figure sideways (the usual reason a figure's
    contents reach outside it), measured without drawing."""
    width = fig.bbox.width
    for ax in fig.axes:
        if ax.title.get_text():
            box = ax.title.get_window_extent(renderer)
            if box.x0 < 0 or box.x1 > width:
                return True
    return False


def _crop(pixels, box, dpi: float, face):
    """The pixels of ``box`` (inches, padded) as savefig crops them: a canvas of the box's whole
    pixels with its lower left corner at 0, 0; what lies outside the drawing is ``face``."""
    import numpy as np
    from PIL import Image

    width, height = int(box.width * dpi), int(box.height * dpi)
    left = round(box.x0 * dpi)
    top = round(pixels.shape[0] - box.y0 * dpi - height)
    out = np.empty((height, width, 4), np.uint8)
    out[...] = face
    rows = slice(max(top, 0), min(top + height, pixels.shape[0]))
    cols = slice(max(left, 0), min(left + width, pixels.shape[1]))
    out[rows.start - top : rows.stop - top, cols.start - left : cols.stop - left] = pixels[
        rows, cols
    ]
    return Image.fromarray(out, "RGBA")


def _outside(box, width: float, height: float) -> bool:
    """Whether ``box`` (pixels) reaches outside a canvas of ``width`` by ``height`` pixels; an
    empty or infinite box, which ``get_tightbbox`` leaves out, does not."""
    import numpy as np

    return (
        box is not None
        and np.isfinite(box.extents).all()
        and (box.width or box.height)
        and (box.x0 < 0 or box.y0 < 0 or box.x1 > width or box.y1 > height)
    )


def _tick_room(ax, renderer) -> float:
    """The most an axis' tick labels lie beyond the axes' edge before their text begins (tick
    length outwards and label pad), in pixels."""
    points = [
        tick.get_tick_padding() + tick.get_pad()
        for axis in (ax.xaxis, ax.yaxis)
        for tick in axis.majorTicks[:1] + axis.minorTicks[:1]
    ]
    return renderer.points_to_pixels(max(points, default=0)) + 1


def _may_reach_outside(fig, renderer) -> bool:
    """Whether anything ``fig.get_tightbbox`` counts could lie wholly outside the canvas, where the
    drawing leaves no ink: measured as ``get_tightbbox`` measures it, but for the tick labels.

    A tick label begins within a few points of its axes' edge, so it can only lie wholly outside
    when that edge is within those points of the canvas' edge; those axes, axes other than plain
    ones (polar, 3D) and spines moved from the axes' edge are answered "may" (then measured)."""
    from matplotlib.axes import Axes

    width, height = fig.bbox.width, fig.bbox.height
    for artist in fig.get_children():
        if artist in fig.axes or not (artist.get_visible() and artist.get_in_layout()):
            continue
        if _outside(artist.get_tightbbox(renderer), width, height):
            return True
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        moved = (
            s.get_position() != ("outward", 0.0)
            for s in ax.spines.values()
            if s.spine_type in ("left", "right", "bottom", "top")  # a colorbar's outline is not
        )
        if type(ax) is not Axes or any(moved):
            return True
        box = ax.get_window_extent(renderer)
        if ax.axison:
            room = _tick_room(ax, renderer)
            if min(box.x0, box.y0, width - box.x1, height - box.y1) < room:
                return True
        texts = [ax.title, ax._left_title, ax._right_title]  # as Axes.get_tightbbox takes them
        texts += [t for axis in (ax.xaxis, ax.yaxis) for t in (axis.label, axis.offsetText)]
        others = [a for a in ax.get_default_bbox_extra_artists() if a not in ax.spines.values()]
        if _outside(box, width, height) or any(
            _outside(t.get_window_extent(renderer), width, height)
            for t in texts
            if t.get_visible() and t.get_text()
        ):
            return True
        if any(_outside(a.get_tightbbox(renderer), width, height) for a in others):
            return True
    return False


def _ink_box(fig, pixels, dpi: float):
    """The box (inches) of what the drawing ``pixels`` shows on the figure's opaque face; ``None``
    when that face is not opaque or the ink reaches the canvas' edge (it may go on beyond)."""
    import numpy as np
    from matplotlib.colors import to_rgba
    from matplotlib.transforms import Bbox

    face = np.asarray(to_rgba(fig.patch.get_facecolor())) * 255
    corner = pixels[0, 0]
    if not fig.patch.get_visible() or face[3] < 255 or np.abs(corner - face).max() > 1:
        return None
    # one 32-bit word per pixel: a single comparison with the face's
    ink = pixels.view(np.uint32)[..., 0] != corner.view(np.uint32)[0]
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if not len(rows):
        return None
    height, width = ink.shape
    top, bottom, left, right = rows[0], rows[-1], cols[0], cols[-1]
    if min(top, left) == 0 or bottom == height - 1 or right == width - 1:
        return None
    x0, x1 = left, right + 1
    y0, y1 = height - bottom - 1, height - top
    return Bbox.from_extents(x0 / dpi, y0 / dpi, x1 / dpi, y1 / dpi)


def _draw_cropped(fig, dpi: float):
    """Draw ``fig`` once at ``dpi`` on an Agg canvas; (its pixels cropped to its ink padded by
    ``savefig.pad_inches``, that box in inches).

    The crop is the box of the pixels that are not the figure's face, which is
    ``bbox_inches="tight"``'s box but for text boxes' empty ascent and descent (a few pixels);
    ``fig.get_tightbbox`` measures it (as savefig does) only when that ink reaches the canvas'
    edge, the face is not opaque or something may lie wholly outside (:func:`_may_reach_outside`).
    The pixels are ``None`` when what it shows reaches outside the figure (a title wider than the
    figure): only savefig, which moves the figure's contents, can show what lies there (a laid-out
    figure whose title is too wide is then measured without drawing, savefig drawing it once).
    The figure keeps its canvas and resolution; an Agg canvas of its own is drawn on.
    """
    import matplotlib
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import to_rgba_array

    pad = matplotlib.rcParams["savefig.pad_inches"]
    shown_canvas, shown_dpi = fig.canvas, fig.dpi
    # the figure's own Agg canvas (pyplot's, the inline backend's) keeps its renderer, and with it
    # the text measured when the figure was laid out at this resolution
    canvas = shown_canvas if isinstance(shown_canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    fig.set_dpi(dpi)  # text is measured at the resolution it is drawn at
    try:
        renderer = canvas.get_renderer()
        if _laid_out(fig) and _title_overflows(fig, renderer):
            # measured without drawing: savefig draws it once, moved to show what lies outside
            return None, fig.get_tightbbox(renderer).padded(pad, pad)
        canvas.draw()  # lays the figure out first when it has a layout engine of its own
        renderer = canvas.get_renderer()
        pixels = np.asarray(canvas.buffer_rgba())
        content = _ink_box(fig, pixels, dpi)
        if content is None or _may_reach_outside(fig, renderer):
            content = fig.get_tightbbox(renderer)
            if not _inside(content, fig):
                return None, content.padded(pad, pad)
        face = (to_rgba_array(fig.patch.get_facecolor())[0] * 255).round()
        image = _crop(pixels, content.padded(pad, pad), dpi, face)
    finally:
        fig.set_dpi(shown_dpi)
        fig.set_canvas(shown_canvas)
    return image, content.padded(pad, pad)


def _write_png(image, path, metadata: dict) -> None:
    """Write a Pillow ``image`` as the report's PNG: 144 dpi, zlib level 3, the ``metadata`` as
    text chunks; without an alpha channel when every pixel is opaque."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    for key, value in metadata.items():
        if value:
            info.add_text(key, value)
    if image.mode == "RGBA" and image.getextrema()[3] == (255, 255):
        image = image.convert("RGB")  # opaque: the same pixels, a fifth faster and a tenth smaller
    image.save(
        path,
        format="png",
        pnginfo=info,
        dpi=(FIGURE_DPI, FIGURE_DPI),
        compress_level=PNG_COMPRESSION,
    )


def _savefig(fig, target, box, **options) -> None:
    """``fig.savefig`` at 144 dpi cropped to ``box`` (inches, or ``"tight"``); a laid-out figure
    with a measured box is not drawn twice (savefig draws first when the figure has an engine)."""
    import matplotlib

    engine = fig.get_layout_engine()
    # with either of these set, removing the placeholder (below) would give the figure an engine
    automatic = (
        matplotlib.rcParams["figure.autolayout"]
        or matplotlib.rcParams["figure.constrained_layout.use"]
    )
    measured = not isinstance(box, str) and _laid_out(fig) and not automatic
    if measured:
        fig.set_layout_engine(None)
    try:
        fig.savefig(target, dpi=FIGURE_DPI, bbox_inches=box, **options)
    finally:
        if measured and engine is not None:
            fig.set_layout_engine(engine)


def render_figure(fig):
    """``fig`` drawn once at 144 dpi and cropped as ``bbox_inches="tight"`` crops it: a Pillow
    image that :func:`save_figure` and :func:`show_figure` take in place of the figure, so one
    drawing can be shown twice."""
    import io

    from PIL import Image

    image, box = _draw_cropped(fig, FIGURE_DPI) if _plain_savefig() else (None, "tight")
    if image is None:
        buffer = io.BytesIO()
        _savefig(fig, buffer, box, format="png")
        image = Image.open(buffer)
        image.load()
    return image


def save_figure(fig, out, name: str, caption: str = "", alt: str = "") -> Path:
    """Write a matplotlib figure (or a figure drawn by :func:`render_figure`) to
    ``OUT/figures/NAME.png`` at 144 dpi, cropped to what it shows (as ``bbox_inches="tight"``);
    return the path.

    The figure is drawn once: the pixels are cropped from that drawing, and only a figure whose
    contents reach outside it is saved by savefig (which draws it again, moved). The caption and
    the alt text travel inside the PNG (its ``Title`` and ``Description`` text chunks), so the
    index page and any other reader of the file can say what it shows.
    """
    from PIL import Image

    folder = Path(out) / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    metadata = {"Title": " ".join(caption.split()), "Description": " ".join(alt.split())}
    if isinstance(fig, Image.Image):
        _write_png(fig, path, metadata)
        return path
    image, box = _draw_cropped(fig, FIGURE_DPI) if _plain_savefig() else (None, "tight")
    if image is not None:
        _write_png(image, path, metadata)
        return path
    _savefig(
        fig,
        path,
        box,
        metadata={k: v for k, v in metadata.items() if v},
        pil_kwargs={"compress_level": PNG_COMPRESSION},
    )
    return path


class FigureHTML:
    """A figure as the report shows it: ``<figure>`` with the embedded PNG, its alt text and a
    numbered caption."""

    def __init__(
        self, png: bytes, caption: str, alt: str, number: int | None = None, name: str = ""
    ):
        self.png, self.caption, self.alt, self.number, self.name = png, caption, alt, number, name

    @property
    def label(self) -> str:
        return f"Figure {self.number}" if self.number is not None else "Figure"

    def to_html(self) -> str:
        width = int.from_bytes(self.png[16:20], "big")  # the PNG header's width in pixels
        data = base64.b64encode(self.png).decode("ascii")
        anchor = f' id="figure-{self.number}"' if self.number is not None else ""
        caption = (
            f"<figcaption><b>{escape(self.label)}.</b> {escape(self.caption)}</figcaption>"
            if self.caption
            else f"<figcaption><b>{escape(self.label)}.</b></figcaption>"
        )
        return (
            f'<figure class="report-figure"{anchor}><img src="data:image/png;base64,{data}" '
            f'alt="{escape(self.alt)}" width="{round(width * 96 / FIGURE_DPI)}">{caption}</figure>'
        )

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        return f"{self.label}. {self.caption}"


def show_figure(
    fig, out, name: str, caption: str = "", alt: str = "", page: Page | None = None
) -> FigureHTML:
    """Save a figure to ``OUT/figures/NAME.png`` and show that same PNG (one rendering, not two);
    close it.

    Returns a :class:`FigureHTML` (``<figure>``, embedded PNG, ``alt``, ``<figcaption>``) to
    display; numbered by ``page`` (a :class:`Page`, one per notebook) when given. A figure needs an
    ``alt`` text or a caption (the caption is the alt text when none is given).
    """
    import matplotlib.pyplot as plt

    if not (alt or caption):
        raise ValueError(f"figure {name!r}: give an alt text (what the figure shows) or a caption")
    path = save_figure(fig, out, name, caption, alt or caption)
    if isinstance(fig, plt.Figure):
        plt.close(fig)
    number = page.next_figure() if page is not None else None
    return FigureHTML(path.read_bytes(), caption, alt or caption, number, name)


class Page:
    """One report page's numbering: figures (``Figure 1`` ...) and tables (``Table 1`` ...) in the
    order shown.

    Examples
    --------
    >>> import pandas as pd
    >>> page = Page("/tmp/unused")
    >>> t = page.table(pd.DataFrame({"Scale": ["A"], "p": [0.0213]}), "Scales", note="Welch tests.")
    >>> page.tables, "<strong>Table 1</strong>" in t.to_html(), ".021" in t.to_html()
    (1, True, True)
    """

    def __init__(self, out):
        self.out = Path(out)
        self.figures = 0
        self.tables = 0

    def next_figure(self) -> int:
        self.figures += 1
        return self.figures

    def figure(self, fig, name: str, caption: str, alt: str = "") -> FigureHTML:
        """Save and show ``fig`` as the page's next numbered figure (see :func:`show_figure`)."""
        return show_figure(fig, self.out, name, caption=caption, alt=alt, page=self)

    def table(self, table, title: str = "", note: str = "", **show_options):
        """Number an :class:`~research.report.apa.ApaTable` (returned), or show a data frame as the
        page's next numbered table with ``title`` and ``note`` (formatted by :func:`show`)."""
        self.tables += 1
        if isinstance(table, pd.DataFrame):
            return show(table, title=title, note=note, number=self.tables, **show_options)
        table.number = self.tables
        return table


def humanise(column: str) -> str:
    """A readable header for a contract column name.

    Examples
    --------
    >>> [humanise(c) for c in ("n_marketing", "p_holm", "ci_low", "shapiro_p_sales", "icc1", "r2")]
    ['n marketing', 'p (Holm)', '95% CI low', 'Shapiro–Wilk p sales', 'ICC(1)', 'R²']
    """
    known = {
        "p_holm": "p (Holm)",
        "p_bh": "p (BH)",
        "ci_low": "95% CI low",
        "ci_high": "95% CI high",
        "icc1": "ICC(1)",
        "r2": "R²",
        "n_items": "items",
        "company_id": "company",
        "sd": "SD",
        "effect_size": "effect size",
        "omnibus_p": "p (omnibus)",
        "levene_p": "Levene p",
    }
    if column in known:
        return known[column]
    text = str(column).replace("shapiro_p", "Shapiro–Wilk p").replace("_", " ")
    return text


def _is_p(column: str) -> bool:
    c = str(column).lower()
    return c == "p" or c.startswith(("p_", "p (")) or c.endswith(("_p", " p")) or " p " in c


def _cell(value, digits: int, p_column: bool) -> str:
    from research.report.apa import DASH, MINUS, fmt_p

    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float) and not isinstance(value, bool) or hasattr(value, "dtype"):
        try:
            x = float(value)
        except (TypeError, ValueError):
            return str(value)
        if p_column and 0 <= x <= 1:
            return fmt_p(x)
        if x.is_integer() and abs(x) < 1e15:
            text = str(int(x))
        else:
            text = f"{x:.{digits}f}"
        return text.replace("-", MINUS) if not text.strip("-0.") == "" else text.lstrip("-")
    return str(value)


class TableHTML:
    """A data frame as the report shows it: optional number, title and note; long tables
    sortable."""

    def __init__(self, html: str, frame: pd.DataFrame):
        self.html, self.frame = html, frame

    def _repr_html_(self) -> str:
        return self.html

    def to_html(self) -> str:
        return self.html


def show(
    frame: pd.DataFrame,
    digits: int = 2,
    max_rows: int = 60,
    headers: dict | None = None,
    title: str = "",
    note: str = "",
    number: int | None = None,
    sortable: bool | None = None,
    wrap: tuple = (),
) -> TableHTML:
    """Display a table rounded for reading: human headers (``headers`` or :func:`humanise`), p
    values as APA writes them (``.021``, ``< .001``), a true minus sign, ``–`` for a missing value,
    every text cell escaped.

    Tables longer than 12 rows can be sorted and filtered in the browser (``sortable``); ``wrap``
    names columns of long text. At most ``max_rows`` rows are shown (the note says so).
    """
    shown = frame.head(max_rows)
    heads = [str((headers or {}).get(c, humanise(c))) for c in shown.columns]
    p_cols = [_is_p(c) or _is_p(h) for c, h in zip(shown.columns, heads, strict=True)]
    rows = []
    for row in shown.itertuples(index=False):
        cells = []
        for j, value in enumerate(row):
            text = _cell(value, digits, p_cols[j])
            numeric = not isinstance(value, str) and text not in ("–",)
            cls = ' class="wrap"' if shown.columns[j] in wrap else ' class="num"' if numeric else ""
            cells.append(f"<td{cls}>{escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    long = len(shown) > 12 if sortable is None else sortable
    head = "".join(f"<th>{escape(h)}</th>" for h in heads)
    caption = ""
    if number is not None or title:
        label = f"Table {number}" if number is not None else ""
        caption = (f'<p class="caption"><strong>{escape(label)}</strong></p>' if label else "") + (
            f"<p><em>{escape(title)}</em></p>" if title else ""
        )
    more = (
        f" The first {max_rows} of {len(frame)} rows are shown; all are in the CSV table."
        if len(frame) > max_rows
        else ""
    )
    notes = (
        f'<p class="apa-note"><em>Note.</em> {escape(note)}{escape(more)}</p>'
        if note or more
        else ""
    )
    html = (
        f'<div class="apa-table plain-table">{caption}'
        f'<table class="plain{" sortable" if long else ""}">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{notes}</div>"
    )
    return TableHTML(html, shown)


def escape(text) -> str:
    """HTML-escape any text that comes from the data."""
    return html.escape("" if text is None else str(text))
