"""Errors raised by the knowledge base."""


class KBError(Exception):
    """A data file is invalid, or a caller asked for something the knowledge base does not have.

    Load errors name the file and the field, e.g.
    ``clauses.yml: clauses[3].units[0]: unknown department 'xx'``.
    """
