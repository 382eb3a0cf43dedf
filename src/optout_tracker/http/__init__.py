"""Request plumbing shared by the pages and the API: the database session, settings, who is
calling and whether they may, the CSRF check, and errors as responses."""
