"""``python -m ecoagent`` is the ``ecoagent`` command."""

from .cli import main

main()
