"""Command-line tools for policy authors: `python -m service.policy validate|impact`."""
