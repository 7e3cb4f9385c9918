import sys

from audit_lib.cli import main

sys.exit(main())
