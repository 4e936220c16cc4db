"""``python -m gateway`` is the ``provgw`` command."""

from gateway.cli import main

main()
