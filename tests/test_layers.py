"""The apps' layers (STYLE.md): a lower app never imports a higher one.

The contract is ``[tool.importlinter]`` in pyproject.toml, checked by import-linter's
``lint-imports`` over the source as it stands.
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_apps_import_only_the_layers_below_them():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout
