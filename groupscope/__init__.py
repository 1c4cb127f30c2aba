"""groupscope: monthly batch analytics for a mobile operator's group customers."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("groupscope")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"
