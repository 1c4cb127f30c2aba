"""groupscope: monthly batch analytics for a mobile operator's group customers."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("groupscope")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

# Libraries' INFO chatter (Great Expectations logs thousands of lines at import) is cut before any of
# them is imported, for the command line and Airflow tasks alike.
from groupscope.console import quiet_libraries as _quiet_libraries  # noqa: E402

_quiet_libraries()
