"""Scheduling: typed settings, per-card FSRS, the daily queue, undo, whole-collection FSRS.

One rule holds in this package: no SQL in the math and no math in the SQL.
Everything here is plain Python and NumPy over values and arrays; reading and
writing rows is :mod:`studylog.storage`'s job.
"""
