"""The web application (ASGI): :func:`smscope.web.app.create_app` builds it, one module
or package of routers per area (``tracking`` serves the tracked links)."""
