"""The Dask door: a client for the cluster that profiles one partition larger than a machine.

``SYNTHCAP_DASK_ADDRESS`` (e.g. ``tcp://scheduler:8786``) names a running Dask scheduler;
unset, work runs in-process, one Delta file after another, and no Dask import happens. Only
Dask *inside* an asset is used: the Dagster Dask *executor* is not (two concurrent runs of one
job share task keys there, and the second reported success with nothing run: dagster #21418).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import dagster as dg

if TYPE_CHECKING:
    from distributed import Client

DASK_ADDRESS_ENV = "SYNTHCAP_DASK_ADDRESS"


class DaskConnectError(ConnectionError):
    """The configured Dask scheduler did not answer; the message names it and the variable."""


class DaskResource(dg.ConfigurableResource):
    """Where per-file work runs: the Dask scheduler at ``address``, or in-process when empty."""

    address: str = ""
    timeout_seconds: float = 30.0

    @classmethod
    def from_env(cls) -> DaskResource:
        """The resource as ``SYNTHCAP_DASK_ADDRESS`` configures it (in-process when unset)."""
        return cls(address=os.environ.get(DASK_ADDRESS_ENV, "").strip())

    @property
    def in_process(self) -> bool:
        return not self.address

    @contextmanager
    def client(self) -> Iterator[Client | None]:
        """A connected client for the duration of the block, or ``None`` in-process."""
        if self.in_process:
            yield None
            return
        from distributed import Client

        try:
            client = Client(self.address, timeout=self.timeout_seconds, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise DaskConnectError(
                f"Dask scheduler {self.address} ({DASK_ADDRESS_ENV}) did not answer within "
                f"{self.timeout_seconds:.0f}s: {exc}; start it or unset the variable to run "
                "in-process"
            ) from exc
        try:
            yield client
        finally:
            client.close()
