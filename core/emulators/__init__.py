"""Emulated FLOPY-NET sources (FL server, policy engine, SDN controller, GNS3) for tests and ``flcollector demo``.

Each is a real HTTP server serving the reference shapes, with fault modes that can be switched at run time.
"""
