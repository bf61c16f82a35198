"""Finding and reading the broker's configuration (``broker.toml`` and the directory beside it).

Each area validates its own section with a strict dataclass (``schema.from_table``), so unknown
keys are errors everywhere and every problem is reported with its file and key.
"""

from broker.config.loader import BrokerConfig, config_dir, data_dir, load_config
from broker.config.schema import ConfigIssue, ConfigIssues, from_table

__all__ = [
    "BrokerConfig",
    "ConfigIssue",
    "ConfigIssues",
    "config_dir",
    "data_dir",
    "from_table",
    "load_config",
]
