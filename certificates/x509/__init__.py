"""Reading X.509 certificates: plain functions over ``cryptography``, with no Django, so that every rule about what a
file is can be tested (and fuzzed) on bytes alone."""
