"""Read the database tables (CSV) that come with PTB-XL and LUDB."""

import csv

__all__ = ["read_csv"]


def read_csv(path, required):
    """Return the columns and the rows (dicts) of a CSV file that has the ``required`` columns.

    Raises
    ------
    ValueError
        If the file is missing or unreadable, or lacks a required column; the
        message names the file and the columns.
    """
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            columns = reader.fieldnames or []
            missing = [column for column in required if column not in columns]
            if missing:
                raise ValueError(
                    f"Database file {path} lacks the columns {missing} (its columns: {columns})."
                )
            return list(columns), list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ValueError(f"Cannot read database file {path}: {exc}") from exc
