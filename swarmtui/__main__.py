"""`python -m swarmtui` is the same as the `swarmtui` command."""

from swarmtui.cli import main

raise SystemExit(main())
