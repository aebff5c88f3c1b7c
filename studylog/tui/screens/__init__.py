"""Screens of the studylog app."""
