"""Track opt-out campaigns from Secure Communities."""
