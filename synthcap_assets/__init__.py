"""synthcap's assets. Importing the package lets the one installed ANTLR runtime read both
Dagster's and smartnoise-sql's generated parsers (see ``synthcap_assets.antlr_atn``)."""

from synthcap_assets.antlr_atn import install as _install_antlr_atn

_install_antlr_atn()
