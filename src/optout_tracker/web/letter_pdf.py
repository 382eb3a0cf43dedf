"""A letter as a PDF (fpdf2), with the content of its printable page."""

from ..paths import DATA_DIR
from ..services.notices import LetterView
from ..wording import long_day

FONTS = DATA_DIR / "fonts"  # DejaVu Sans: PDF's own fonts know Latin-1 only
FACE = "DejaVu"
LINE = 5.5  # mm, for 11 pt text


def letter_pdf(view: LetterView) -> bytes:
    """The letter on US Letter paper: letterhead, recipient and address, date, subject,
    text and signature line."""
    # Imported here: fpdf2 and fontTools hold 20 MB, which a server that prints no letter
    # need not keep.
    from fpdf import FPDF

    letter, j, agency = view.letter, view.j, view.agency
    pdf = FPDF(format="Letter", unit="mm")
    pdf.set_margins(25, 22, 25)
    pdf.set_auto_page_break(True, margin=22)
    pdf.add_font(FACE, "", FONTS / "DejaVuSans.ttf")
    pdf.add_font(FACE, "B", FONTS / "DejaVuSans-Bold.ttf")
    pdf.set_title(letter.subject or f"Letter {letter.id}")
    pdf.set_author(letter.signed_by or j.name)
    pdf.add_page()

    def lines(text: str, size: float = 11, style: str = "") -> None:
        pdf.set_font(FACE, style, size)
        pdf.multi_cell(0, LINE, text.expandtabs(4), new_x="LMARGIN", new_y="NEXT")

    lines(j.name, 14, "B")
    if letter.signed_by:
        lines(letter.signed_by, 10)
    pdf.ln(10)
    lines(agency.name, style="B")
    lines(agency.postal_address or "Postal address unknown")
    pdf.ln(6)
    lines(long_day(letter.sent_on))
    if letter.subject:
        pdf.ln(4)
        lines(f"Re: {letter.subject}", style="B")
    pdf.ln(6)
    if letter.body:
        lines(letter.body)
        pdf.ln(6)
    lines("Sincerely,")
    pdf.ln(16)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + 70, pdf.get_y())
    pdf.ln(2)
    lines("\n".join(view.signature))
    return bytes(pdf.output())
