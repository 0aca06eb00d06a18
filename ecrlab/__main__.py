"""``python -m ecrlab``: the ``ecrlab`` command, for environments where its script is not on PATH."""

from ecrlab.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
