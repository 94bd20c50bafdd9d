"""Command-line tools: `python -m service.cli.policy validate|impact` for policy authors."""
