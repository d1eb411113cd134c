from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Ways in: login with throttling, the lockout e-mail, password reset, invitations to an
    organization, switching between one's organizations, and the sign-up of a new one (with
    ``create_org`` for operators). Above ``teams``: it reads and makes people, organizations
    and memberships; ``leads`` asks it whether an organization receives leads yet."""

    name = "accounts"
