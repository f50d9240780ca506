"""Login, startup checks and security headers."""
