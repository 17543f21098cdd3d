"""Subcommands of the ``boneflare`` command line, one module each."""
