"""A letter as a PDF (fpdf2), with the content of its printable page."""

from ..i18n import gettext
from ..paths import DATA_DIR
from ..services.notices import LetterView

FONTS = DATA_DIR / "fonts"  # DejaVu Sans: PDF's own fonts know Latin-1 only
FACE = "DejaVu"
LINE = 5.5  # mm, for 11 pt text


def letter_pdf(view: LetterView) -> bytes:
    """The letter on US Letter paper: letterhead, recipient and address, date, subject,
    text and signature line, in the letter's language (a translation says so on top)."""
    # Imported here: fpdf2 and fontTools hold 20 MB, which a server that prints no letter
    # need not keep.
    from fpdf import FPDF

    letter, j, agency = view.letter, view.j, view.agency
    pdf = FPDF(format="Letter", unit="mm")
    pdf.set_margins(25, 22, 25)
    pdf.set_auto_page_break(True, margin=22)
    pdf.add_font(FACE, "", FONTS / "DejaVuSans.ttf")
    pdf.add_font(FACE, "B", FONTS / "DejaVuSans-Bold.ttf")
    pdf.set_title(view.subject or f"Letter {letter.id}")
    pdf.set_author(letter.signed_by or j.name)
    pdf.add_page()

    def lines(text: str, size: float = 11, style: str = "") -> None:
        pdf.set_font(FACE, style, size)
        pdf.multi_cell(0, LINE, text.expandtabs(4), new_x="LMARGIN", new_y="NEXT")

    if view.note:
        lines(view.note, 10, "B")
        pdf.ln(4)
    lines(j.name, 14, "B")
    if letter.signed_by:
        lines(letter.signed_by, 10)
    pdf.ln(10)
    lines(agency.name, style="B")
    lines(agency.postal_address or gettext("Postal address unknown"))
    pdf.ln(6)
    lines(view.date)
    if view.regarding:
        pdf.ln(4)
        lines(view.regarding, style="B")
    pdf.ln(6)
    if view.body:
        lines(view.body)
        pdf.ln(6)
    lines(view.closing)
    pdf.ln(16)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + 70, pdf.get_y())
    pdf.ln(2)
    lines("\n".join(view.signature))
    return bytes(pdf.output())
