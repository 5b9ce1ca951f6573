"""BIR: the managed-infrastructure register. Items, classes, relations and their full history.

Reads live in ``queries``/``impact``; the only writer is ``writer.apply_change_set``, called by the
CHM engine at implementation. ``bir`` imports nothing from ``workflows``, ``usm`` or ``web``.
"""
