"""Catalog block of a ``database`` source: one table of PostgreSQL or MariaDB/MySQL.

Only the shape lives here (pydantic, no I/O); ``database.py`` does the reading. Identifiers
(schema, table, columns, cursor column) must be plain SQL identifiers: anything else is refused
when the catalog is loaded, and the connector quotes them again with the driver's own quoting.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_$]*$"
IdentifierStr = Annotated[str, Field(pattern=IDENTIFIER, max_length=63)]


def is_identifier(name: str) -> bool:
    """True when ``name`` is a plain SQL identifier (letters, digits, ``_``, ``$``)."""
    return bool(re.fullmatch(IDENTIFIER, name)) and len(name) <= 63


class DatabaseSpec(BaseModel):
    """Where a database source's rows are and how a day's rows are chosen.

    - ``mode: full``: every row of the table, as a snapshot, into the day's partition.
    - ``mode: incremental`` with a date/timestamp ``cursor_column``: the rows whose cursor
      value lies in the day's window ``[day 00:00, next day 00:00)`` UTC.
    - ``mode: incremental`` with a numeric ``cursor_column`` (an id, a sequence): the rows
      whose cursor value is above the one stored after the last committed capture.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    engine: Literal["postgresql", "mysql"]
    # Environment variable holding the connection URL (with its password); never the URL itself.
    url_env: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
    schema_name: IdentifierStr | None = Field(default=None, alias="schema")
    table: IdentifierStr
    mode: Literal["full", "incremental"] = "full"
    cursor_column: IdentifierStr | None = None
    columns: list[IdentifierStr] | None = None

    @model_validator(mode="after")
    def _cursor_for_incremental(self) -> DatabaseSpec:
        if self.mode == "incremental" and not self.cursor_column:
            raise ValueError("an incremental database source needs 'cursor_column'")
        if self.columns is not None and not self.columns:
            raise ValueError("'columns' must name at least one column (or be left out)")
        return self
