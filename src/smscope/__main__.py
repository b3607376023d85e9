"""``python -m smscope`` runs the command line."""

from smscope.cli import main

main()
