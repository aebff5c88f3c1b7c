"""Widgets of the studylog app."""
