"""python -m service validate [POLICY_DIR]: see service/cli/validate.py."""

import sys

from service.cli.validate import main

if __name__ == "__main__":
    sys.exit(main())
