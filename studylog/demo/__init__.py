"""Demos: the output API (:mod:`studylog.demo.api`), the sandboxed runner, rendering.

Kept import-light: a demo's child process imports ``studylog.demo.api`` only.
"""
