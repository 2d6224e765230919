"""The distro's version, reported as ``telemetry.distro.version``."""

__version__ = "0.1.0"
