"""The service layer: what the web screens, the API and the CLI call, so all three behave alike.

Each function owns its transaction and returns plain view objects, never live ORM state.
"""
