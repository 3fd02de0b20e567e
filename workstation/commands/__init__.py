"""CLI subcommands, one module per feature (see workstation.cli)."""
