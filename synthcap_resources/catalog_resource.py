"""The source catalog as a Dagster resource (apart from ``catalog``, which stays Dagster-free)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from synthcap_resources.catalog import (
    DEFAULT_SOURCES_DIR,
    CatalogError,
    SourceSpec,
    load_catalog,
    parse_spec,
    scan_catalog,
)


class CatalogResource(dg.ConfigurableResource):
    """The source catalog as a Dagster resource: the folder of YAML specs."""

    folder: str = DEFAULT_SOURCES_DIR

    def specs(self) -> dict[str, SourceSpec]:
        return load_catalog(Path(self.folder))

    def scan(self) -> tuple[dict[str, SourceSpec], list[CatalogError]]:
        return scan_catalog(Path(self.folder))

    def get(self, source_id: str) -> SourceSpec:
        """The spec of ``source_id``; only its file is parsed, so a broken neighbour is harmless."""
        path = Path(self.folder) / f"{source_id}.yaml"
        if path.is_file():
            return parse_spec(path)
        specs, _ = self.scan()
        if source_id not in specs:
            raise CatalogError(
                f"source {source_id!r} is not in the catalog at {self.folder} "
                f"(known: {', '.join(sorted(specs)) or 'none'})"
            )
        return specs[source_id]
