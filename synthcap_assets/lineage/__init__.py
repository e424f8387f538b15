"""OpenLineage for synthcap: facets (``facets``), events (``events``), the hooks that record what
each asset and check read and wrote (``tracking``), and the ``synthcap lineage`` command
(``graph``, ``cli``). Delivery is ``synthcap_resources.lineage``."""
