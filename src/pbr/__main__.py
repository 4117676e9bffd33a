"""``python -m pbr``: the ``pbr`` command (Ctrl-C while it loads handled, `pbr._entry`)."""

from pbr._entry import main

raise SystemExit(main())
