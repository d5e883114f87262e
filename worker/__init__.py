"""The pgqueuer worker: side effects (email, webhooks, digests, ticks).

Its entrypoints land with the communications issue; the queue schema it
drains (``queue``) is already installed by ``intime db migrate``.
"""
