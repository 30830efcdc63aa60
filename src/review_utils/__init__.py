"""Build machinery and notebook helpers for the review book.

Kept import-light on purpose: the ``review`` command must decide in well under a second that
nothing needs rebuilding, so heavy libraries (pandas, papermill, Sphinx) load only where used.
"""

__version__ = "0.1.0"
