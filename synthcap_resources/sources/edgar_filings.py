"""The ``edgar_filings`` connector: the documents of one company's filings (10-K, 8-K, ...)
filed on the partition's day, as text, one row per document with its metadata.

A read, through the ``http_api`` session (EDGAR's fair-access rules: a User-Agent with a
contact address, at most 10 requests a second shared by every SEC source and worker through
the ``sec.gov`` rate-limit group):

1. the filing index of the company, ``data.sec.gov/submissions/CIK##########.json``
   (``filings.recent`` as parallel arrays; the older pages in ``filings.files`` are read only
   when the day is older than the recent ones), filtered to the day and the spec's forms;
2. for each filing, its SGML header index ``Archives/edgar/data/<cik>/<accession>/
   <accession>-index-headers.html``: every document's type, sequence, file name and
   description;
3. each document of a wanted type and extension, turned into text (``web_fetch``:
   trafilatura, inline XBRL unwrapped).

Filings belong to the day they were filed on, so a re-run of a day reads the same filings
(the partition is replaced) and no filing lands on two days.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import html as html_lib
import re
from dataclasses import dataclass
from typing import Any

import polars as pl

from synthcap_resources.catalog import SourceSpec
from synthcap_resources.sources.base import (
    CaptureBatch,
    DateWindow,
    EmptySourceError,
    SourceReadError,
)
from synthcap_resources.sources.http_client import HttpSession, MalformedResponseError
from synthcap_resources.sources.web_fetch import WebConnector, fetch, html_to_text
from synthcap_resources.sources.web_spec import EdgarFilingsSpec

DOCUMENT_SCHEMA = {
    "cik": pl.Utf8,
    "company": pl.Utf8,
    "form": pl.Utf8,
    "accession_number": pl.Utf8,
    "filing_date": pl.Date,
    "report_date": pl.Date,
    "accepted_at": pl.Datetime("us", "UTC"),
    "document": pl.Utf8,
    "document_type": pl.Utf8,
    "sequence": pl.Int64,
    "description": pl.Utf8,
    "is_primary": pl.Boolean,
    "url": pl.Utf8,
    "size": pl.Int64,
    "text": pl.Utf8,
}
_DOCUMENT = re.compile(r"<DOCUMENT>(.*?)</DOCUMENT>", re.S)
_FIELD = re.compile(r"^<(TYPE|SEQUENCE|FILENAME|DESCRIPTION)>(.*)$", re.M)
_TAG = re.compile(r"<[^>]*>")
HTML_EXTENSIONS = (".htm", ".html")


@dataclass(frozen=True)
class Filing:
    accession: str
    form: str
    filing_date: str
    report_date: str
    accepted: str
    primary: str


@dataclass(frozen=True)
class Document:
    type: str
    sequence: int | None
    filename: str
    description: str


def header_documents(markup: str) -> list[Document]:
    """The documents an ``-index-headers.html`` page lists (its SGML, HTML-escaped in a
    ``<pre>``, file names as links)."""
    if "&lt;DOCUMENT&gt;" in markup:
        markup = html_lib.unescape(_TAG.sub("", markup))
    documents = []
    for block in _DOCUMENT.findall(markup):
        fields = {k: v.strip() for k, v in _FIELD.findall(block)}
        if not fields.get("FILENAME"):
            continue
        sequence = fields.get("SEQUENCE", "")
        documents.append(
            Document(
                type=fields.get("TYPE", ""),
                sequence=int(sequence) if sequence.isdigit() else None,
                filename=_TAG.sub("", fields["FILENAME"]).strip(),
                description=fields.get("DESCRIPTION", ""),
            )
        )
    return documents


def filings_on(columns: dict[str, list[Any]], day: str, forms: list[str]) -> list[Filing]:
    """The filings of ``forms`` filed on ``day``, from EDGAR's parallel arrays."""
    found = []
    for i, filed in enumerate(columns.get("filingDate", [])):
        form = columns["form"][i]
        if filed != day or form not in forms:
            continue
        found.append(
            Filing(
                accession=columns["accessionNumber"][i],
                form=form,
                filing_date=filed,
                report_date=(columns.get("reportDate") or [""] * (i + 1))[i],
                accepted=(columns.get("acceptanceDateTime") or [""] * (i + 1))[i],
                primary=(columns.get("primaryDocument") or [""] * (i + 1))[i],
            )
        )
    return found


def _date(value: str) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _accepted(value: str) -> dt.datetime | None:
    if not value:
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(dt.UTC)


class EdgarFilingsConnector(WebConnector):
    """Reads ``edgar_filings`` sources; one session per read."""

    kind = "edgar_filings"

    def _session(self, spec: SourceSpec, where: str) -> HttpSession:
        edgar: EdgarFilingsSpec = self.block(spec)
        return self.session(spec.id, edgar.http_api(edgar.data_base_url), where)

    def _json(self, session: HttpSession, url: str, what: str) -> dict[str, Any]:
        response = fetch(session, url, what)
        try:
            body = response.json()
        except ValueError as exc:
            raise MalformedResponseError(f"{session.where}: {what} {url} is not JSON") from exc
        if not isinstance(body, dict):
            raise MalformedResponseError(f"{session.where}: {what} {url} is not a JSON object")
        return body

    def filings(
        self, session: HttpSession, edgar: EdgarFilingsSpec, day: str
    ) -> tuple[str, list[Filing]]:
        """The company's name and its filings of the spec's forms on ``day``."""
        base = edgar.data_base_url.rstrip("/")
        url = f"{base}/submissions/CIK{int(edgar.cik):010d}.json"
        body = self._json(session, url, "filing index")
        try:
            recent = body["filings"]["recent"]
            pages = body["filings"].get("files", [])
            found = filings_on(recent, day, edgar.forms)
            dates = recent.get("filingDate", [])
            if not found and dates and day < min(dates):
                for page in pages:
                    if page["filingFrom"] <= day <= page["filingTo"]:
                        older = self._json(
                            session, f"{base}/submissions/{page['name']}", "filing index page"
                        )
                        found.extend(filings_on(older, day, edgar.forms))
        except (KeyError, TypeError, IndexError) as exc:
            raise MalformedResponseError(
                f"{session.where}: filing index {url} lacks EDGAR's filings.recent arrays "
                f"({type(exc).__name__}: {exc})"
            ) from exc
        return str(body.get("name", "")), found

    def check(self, spec: SourceSpec) -> None:
        edgar: EdgarFilingsSpec = self.block(spec)
        with self._session(spec, f"source {spec.id!r}") as session:
            base = edgar.data_base_url.rstrip("/")
            fetch(session, f"{base}/submissions/CIK{int(edgar.cik):010d}.json", "filing index")

    def read(
        self, spec: SourceSpec, window: DateWindow, cursor: dict[str, Any] | None = None
    ) -> CaptureBatch:
        """Every wanted document of the day's filings, as text."""
        edgar: EdgarFilingsSpec = self.block(spec)
        where = window.where(spec.id)
        day = window.day.isoformat()
        rows: list[dict[str, Any]] = []
        origins: list[str] = []
        with self._session(spec, where) as session:
            company, filings = self.filings(session, edgar, day)
            if not filings:
                raise EmptySourceError(
                    f"{where}: CIK {edgar.cik} filed no {', '.join(edgar.forms)} on {day}"
                )
            if len(filings) > edgar.max_filings:
                raise SourceReadError(
                    f"{where}: {len(filings)} filings on {day}, more than max_filings "
                    f"{edgar.max_filings}; raise it or narrow forms"
                )
            for filing in filings:
                folder = (
                    f"{edgar.archives_base_url.rstrip('/')}/Archives/edgar/data/"
                    f"{int(edgar.cik)}/{filing.accession.replace('-', '')}"
                )
                headers_url = f"{folder}/{filing.accession}-index-headers.html"
                documents = header_documents(fetch(session, headers_url, "filing header").text)
                if not documents:
                    raise MalformedResponseError(
                        f"{where}: filing header {headers_url} lists no documents"
                    )
                origins.append(headers_url)
                for doc in documents:
                    if not self._wanted(edgar, doc):
                        continue
                    url = f"{folder}/{doc.filename}"
                    response = fetch(session, url, f"{doc.type} document")
                    text = response.text
                    if doc.filename.lower().endswith(HTML_EXTENSIONS):
                        text = html_to_text(text)
                    rows.append(self._row(edgar, company, filing, doc, url, response, text))
        if not rows:
            raise EmptySourceError(
                f"{where}: the {len(filings)} filing(s) on {day} hold no document of types "
                f"{edgar.document_types} with extensions {edgar.extensions}"
            )
        return CaptureBatch(rows=pl.DataFrame(rows, schema=DOCUMENT_SCHEMA), origins=origins)

    @staticmethod
    def _wanted(edgar: EdgarFilingsSpec, doc: Document) -> bool:
        name = doc.filename.lower()
        return any(name.endswith(ext.lower()) for ext in edgar.extensions) and any(
            fnmatch.fnmatchcase(doc.type.upper(), t.upper()) for t in edgar.document_types
        )

    @staticmethod
    def _row(edgar, company, filing: Filing, doc: Document, url, response, text) -> dict:
        return {
            "cik": f"{int(edgar.cik):010d}",
            "company": company or None,
            "form": filing.form,
            "accession_number": filing.accession,
            "filing_date": _date(filing.filing_date),
            "report_date": _date(filing.report_date),
            "accepted_at": _accepted(filing.accepted),
            "document": doc.filename,
            "document_type": doc.type,
            "sequence": doc.sequence,
            "description": doc.description or None,
            "is_primary": doc.filename == filing.primary,
            "url": url,
            "size": len(response.content),
            "text": text,
        }
