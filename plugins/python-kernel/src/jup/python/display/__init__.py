"""The display protocol: rich objects, `display()`, handles, and the formatter that makes bundles."""

from jup.python.display.functions import (
                                          DisplayHandle,
                                          clear_output,
                                          display,
                                          display_html,
                                          display_javascript,
                                          display_jpeg,
                                          display_json,
                                          display_latex,
                                          display_markdown,
                                          display_pdf,
                                          display_png,
                                          display_pretty,
                                          display_svg,
                                          publish_display_data,
                                          update_display,
)
from jup.python.display.objects import (
                                          HTML,
                                          JSON,
                                          SVG,
                                          Code,
                                          DisplayObject,
                                          FileLink,
                                          FileLinks,
                                          IFrame,
                                          Image,
                                          Javascript,
                                          Latex,
                                          Markdown,
                                          Math,
                                          Pretty,
                                          TextDisplayObject,
)

__all__ = [
    "HTML", "JSON", "SVG", "Code", "DisplayHandle", "DisplayObject", "FileLink", "FileLinks", "IFrame",
    "Image", "Javascript", "Latex", "Markdown", "Math", "Pretty", "TextDisplayObject", "clear_output",
    "display", "display_html", "display_javascript", "display_jpeg", "display_json", "display_latex",
    "display_markdown", "display_pdf", "display_png", "display_pretty", "display_svg",
    "publish_display_data", "update_display",
]
