"""Small helpers the test modules share (fixtures live in conftest.py)."""

from django.test import Client


def client_for(membership) -> Client:
    """A test client signed in as ``membership``'s user."""
    client = Client()
    client.force_login(membership.user)
    return client
