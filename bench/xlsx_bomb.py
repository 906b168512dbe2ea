"""How fast an XLSX zip bomb is refused: ~1 MB files whose sheet unpacks to hundreds of MB.

Run: ``.venv/bin/python bench/xlsx_bomb.py``. Prints, per bomb, its size, what its sheet
unpacks to and how long ``tabular.read_table`` takes to refuse it, with the refusal.
"""

from __future__ import annotations

import io
import time
import zipfile

from openpyxl import Workbook

from tabular import read_table

ROW = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>' * 20_000


def bomb(unpacked_mb: int) -> bytes:
    """An XLSX whose first sheet is ``unpacked_mb`` MB of identical rows, deflated."""
    book = Workbook()
    book.active.append(["Код ОО", "Предмет"])
    plain = io.BytesIO()
    book.save(plain)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(plain.getvalue())) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            if name != "xl/worksheets/sheet1.xml":
                target.writestr(name, source.read(name))
                continue
            with target.open(name, "w", force_zip64=True) as sheet:
                sheet.write(b'<worksheet xmlns="http://schemas.openxmlformats.org/'
                            b'spreadsheetml/2006/main"><sheetData>')
                for _ in range(unpacked_mb * 1024 * 1024 // len(ROW)):
                    sheet.write(ROW)
                sheet.write(b"</sheetData></worksheet>")
    return out.getvalue()


def main() -> None:
    for unpacked_mb in (200, 575):
        data = bomb(unpacked_mb)
        started = time.perf_counter()
        table = read_table(data, name="bomb.xlsx")
        took = time.perf_counter() - started
        print(f"{len(data) / 2**20:.2f} MB file, sheet {unpacked_mb} MB unpacked: refused in "
              f"{took * 1000:.1f} ms — {table.errors[0].message if table.errors else 'READ'}")


if __name__ == "__main__":
    main()
