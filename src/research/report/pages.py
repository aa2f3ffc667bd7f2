"""The report's pages as a reader opens them: the HTML exporter, the page style (screen and print),
the table sorter, the index page and the provenance footer.

Every page is self-contained: nothing is fetched from another host when it is opened (no MathJax, no
require.js, no mermaid from a CDN; figures are embedded PNGs; the style and the small table script
are inlined once per page). Links (``<a href>``, e.g. to a DOI) are navigation, not requests.

Printing any page to A4 gives a clean document: ``@page`` margins, tables that wrap instead of
running off the page, rows, figures and quotes never split across pages, headings kept with what
follows, the table tools hidden and every row shown.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from html.parser import HTMLParser
from pathlib import Path

from research.report.tables import escape

MAIN_WIDTH = "60rem"

#: The style of every report page, on top of nbconvert's lab template (screen and print).
PAGE_CSS = (
    """
:root{--ink:#1d2433;--muted:#4a5568;--rule:#d9dee7;--accent:#0072B2}
html{-webkit-text-size-adjust:100%}
body.jp-Notebook{margin:0;padding:0;background:#fff;color:var(--ink);overflow-x:hidden}
body.jp-Notebook main{max-width:"""
    + MAIN_WIDTH
    + """;margin:0 auto;padding:1.5rem 1.5rem 3rem;box-sizing:border-box}
.jp-Cell{padding:0 !important}
.jp-Cell-outputWrapper,.jp-OutputArea,.jp-OutputArea-child,.jp-OutputArea-output{max-width:100%;\
min-width:0}
.jp-OutputArea-output{overflow-x:visible !important}
.jp-RenderedHTMLCommon,.jp-RenderedMarkdown{padding-right:0 \
!important;font-size:15px;line-height:1.55;
  overflow-wrap:break-word}
.jp-RenderedHTMLCommon h1{font-size:1.9rem;margin-top:.5rem}
.jp-RenderedHTMLCommon h2{font-size:1.35rem;margin-top:2rem;border-bottom:1px solid \
var(--rule);padding-bottom:.2rem}
.jp-RenderedHTMLCommon blockquote{margin:.6rem 0 .6rem .2rem;padding:.2rem .9rem;border-left:3px \
solid #E69F00;
  background:#fbf8f1;color:#2d3748}
.jp-RenderedHTMLCommon \
table{display:table;max-width:100%;table-layout:auto;border-collapse:collapse;
  font-size:13px;margin:.6rem 0 .4rem}
.jp-RenderedHTMLCommon td,.jp-RenderedHTMLCommon th{white-space:normal;overflow-wrap:break-word;
  word-break:normal;vertical-align:top;max-width:28rem}
.jp-RenderedHTMLCommon pre,.jp-RenderedHTMLCommon code{white-space:pre-wrap;overflow-wrap:anywhere}
.jp-RenderedHTMLCommon pre{max-width:100%;box-sizing:border-box}
.jp-RenderedHTMLCommon img,figure.report-figure img{max-width:100%;height:auto}
figure.report-figure{margin:1.2rem 0 1.4rem;padding:0}
figure.report-figure \
figcaption{font-size:.9rem;color:var(--muted);margin-top:.35rem;max-width:48rem}
figure.report-figure figcaption b{color:var(--ink)}
.apa-table{margin:1.1rem 0 1.4rem;max-width:100%}
.apa-table p{margin:.1rem 0}
.apa-table table{font-size:13px}
.apa-table td.wrap{white-space:normal !important;min-width:14rem}
.jp-RenderedHTMLCommon .plain-table td,.jp-RenderedHTMLCommon .plain-table th{text-align:left}
.jp-RenderedHTMLCommon .plain-table td.num{text-align:right;white-space:nowrap}
.plain-table th{text-align:left;vertical-align:bottom;border-bottom:1px solid #000}
.plain-table table{border-top:1.5px solid #000;border-bottom:1.5px solid #000}
.plain-table td,.plain-table th{padding:3px 8px}
.jp-RenderedHTMLCommon .plain-table tbody tr:nth-child(odd){background:#f7f9fb}
.plain-table td:not(.num),.plain-table th{overflow-wrap:anywhere}
.apa-note{font-size:.85rem;color:#2d3748;max-width:100%;line-height:1.45}
.plain-table .caption{margin-bottom:.1rem}
.table-tools{display:flex;gap:.8rem;align-items:center;font-size:.85rem;color:var(--muted);\
margin:.2rem 0}
.table-tools input{font:inherit;padding:.15rem .4rem;border:1px solid \
#b8c2d1;border-radius:3px;width:14rem}
table.sortable th{cursor:pointer;user-select:none}
table.sortable th[aria-sort=ascending]::after{content:" \\25B2";font-size:.7em}
table.sortable th[aria-sort=descending]::after{content:" \\25BC";font-size:.7em}
tr.filtered-out{display:none}
footer.provenance{margin-top:2.5rem;color:#6b7280;font-size:.8rem;border-top:1px solid \
#e5e7eb;padding-top:.6rem;
  overflow-wrap:anywhere}
@page{size:A4;margin:16mm 15mm 18mm}
@media print{
  body.jp-Notebook main{max-width:none;padding:0}
  .jp-RenderedHTMLCommon,.jp-RenderedMarkdown{font-size:10.5pt}
  .jp-RenderedHTMLCommon table,.apa-table table{font-size:8.5pt}
  .jp-RenderedHTMLCommon td,.jp-RenderedHTMLCommon th{max-width:none}
  .table-tools{display:none !important}
  .apa-table td,.apa-table th{white-space:normal !important;padding-left:5px \
!important;padding-right:5px !important}
  tr.filtered-out{display:table-row !important}
  thead{display:table-header-group}
  tr,td,th,img,figure,blockquote,.apa-note,pre{break-inside:avoid;page-break-inside:avoid}
  figure.report-figure{break-inside:avoid}
  h1,h2,h3,h4,.apa-table>p:first-child{break-after:avoid;page-break-after:avoid}
  .apa-table>p{break-after:avoid}
  a{color:inherit;text-decoration:none}
  table.sortable th::after{content:"" !important}
}
"""
)

#: Sorting and filtering of long tables (``table.sortable``): embedded once per page, no library.
TABLE_JS = (
    r"""
(function(){
  function num(text){
    var t=text.replace(/\u2212/g,'-').replace(/,/g,'').trim();
    if(!t||t==='\u2013') return null;
    if(/^<\s*\.?\d/.test(t)) t=t.replace('<','').trim();
    if(/^>\s*\.?\d/.test(t)) t=t.replace('>','').trim();
    var m=t.match(/^-?\d*\.?\d+(e-?\d+)?/i);
    return m? parseFloat(m[0]) : NaN;
  }
  function setup(table){
    var body=table.tBodies[0]; if(!body) return;
    var rows=Array.prototype.slice.call(body.rows), heads=table.tHead? """
    r"""table.tHead.rows[table.tHead.rows.length-1].cells:[];
    var tools=document.createElement('div'); tools.className='table-tools';
    var box=document.createElement('input'); box.type='search'; box.placeholder='Filter rows\u2026';
    box.setAttribute('aria-label','Filter the rows of this table');
    var count=document.createElement('span'); """
    r"""count.textContent=rows.length+' rows; click a column header to sort';
    tools.appendChild(box); tools.appendChild(count);
    var holder=table.closest('.apa-table')||table; holder.parentNode.insertBefore(tools,holder);
    box.addEventListener('input',function(){
      var q=box.value.toLowerCase(), shown=0;
      rows.forEach(function(r){var hit=!q||r.textContent.toLowerCase().indexOf(q)>=0;
        r.classList.toggle('filtered-out',!hit); if(hit) shown++;});
      count.textContent=shown+' of '+rows.length+' rows';
    });
    Array.prototype.forEach.call(heads,function(th,col){
      th.tabIndex=0; th.setAttribute('aria-sort','none'); th.title='Sort by this column';
      function sort(){
        var dir=th.getAttribute('aria-sort')==='ascending'?-1:1;
        Array.prototype.forEach.call(heads,function(h){h.setAttribute('aria-sort','none');});
        th.setAttribute('aria-sort',dir===1?'ascending':'descending');
        var keyed=rows.map(function(r,i){var c=r.cells[col]; var s=c? c.textContent.trim():''; """
    r"""return [r,s,num(s),i];});
        var numeric=keyed.every(function(k){return k[2]===null||!isNaN(k[2]);});
        keyed.sort(function(a,b){
          if(numeric){ if(a[2]===null&&b[2]===null) return a[3]-b[3]; if(a[2]===null) return 1; """
    r"""if(b[2]===null) return -1;
            return (a[2]-b[2])*dir||a[3]-b[3]; }
          return a[1].localeCompare(b[1],undefined,{numeric:true})*dir||a[3]-b[3];
        });
        keyed.forEach(function(k){body.appendChild(k[0]);});
      }
      th.addEventListener('click',sort);
      th.addEventListener('keydown',"""
    r"""function(e){if(e.key==='Enter'||e.key===' '){e.preventDefault();sort();}});
    });
  }
  function init(){document.querySelectorAll('table.sortable').forEach(setup);}
  if(document.readyState==='loading') document.addEventListener('DOMContentLoaded',init); else """
    r"""init();
  window.addEventListener('beforeprint',function(){
    document.querySelectorAll('tr.filtered-out').forEach("""
    r"""function(r){r.classList.remove('filtered-out');});
  });
})();
"""
)

#: The nbconvert template: the lab template without anything it would fetch from a CDN (require.js,
#: MathJax, mermaid), with the page style and the table script inlined.
TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_css -%}<style type="text/css">{{ resources.research_css }}</style>{%- endblock \
html_head_css -%}
{% block footer_js %}<script>{{ resources.research_js }}</script>{% endblock footer_js %}
"""

#: ``src``/``href`` attributes and CSS ``url()``/``@import`` that a browser would fetch by itself.
_FETCHED = re.compile(
    r"""<(?:script|img|iframe|source|video|audio|embed|input)\b[^>]*?\bsrc\s*=\s*["']?\s*(?P<src>[^"'\s>]+)"""
    r"""|<link\b[^>]*?\bhref\s*=\s*["']?\s*(?P<href>[^"'\s>]+)"""
    r"""|@import\s+(?:url\()?\s*["']?(?P<imp>[^"')\s;]+)"""
    r"""|url\(\s*["']?(?P<url>[^"')\s]+)""",
    re.I,
)


def external_requests(html: str) -> list[str]:
    """Every address a page would fetch from another host by itself (scripts, images, style sheets,
    CSS ``url()`` and ``@import``, ``import("https://...")``); links a reader may follow are not
    counted.

    Examples
    --------
    >>> external_requests('<script src="https://cdn.x/a.js"></script>'
    ...                   '<img src="data:image/png;base64,AA">'
    ...                   '<a href="https://doi.org/10.1/x">doi</a>'
    ...                   '<style>@import url(http://f.y/c.css)</style>')
    ['https://cdn.x/a.js', 'http://f.y/c.css']
    """
    found = []
    for m in _FETCHED.finditer(html):
        value = next(v for v in m.groups() if v)
        if re.match(r"(?i)(https?:)?//", value) and not re.match(
            r"(?i)(https?:)?//(localhost|127\.0\.0\.1)\b", value
        ):
            found.append(value)
    found += re.findall(r"""import\(\s*["'](https?://[^"']+)""", html)
    return list(dict.fromkeys(found))


def html_exporter():
    """nbconvert's lab template with the code hidden, cells tagged ``remove_cell`` removed, and
    nothing fetched from another host (see :data:`TEMPLATE`).

    Its pages get the ``alt`` and ``tabindex`` attributes nbconvert's own ``HTMLExporter`` adds,
    without its BeautifulSoup pass over the whole page (see :func:`accessible`).
    """
    from jinja2 import DictLoader
    from nbconvert.preprocessors import TagRemovePreprocessor
    from traitlets.config import Config

    config = Config()
    config.TagRemovePreprocessor.remove_cell_tags = {"remove_cell"}
    config.TagRemovePreprocessor.enabled = True
    config.HTMLExporter.mathjax_url = ""
    config.HTMLExporter.require_js_url = ""
    config.HTMLExporter.optimistic_validation = True  # validate once, not after each preprocessor
    exporter = _exporter_class()(
        config=config,
        template_name="lab",
        extra_loaders=[DictLoader({"research_page.html.j2": TEMPLATE})],
        template_file="research_page.html.j2",
    )
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    exporter.exclude_anchor_links = True
    exporter.register_preprocessor(TagRemovePreprocessor(config=config), enabled=True)
    return exporter


@functools.cache
def _exporter_class():
    """``HTMLExporter`` whose pages are made accessible by :func:`accessible` instead of
    BeautifulSoup (defined on first use: importing nbconvert takes a while)."""
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class PageExporter(HTMLExporter):
        def from_notebook_node(self, nb, resources=None, **kw):
            """``HTMLExporter.from_notebook_node`` (nbconvert 7.16) with :func:`accessible` in
            place of its BeautifulSoup pass, which parses and rewrites the whole page."""
            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            highlight_code = self.filters.get(
                "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)
            )
            resources = self._init_resources(resources)
            filter_data_type = WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources
            )
            self.register_filter("highlight_code", highlight_code)
            self.register_filter("filter_data_type", filter_data_type)
            html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            html, missing_alt = accessible(html)
            if missing_alt:
                self.log.warning("Alternative text is missing on %s image(s).", missing_alt)
            return html, resources

    return PageExporter


#: The alt text nbconvert's ``HTMLExporter`` gives an image that has none.
NO_ALT = "No description has been provided for this image"

#: The ``<div>`` classes nbconvert's ``HTMLExporter`` makes focusable inside ``.jp-Notebook``.
FOCUSABLE = frozenset({"jp-Cell-inputWrapper", "jp-OutputArea-output"})


class _StartTags(HTMLParser):
    """Where :func:`accessible` inserts attributes, found with the tokenizer BeautifulSoup's
    ``html.parser`` uses (``<script>``, ``<style>``, comments and a quoted ``>`` read alike)."""

    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.inserts: list[tuple[int, int, str]] = []  # (line, column after the tag name, text)
        self.missing_alt = 0
        self._in_notebook = False

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)  # a repeated attribute: the last one, as BeautifulSoup keeps it
        classes = (values.get("class") or "").split()
        if tag == "body":
            self._in_notebook = "jp-Notebook" in classes
        elif tag == "img" and "alt" not in values:
            self._insert(tag, f' alt="{NO_ALT}"')
            self.missing_alt += 1
        elif (
            tag == "div"
            and self._in_notebook
            and FOCUSABLE.intersection(classes)
            and values.get("tabindex") != "0"
        ):
            self._insert(tag, ' tabindex="0"')

    def handle_endtag(self, tag):
        if tag == "body":
            self._in_notebook = False

    def _insert(self, tag: str, text: str) -> None:
        line, column = self.getpos()
        self.inserts.append((line, column + 1 + len(tag), text))


def accessible(html: str) -> tuple[str, int]:
    """``html`` with what nbconvert's ``HTMLExporter`` adds for keyboard and screen-reader users:
    ``alt`` (:data:`NO_ALT`) on every ``<img>`` without one and ``tabindex="0"`` on the ``<div>``
    of every cell input and output (:data:`FOCUSABLE`) in ``<body class="jp-Notebook">``. Returns
    the page and the number of images that had no alt text.

    nbconvert finds these elements by parsing the page with BeautifulSoup and writes the whole
    page out again (attributes sorted, entities and blank space rewritten); here the attribute is
    inserted right after the tag name and every other character is left as it is. A ``<div>`` with
    another ``tabindex`` keeps it after the inserted one, which is the one browsers use.

    Examples
    --------
    >>> accessible('<body class="jp-Notebook"><div class="jp-OutputArea-output x">')
    ('<body class="jp-Notebook"><div tabindex="0" class="jp-OutputArea-output x">', 0)
    >>> accessible('<img src="a.png"><script>"<img>"</script>')[0].replace(NO_ALT, "...")
    '<img alt="..." src="a.png"><script>"<img>"</script>'
    """
    tags = _StartTags()
    tags.feed(html)
    tags.close()
    if not tags.inserts:
        return html, 0
    line_starts = [0] + [m.end() for m in re.finditer("\n", html)]
    parts, done = [], 0
    for line, column, text in tags.inserts:
        at = line_starts[line - 1] + column
        parts += [html[done:at], text]
        done = at
    parts.append(html[done:])
    return "".join(parts), tags.missing_alt


def export_resources(title: str) -> dict:
    """The resources handed to :func:`html_exporter`'s ``from_notebook_node``: the title, style and
    script."""
    return {"metadata": {"name": title}, "research_css": PAGE_CSS, "research_js": TABLE_JS}


def digest(checksums: dict) -> str:
    """One SHA-256 over the raw folder's per-file checksums, for a one-line provenance stamp.

    Examples
    --------
    >>> digest({"a.csv": "00"})[:12]
    '9d3dd700e6a0'
    """
    return hashlib.sha256(json.dumps(checksums, sort_keys=True).encode()).hexdigest()


def provenance_footer(study_name: str, checksums: dict, when: str) -> str:
    """The footer of every page: toolkit version, study, raw files and the digest of their
    checksums, time."""
    from research import __version__

    return (
        f"<footer class='provenance'>research {escape(__version__)} · study “{escape(study_name)}” "
        f"· {len(checksums)} raw files, SHA-256 of their checksums {digest(checksums)[:16]}… · run "
        f"{escape(when)}</footer>"
    )


INDEX_CSS = (
    """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:"""
    + MAIN_WIDTH
    + """;margin:0 auto;
  padding:1.5rem 1.5rem \
3rem;color:#1d2433;line-height:1.5;box-sizing:border-box;overflow-wrap:break-word}
h1{font-size:1.9rem;margin-bottom:.2rem} h2{font-size:1.3rem;margin-top:2rem;border-bottom:1px \
solid #d9dee7}
.lead{color:#4a5568;margin-top:0} ol.reports li{margin:.6rem 0} ol.reports \
a{font-weight:600;font-size:1.1rem}
.q{color:#4a5568} a{color:#0b5394}
table{border-collapse:collapse;font-size:.85rem;max-width:100%}
td,th{border:1px solid #d9dee7;padding:.2rem .5rem;text-align:left;vertical-align:top}
td code{overflow-wrap:anywhere;word-break:break-all;font-size:.78rem}
ul.files{columns:2 18rem;padding-left:1.2rem} ul.files li{break-inside:avoid;margin:.1rem 0}
ul.figures{list-style:none;padding:0;display:grid;grid-template-columns:repeat(auto-fill,\
minmax(15rem,1fr));gap:.8rem}
ul.figures li{font-size:.85rem} ul.figures img{width:100%;height:auto;border:1px solid \
#e5e7eb;display:block;box-sizing:border-box}
pre.bibtex{background:#f6f8fa;border:1px solid #e5e7eb;padding:.6rem .8rem;white-space:pre-wrap;
  overflow-wrap:anywhere;font-size:.82rem}
footer.provenance{margin-top:2.5rem;color:#6b7280;font-size:.8rem;border-top:1px solid \
#e5e7eb;padding-top:.6rem;
  overflow-wrap:anywhere}
details{margin-top:1rem} summary{cursor:pointer}
@page{size:A4;margin:16mm 15mm 18mm}
@media print{body{max-width:none;padding:0;font-size:10.5pt} details>*{display:block}
  ul.figures{grid-template-columns:repeat(3,1fr)} li,tr,pre{break-inside:avoid} \
h2{break-after:avoid}}
"""
)


def figure_caption(path: Path) -> str:
    """The caption a figure was saved with (its PNG's ``Title`` text, see ``tables.save_figure``),
    else its file name in words."""
    return _caption(path, _png_text(path))


def _caption(path: Path, text: dict[str, str]) -> str:
    return text.get("Title", "") or path.stem.replace("_", " ")


#: The text chunks of a figure's PNG the index page shows: its caption and its alt text.
_PNG_KEYS = ("Title", "Description")


def _png_text(path: Path) -> dict[str, str]:
    """The :data:`_PNG_KEYS` text chunks of the PNG at ``path`` (none when it cannot be read).

    Opening a PNG, Pillow reads the chunks before the pixel data into ``image.info``;
    ``image.text`` also has those after it, but decodes every pixel to get there. Pillow and
    matplotlib write the text chunks first, so the pixels are decoded only for a PNG that lacks
    one of the two before its pixel data.
    """
    from PIL import Image

    try:
        with Image.open(path) as image:
            if all(key in image.info for key in _PNG_KEYS):
                return {key: image.info[key] for key in _PNG_KEYS}
            return {key: image.text[key] for key in _PNG_KEYS if key in image.text}
    except OSError:
        return {}


def index_page(pages: list[dict], out_dir: Path, study, checksums: dict, when: str) -> Path:
    """Write ``out_dir/index.html``: the reports in order, the figures, the Word tables and the
    REFI-QDA project when present, every CSV table, how to cite the toolkit (BibTeX) and the
    provenance (every raw file's SHA-256). Returns the path."""
    from research.report.methods import how_to_cite

    out_dir = Path(out_dir)
    warning = _one_side_warning(study)
    items = "\n".join(
        f"<li><a href='{escape(p['file'])}'>{escape(p['title'])}</a><br>"
        f"<span class='q'>{escape(p['question'])}</span></li>"
        for p in pages
    )
    downloads = _downloads(out_dir)
    figures = sorted((out_dir / "figures").glob("*.png"))
    figure_items = _figure_items(figures)
    tables = "\n".join(
        f"<li><a href='tables/{escape(p.name)}'>{escape(p.name)}</a></li>"
        for p in sorted((out_dir / "tables").glob("*.csv"))
    )
    files = "\n".join(
        f"<tr><td>{escape(k)}</td><td><code>{escape(v)}</code></td></tr>"
        for k, v in checksums.items()
    )
    cite = how_to_cite()
    n_companies = study.respondents["company_id"].nunique()
    page = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{escape(study.name)}: sales–marketing study reports</title><style>{INDEX_CSS}</style></head>
<body><main><h1>{escape(study.name)}</h1>{warning}<p class="lead">How marketing and sales see \
their relationship:
{len(study.respondents)} respondents from {n_companies} companies, {len(study.interviews)} \
interviews. Read the reports
in order; each opens with the question it answers.</p>
<ol class="reports">{items}</ol>
{"<h2>Files for the manuscript</h2><ul>" + "".join(downloads) + "</ul>" if downloads else ""}
<h2>Figures</h2>{f"<ul class='figures'>{figure_items}</ul>" if figures else "<p>No figures.</p>"}
<h2>Tables (CSV)</h2><p>Every table behind the reports, as CSV (UTF-8; text that a spreadsheet \
would run as a
formula starts with an apostrophe).</p><ul class="files">{tables}</ul>
<h2>How to cite</h2><p>{escape(cite["text"])}</p><pre class="bibtex">{escape(cite["bibtex"])}</pre>
<h2>Provenance</h2><p>The raw files of the study and their SHA-256 checksums, identical before and \
after the run.</p>
<table><tr><th>file</th><th>SHA-256</th></tr>{files}</table>
{provenance_footer(study.name, checksums, when)}
</main></body></html>"""
    path = out_dir / "index.html"
    path.write_text(page, "utf-8")
    return path


def _one_side_warning(study) -> str:
    """The index page's warning when a function has no respondent at all; empty otherwise."""
    from research.inputs.study import missing_functions
    from research.report.prose import one_side_terminal

    missing = missing_functions(study)
    return (
        "<p class='warning'><strong>Warning:</strong> "
        f"{escape(one_side_terminal(missing).removeprefix('warning: '))}</p>"
        if missing
        else ""
    )


def _downloads(out_dir: Path) -> list[str]:
    """List items linking the Word tables and the REFI-QDA project, those of them the run wrote."""
    downloads = []
    if (out_dir / "tables.docx").is_file():
        downloads.append(
            "<li><a href='tables.docx'>tables.docx</a>: every APA table of the reports in one Word "
            "file (report 07)</li>"
        )
    if (out_dir / "coded_study.qdpx").is_file():
        downloads.append(
            "<li><a href='coded_study.qdpx'>coded_study.qdpx</a>: the coded, pseudonymised "
            "interviews as a REFI-QDA project for NVivo, MAXQDA or ATLAS.ti (report 04)</li>"
        )
    return downloads


def _figure_items(figures: list[Path]) -> str:
    """One list item per figure: its thumbnail linked to the PNG, its name and its caption (the alt
    text is the caption when the PNG has no ``Description``)."""
    items = []
    for p in figures:
        text = _png_text(p)
        caption = _caption(p, text)
        items.append(
            f"<li><a href='figures/{escape(p.name)}'><img src='figures/{escape(p.name)}' "
            f"alt='{escape(text.get('Description', '') or caption)}'></a>{escape(p.stem)}: "
            f"{escape(caption)}</li>"
        )
    return "\n".join(items)
