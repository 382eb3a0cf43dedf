"""What a browser submits for a form left as it comes: the tests' way to use a page's form
as a person does, without filling anything in by hand."""

from html.parser import HTMLParser


class _FormReader(HTMLParser):
    def __init__(self, action: str) -> None:
        super().__init__()
        self.action = action
        self.inside = self.found = False
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None  # the name of the select being read
        self._options: list[tuple[str, bool]] = []  # its (value, selected) so far
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("action") == self.action and not self.found:
            self.inside = self.found = True
        if not self.inside or "disabled" in a:
            return
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind not in ("submit", "button", "image", "reset", "file"):
                self.fields.append((a["name"], a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select" and a.get("name"):
            self._select, self._options = a["name"], []
        elif tag == "option" and self._select is not None:
            self._options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self.fields.append((a["name"], ""))

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            name, text = self.fields[-1]
            self.fields[-1] = (name, text + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select is not None:
            chosen = [v for v, selected in self._options if selected] or [
                v for v, _ in self._options[:1]
            ]
            self.fields += [(self._select, v) for v in chosen]
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form" and self.inside:
            self.inside = False


def defaults(page: str, action: str) -> list[tuple[str, str]]:
    """The name/value pairs a browser sends for the first form posting to `action`, as the
    page offers it: inputs with their values, each select's selected (or first) option,
    checked boxes only, textareas' text; disabled fields and buttons left out."""
    reader = _FormReader(action)
    reader.feed(page)
    assert reader.found, f"no form with action={action!r} on the page"
    return reader.fields
