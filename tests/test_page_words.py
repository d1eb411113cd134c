"""Every page an attendant or a manager can reach, walked in English and in pt-BR: no words
of the other language, no raw msgids or placeholders (tests/pagewords.py says what counts)."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from teams.models import Membership

from .pagewords import problems, walk

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db):
    call_command("seed_demo", "--no-key", stdout=StringIO())


@pytest.mark.parametrize("language", ["pt-br", "en"])
@pytest.mark.parametrize(("username", "start", "at_least"), [
    ("ana", "/inbox/", 4), ("gerente", "/manage/", 25),
])
def test_every_page_speaks_one_language(demo, language, username, start, at_least):
    membership = Membership.objects.get(user__username=username, organization__slug="demo")
    membership.language = language
    membership.save(update_fields=["language"])
    client = Client()
    client.force_login(membership.user)

    pages = walk(client, start)

    assert len(pages) >= at_least, sorted(pages)
    found = {url: found for url, html in pages.items() if (found := problems(html, language))}
    assert not found, "\n".join(f"{url}: {items}" for url, items in found.items())
