"""The identity store and the identity → account-assignment mapping (IAM Identity Center).

The configuration under ``<config>/directory/*.toml`` (+ ``<config>/policies/*.json``) is the
source of truth; ``load_directory`` validates it into a snapshot stored in the state database
(SQLite in the data directory, or PostgreSQL shared by replicas), one per configuration
fingerprint, and queries an in-memory copy of it. The front end opens the state and passes its
database (``broker.sts.directory_state.open_directory`` does both for a front end that needs
only the directory).

Interface for STS, the TUI and the commands (all results are frozen dataclasses)::

    load_directory(config_dir: Path, database: Database) -> Directory
    Directory.resolve_user(claims) -> User             # identity mapping; JIT or DirectoryError
    Directory.assignments_for(claims) -> list[Assignment]
    Directory.assignments_of(user) -> list[Assignment]
    Directory.user(name) -> User
    Directory.role(account_id, role_name) -> Role      # trust, permission, boundary docs
    Directory.scp_hierarchy(account_id) -> list[list[dict]]   # root, OUs..., account
    Directory.is_management_account(account_id) -> bool
    Directory.principal_tags(user) -> Mapping[str, str]
    Directory.identity_policies(user) -> list[dict]    # a service user's own + its groups'
    Directory.user_arn(name) -> str                    # arn:aws:iam::<management>:user/<name>
    Directory.oidc_provider(account_id, issuer) -> OidcProvider | None   # IAM OIDC provider
    Directory.saml_provider(arn) -> SamlProvider | None                  # IAM SAML provider
    Directory.oidc_providers() / saml_providers() -> list[...]

``Assignment``: account id + name, permission set, role name + ARN
(``arn:aws:iam::<id>:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_<PS>_<16 hex>``),
max session duration (s), ``via`` ("direct" or "group NAME"). A provisioned role's trust
policy admits only the federated principal
``arn:aws:iam::<id>:saml-provider/AWSSSO_AccessBroker_DO_NOT_DELETE`` (``naming.py``).
Errors: ``InvalidDirectoryError`` (a ``ConfigError``) for a bad configuration,
``DirectoryError`` for an unknown user / account / role or a refused identity.
"""

from broker.directory.directory import Directory
from broker.directory.federation import OidcProvider, SamlProvider
from broker.directory.identity import IdentityMapping
from broker.directory.load import load_directory
from broker.directory.rules import Finding
from broker.directory.source import Source
from broker.directory.validate import InvalidDirectoryError, Report, validate
from broker.directory.values import Account, Assignment, Group, PermissionSet, Role, User

__all__ = [
    "Account",
    "Assignment",
    "Directory",
    "Finding",
    "Group",
    "IdentityMapping",
    "InvalidDirectoryError",
    "OidcProvider",
    "PermissionSet",
    "Report",
    "Role",
    "SamlProvider",
    "Source",
    "User",
    "load_directory",
    "validate",
]
