"""The real AWS CLI calling moto's STS with a profile served by ``broker credential-process``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

AWS = Path(sys.executable).with_name("aws")


def caller_identity(
    tmp_path: Path, profile: str, sts_url: str, aws_config: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``aws sts get-caller-identity --profile PROFILE`` with ``aws_config`` (by default one
    holding only that profile, whose credentials come from this checkout's
    ``broker credential-process``)."""
    if aws_config is None:
        aws_config = tmp_path / "aws-config"
        aws_config.write_text(
            f"[profile {profile}]\ncredential_process = {sys.executable} -m broker "
            f"credential-process --profile {profile}\nregion = us-east-1\n"
        )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {
        "AWS_CONFIG_FILE": str(aws_config),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        "PYTHONPATH": os.pathsep.join([str(REPO), *filter(None, [env.get("PYTHONPATH")])]),
    }
    return subprocess.run(
        [str(AWS), "sts", "get-caller-identity", "--profile", profile, "--endpoint-url", sts_url],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
