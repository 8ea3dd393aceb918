"""Adapters that plug the plain-Python model manager into Django.

``store`` keeps jobs in the database (claims, leases, results in media storage) and
``publisher`` sends events over the Channels layer. The manager core (``generation.manager``)
only knows their protocols, so it imports, runs and tests without Django configured.
"""
