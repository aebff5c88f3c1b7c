"""Bringing data in and taking it out: review logs, notes, Anki packages, CSV, JSON backups."""
