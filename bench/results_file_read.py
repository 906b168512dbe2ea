"""How fast a ВПР/ОГЭ/ЕГЭ results file is read and checked (``deficits.results_file``).

Builds a file of N rows worded as a ФИС ОКО export, in each accepted encoding, and times
``read_results`` (decoding, KOI8-R check, alias matching, per-value scale checks, frame).
Usage: ``.venv/bin/python bench/results_file_read.py [--rows 20000]``.
"""

from __future__ import annotations

import argparse
import time

from deficits.results_file import read_results

HEADER = ("Логин ОО;Наименование ОО;АТЕ;Год;Процедура;Предмет;Класс;Кол-во участников;"
          "Средний балл;% не преодолевших минимальный порог\r\n")


def main() -> None:
    """Print rows per second for UTF-8, Windows-1251 and UTF-16 files of ``--rows`` rows."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=20_000)
    rows = parser.parse_args().rows
    text = HEADER + "".join(
        f"sch{n:06d};МБОУ «СОШ № {n}»;Казань;2025;ВПР;Математика;{4 + n % 8};{20 + n % 30};"
        f"3,{n % 10};{n % 40}\r\n" for n in range(rows))
    for encoding in ("utf-8", "cp1251", "utf-16"):
        data = text.encode(encoding)
        started = time.perf_counter()
        found = read_results(data)
        took = time.perf_counter() - started
        assert len(found.frame) == rows and not found.errors
        print(f"results file, {encoding:7} {rows:,} rows, {len(data) / 2**20:.1f} MB: "
              f"{took:.2f} s, {rows / took:,.0f} rows/s")


if __name__ == "__main__":
    main()
