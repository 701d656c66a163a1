"""Reading generated PDFs in tests: the text runs with their printed size and font."""


def text_runs(page):
    """Every text run of a pypdf page: (text, size in points, font name)."""
    found = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            scale = (tm[0] ** 2 + tm[1] ** 2) ** 0.5 * (cm[0] ** 2 + cm[1] ** 2) ** 0.5
            found.append((text.strip(), round(size * scale, 2),
                          str(font.get("/BaseFont", "")) if font else ""))

    page.extract_text(visitor_text=visit)
    return found
