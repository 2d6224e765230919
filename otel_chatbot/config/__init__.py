"""Configuration as data: the settings table and its resolution into :class:`Settings`."""

from otel_chatbot.config.keywords import SettingsKeywords
from otel_chatbot.config.settings import ConfigError, Settings, load_settings
from otel_chatbot.config.table import SETTINGS, Setting

__all__ = ["SETTINGS", "ConfigError", "Setting", "Settings", "SettingsKeywords", "load_settings"]
