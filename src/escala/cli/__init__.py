"""The `escala` command: thin Typer modules that parse flags and call the library."""
