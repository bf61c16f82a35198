"""AWS IAM Identity Center as the upstream directory (``type = "aws-identity-center"``).

``broker login`` runs Identity Center's OIDC device authorization; the portal lists the
accounts and roles the person holds; the ``aws-identity-center`` minter asks for role
credentials. All through botocore's ``sso-oidc`` and ``sso`` clients, unsigned, as AWS's own
tools call them.
"""
