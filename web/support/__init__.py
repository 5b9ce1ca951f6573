"""What every screen shares: access by role, the request's database, formatting and language,
security headers, error pages, navigation, charts, diagrams, downloads and the editors' live check."""
