from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """People signing in: login with throttling, the lockout e-mail, and setting a password
    from an e-mailed link (password reset). Above ``teams``: it reads people and their
    organizations' language; nothing below imports it."""

    name = "accounts"
