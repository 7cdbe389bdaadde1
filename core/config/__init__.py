"""The site config: typed schema, located-error loader, secret references."""

from core.config.base import SecretRef
from core.config.loader import ConfigError, Issue, load_config
from core.config.schema import SiteConfig, Station, Tag

__all__ = ["ConfigError", "Issue", "SecretRef", "SiteConfig", "Station", "Tag", "load_config"]
