"""The Rasa server's one entry point: settings, then the patches, then Rasa's own `rasa run`.

    python -m bot.entry --model models/model-<hash>.tar.gz [more `rasa run` arguments]

Started so by the supervisor (`make run`, systemd's ``--only rasa``) and by the launcher of the
tests, `make eval` and `make bench`; nothing else starts the Rasa server. In order:

1. the settings are read (`bot.settings.Settings`; a wrong value stops the start with its name)
   and written back into the environment, so that Rasa itself (``SANIC_WORKERS``, the
   ``${...}`` of endpoints.yml) and every module read the same values;
2. the log filter that masks ID-card and mobile numbers is installed (`bot.privacy`);
3. each patch of Rasa and Sanic in bot/patches/ is applied, unless ``PATCHES_OFF`` names it;
   each one checks the version it was written for first and stops the start on another;
4. `rasa run` is called in this process with the endpoints, credentials, address, port and API
   options of the settings, then the arguments given here (a later option wins).

Importing the channels, the stores or this module changes nothing in Rasa or Sanic.
"""
from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from typing import List, Optional, Sequence

ROOT = Path(__file__).resolve().parent.parent


def rasa_run_argv(settings, args: Sequence[str] = ()) -> List[str]:
    """The `rasa run` command line for these settings, then ``args``."""
    return ["run", "--endpoints", str(ROOT / "endpoints.yml"),
            "--credentials", str(ROOT / "bot" / "credentials.yml"),
            "-i", settings.rasa_host, "--port", str(settings.rasa_port),
            *settings.api_args(), *shlex.split(settings.rasa_extra_args), *args]


def prepare(env: Optional[dict] = None):
    """Steps 1-3: the settings, in the environment, with the log filter and the patches applied."""
    from bot import patches, privacy
    from bot.settings import Settings

    settings = Settings.from_env(env)
    os.environ.update(settings.env())
    privacy.install()
    patches.apply_all(settings)
    return settings


def main(argv: Optional[Sequence[str]] = None) -> int:
    from bot.patches import VersionMismatch
    from bot.settings import SettingError

    args = list(sys.argv[1:] if argv is None else argv)
    try:
        settings = prepare()
    except (SettingError, VersionMismatch) as e:
        print(f"The Rasa server was not started: {e}", file=sys.stderr)
        return 2
    from rasa.__main__ import main as rasa_main

    os.chdir(ROOT)
    sys.argv = ["rasa", *rasa_run_argv(settings, args)]
    rasa_main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
