"""`python -m escala` is the same as the `escala` command."""

from escala.cli.main import main

main()
