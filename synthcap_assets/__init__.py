"""synthcap's assets. Importing the package lets the one installed ANTLR runtime read both
Dagster's and smartnoise-sql's generated parsers (see ``synthcap_assets.antlr_atn``), and
quiets Dagster's beta/preview notices about the APIs our definitions use on purpose
(partitioned asset checks, multi-partition mappings; the README's "The UI" says so once):
a user opening the UI should see warnings about what they did, not about our choices."""

import warnings

from dagster_shared.utils.warnings import BetaWarning, PreviewWarning  # light: no dagster

from synthcap_assets.antlr_atn import install as _install_antlr_atn

for _category in (BetaWarning, PreviewWarning):
    warnings.filterwarnings("ignore", category=_category)

_install_antlr_atn()
