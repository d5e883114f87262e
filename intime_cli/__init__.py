"""The InTime shell: the command line, the demo, the seed and the cross-tenant probe.

The composition root: the only package that imports both ``web`` and ``worker``.
"""
