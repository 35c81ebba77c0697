"""Text that reads as what it holds: the one rule for characters that act on the text around them.

Control characters break lines (in a page, a CSV cell, a mail, a configuration file) or drive terminals
("\\x1b[31m"); Unicode direction controls reorder what follows them, so "invoice\\u202egnp.exe" reads
"invoiceexe.png". ``visible`` writes each such character as an escape in openssl's notation (``-nameopt
esc_ctrl,esc_msb``): ``\\0A``, ``\\1B``, ``\\85``, and ``\\U202E`` above U+00FF. Plain Python, no Django: the
certificate parser uses it as well as the pages.
"""

import re

# C0 controls, DEL and the C1 controls (NEL among them); ALM; LRM and RLM; the line and paragraph separators; the
# embeddings and overrides LRE, RLE, PDF, LRO, RLO; the isolates LRI, RLI, FSI, PDI.
_INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")
# The same, less the line breaks and tab a multi-line text field may hold.
_INVISIBLE_IN_LINES = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")

INVISIBLE_MESSAGE = (
    "Remove the control characters (such as line breaks) and text-direction characters: they are not allowed here."
)
INVISIBLE_IN_LINES_MESSAGE = (
    "Remove the control characters and text-direction characters; only line breaks and tabs are allowed here."
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\{code:02X}" if code <= 0xFF else f"\\U{code:04X}"


def visible(text: str, *, lines: bool = False) -> str:
    """``text`` with every control and direction character written as an escape; plain text is returned as is. With
    ``lines``, line breaks and tabs are kept (text of several lines, such as a description)."""
    return (_INVISIBLE_IN_LINES if lines else _INVISIBLE).sub(_escape, text)


def has_invisible(text: str, *, lines: bool = False) -> bool:
    """Whether ``text`` holds a control or direction character; with ``lines``, line breaks and tabs are allowed."""
    return (_INVISIBLE_IN_LINES if lines else _INVISIBLE).search(text) is not None
