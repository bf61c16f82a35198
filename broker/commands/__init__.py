"""Command groups of the ``broker`` command line, one module each (see ``broker.cli``)."""
