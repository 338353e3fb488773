"""The Clockify API client of the platform, its pagination helper and its distributed rate limiter."""
