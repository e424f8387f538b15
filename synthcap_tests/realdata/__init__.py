"""The real-data regression suite: package-shipped real tables through `synthcap materialize`."""
