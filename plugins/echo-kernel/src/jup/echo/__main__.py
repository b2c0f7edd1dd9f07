"""`python -m jup.echo -f CONNECTION_FILE`: run the echo kernel until it is shut down."""

from jup.echo.kernel import EchoKernel

raise SystemExit(EchoKernel.main())
