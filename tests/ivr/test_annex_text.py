"""The Annex section a professional pastes into the Configuration Server holds exactly one section and one option per
certificate, whatever the tenant, the profile or the aliases are called. The forms refuse names that could break it;
rows written directly (bypassing them) show the renderer holds on its own."""

import re

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from django.urls import reverse

from ivr import services
from ivr.models import ANNEX_SECTION, IvrProfile
from keystore.models import KeystoreEntry
from tests.conftest import World
from tests.factories import assign_to_ivr, make_certificate

BASE64_LINE = re.compile(r"[A-Za-z0-9+/]{1,64}={0,2}")

HOSTILE_NAMES = [
    "rec'\n[other-section]\nx=y",
    "rec\r[other-section]\rx=y",
    "rec\r\nx=y",
    "rec\u2028[other-section]\u2029x=y",
    "rec\x85x=y\x0bz=1\x0c[s]",
    "rec\x1c[a]\x1d[b]\x1e[c]",
    "rec\u202e]x[\u2066=\u2069\x7f",
]


def read_as_configuration_server(text: str) -> dict[str, dict[str, str]]:
    """Sections and their options, as an INI reader takes them, splitting lines on every line break any tool might
    honour. A value that starts a PEM block runs to its END line (base64 lines between); any other line must be a
    comment, a section header or a ``name=value`` option, else the reader gives up."""
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    open_option: str | None = None
    for line in text.splitlines():
        if open_option is not None:
            assert current is not None
            assert line == "-----END CERTIFICATE-----" or BASE64_LINE.fullmatch(line), f"not PEM: {line!r}"
            current[open_option] += "\n" + line
            if line == "-----END CERTIFICATE-----":
                open_option = None
        elif not line.strip() or line.startswith(("#", ";")):
            continue
        elif line.startswith("[") and line.endswith("]"):
            assert line[1:-1] not in sections, f"section twice: {line!r}"
            current = sections[line[1:-1]] = {}
        elif "=" in line:
            assert current is not None, f"option outside a section: {line!r}"
            name, value = line.split("=", 1)
            assert name.lower() not in {n.lower() for n in current}, f"option twice: {name!r}"
            current[name] = value
            if value == "-----BEGIN CERTIFICATE-----":
                open_option = name
        else:
            raise AssertionError(f"line not understood: {line!r}")
    assert open_option is None, "a PEM value never ends"
    return sections


def annex_of(profile: IvrProfile) -> str:
    assignments = list(profile.assignments.select_related("certificate__entry").order_by("assigned_at"))
    return services.annex_text(profile, services.annex_options(assignments))


def assert_one_option_per_certificate(text: str, profile: IvrProfile) -> dict[str, str]:
    sections = read_as_configuration_server(text)
    assert list(sections) == [ANNEX_SECTION]
    options = sections[ANNEX_SECTION]
    expected = sorted(bytes(a.certificate.entry.certificate_der) for a in profile.assignments.all())
    found = sorted(
        x509.load_pem_x509_certificate(value.encode()).public_bytes(Encoding.DER) for value in options.values()
    )
    assert found == expected
    return options


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_hostile_profile_name_stays_in_its_comment_line(world: World, name: str) -> None:
    first = make_certificate(world.acme, "rec-2026")
    second = make_certificate(world.acme, "rec-2027", key_index=1)
    profile = IvrProfile.objects.create(tenant=world.acme, name=name, dbid=42)  # as no form would allow
    for certificate in (first, second):
        assign_to_ivr(certificate, profile_name=name)
    text = annex_of(profile)
    options = assert_one_option_per_certificate(text, profile)
    assert sorted(options) == ["rec-2026", "rec-2027"]
    assert text.startswith("# Tenant 'acme', IVR profile 'rec")
    assert len(text.splitlines()[0].split("(DBID 42)")) == 2


def test_a_hostile_tenant_slug_stays_in_its_comment_line(world: World) -> None:
    assignment = assign_to_ivr(make_certificate(world.acme, "rec-2026"))
    world.acme.slug = (
        "acme\n[other-section]\nx=y\x00"  # never saved: slugs are checked, the renderer does not rely on it
    )
    assignment.profile.tenant = world.acme
    text = annex_of(assignment.profile)
    assert assert_one_option_per_certificate(text, assignment.profile).keys() == {"rec-2026"}
    assert "# Tenant 'acme\\0A[other-section]\\0Ax=y\\00', IVR profile 'record'" in text


@pytest.mark.parametrize(
    ("aliases", "names"),
    [
        (["x=y\n[other]\nz", "plain"], ["x-y-other-z", "plain"]),
        (["#comment", "[section]"], ["comment", "section"]),
        (["a\u202eb", "a\u2028b"], ["a-b", "a-b-2"]),
        (["Same", "same\u202e", "\x1b"], ["Same", "same-2", "certificate"]),
        (["", " =" * 32], ["certificate", "certificate-2"]),
    ],
)
def test_hostile_aliases_make_one_option_each(world: World, aliases: list[str], names: list[str]) -> None:
    profile = IvrProfile.objects.get(tenant=world.acme, name="record")
    for index, alias in enumerate(aliases):
        certificate = make_certificate(world.acme, f"cert-{index}", key_index=index)
        # Written past the alias rule, as no upload or restore can.
        KeystoreEntry.objects.filter(pk=certificate.entry_id).update(alias=alias)
        assign_to_ivr(certificate)
    options = assert_one_option_per_certificate(annex_of(profile), profile)
    assert list(options) == names


def test_the_annex_download_and_the_profile_page_hold(world: World, client_for) -> None:
    profile = IvrProfile.objects.create(tenant=world.acme, name="rec\n[evil]\u202e", dbid=9)
    certificate = make_certificate(world.acme, "rec-2026")
    assign_to_ivr(certificate, profile_name=profile.name)
    KeystoreEntry.objects.filter(pk=certificate.entry_id).update(alias="rec\n[evil]=1")
    client = client_for(world.pat)
    download = client.get(reverse("ivr-profile-annex", args=["acme", profile.pk]))
    assert download.status_code == 200
    assert list(assert_one_option_per_certificate(download.content.decode(), profile)) == ["rec-evil-1"]
    page = client.get(reverse("ivr-profile-detail", args=["acme", profile.pk])).content.decode()
    assert "Option <code>rec-evil-1</code>" in page
    assert "IVR profile rec\\0A[evil]\\U202E" in page and "\u202e" not in page
    listing = client.get(reverse("ivr-profile-list", args=["acme"])).content.decode()
    assert "rec\\0A[evil]\\U202E</a>" in listing


@pytest.mark.parametrize(
    ("name", "description"),
    [
        ("rec\n[other-section]", "EU"),
        ("rec\u202e", "EU"),
        ("rec\x1b[31m", "EU"),
        ("rec", "two\nlines\u2066 isolated"),
        ("rec", "bell\x07"),
    ],
)
def test_the_profile_form_refuses_control_and_direction_characters(
    world: World, client_for, name: str, description: str
) -> None:
    response = client_for(world.pat).post(
        reverse("ivr-profile-add", args=["acme"]), {"name": name, "dbid": "4711", "description": description}
    )
    assert response.status_code == 200  # the form again, with the message
    assert "Remove the control characters" in response.content.decode()
    assert not IvrProfile.objects.filter(dbid=4711).exists()


def test_the_profile_form_keeps_line_breaks_in_the_description(world: World, client_for) -> None:
    response = client_for(world.pat).post(
        reverse("ivr-profile-add", args=["acme"]),
        {"name": "record-eu", "dbid": "4711", "description": "EU calls\r\nsince 2026\tonly"},
    )
    assert response.status_code == 302
    saved = IvrProfile.objects.get(dbid=4711)
    assert saved.description == "EU calls\r\nsince 2026\tonly"
