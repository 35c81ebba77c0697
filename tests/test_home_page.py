"""The tenant home page, the least a signed-in page does: what it shows each role, what it reads and writes, and how
a session behaves across requests."""

from django.test import Client
from django.urls import reverse

from tests.conftest import PASSWORD, World

HOME = reverse("tenant-home", args=["acme"])


def signed_in(username: str) -> Client:
    client = Client()
    assert client.post(reverse("login"), {"username": username, "password": PASSWORD}).status_code == 302
    return client


def test_each_role_sees_its_own_sections_whoever_looked_first(world: World) -> None:
    """The sections are written once per tenant and role: another role's or another tenant's never answer."""
    admin = signed_in("alice").get(HOME).content.decode()
    professional = signed_in("pat").get(HOME).content.decode()
    support_acme = signed_in("sam").get(HOME).content.decode()
    support_globex = signed_in("sam").get(reverse("tenant-home", args=["globex"])).content.decode()
    keystore = reverse("keystore-home", args=["acme"])
    assert f'<h2><a href="{keystore}">Keystore</a></h2>' in admin
    assert keystore not in professional and keystore not in support_acme
    assert "Assign and unassign certificates" in professional and "Assign and unassign" not in admin
    assert reverse("certificate-list", args=["globex"]) in support_globex
    assert reverse("certificate-list", args=["acme"]) not in support_globex
