"""``python -m broker`` runs the same command line as the ``broker`` script."""

from broker.cli import main

raise SystemExit(main())
