"""The concept pack: the concept file format and syncing ``content/`` into the database."""
