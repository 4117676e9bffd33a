"""``python -m pbr.cli``: the ``pbr`` command."""

from pbr.cli import main

raise SystemExit(main())
