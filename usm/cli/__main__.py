"""``python -m usm.cli``: the same as the ``usm`` command."""

from usm.cli import main

main()
