"""``python -m pbr.cli``: the ``pbr`` command, as ``python -m pbr`` runs it (`pbr._entry`)."""

from pbr._entry import main

raise SystemExit(main())
