"""One alias rule for every entry, however it comes in: typed, proposed from a certificate, or read from a backup."""

import pytest

from keystore import pfx
from keystore.aliases import CHANGED_CHARACTERS, CHANGED_CONTROLS, CHANGED_EMPTY, CHANGED_SHORTENED
from keystore.api import AliasError, check_alias, propose_alias, store_private_key, unused_alias
from keystore.backup import import_pkcs12
from keystore.models import KeystoreEntry
from portal.audit.log import COMMAND
from tests.keystore.helpers import certificate, der, rsa_key, store

PASSWORD = "backup password 123"


@pytest.mark.parametrize(
    ("alias", "message"),
    [
        ("   ", "Enter an alias."),
        ("a" * 65, "The alias is longer than 64 characters."),
        ("<script>", "Use letters, digits, spaces and . _ @ - in the alias, starting with a letter or digit."),
        ("-voice", "Use letters, digits, spaces and . _ @ - in the alias, starting with a letter or digit."),
        ("VOICE", "The alias 'VOICE' is already used in this keystore (aliases ignore case)."),
    ],
)
def test_refused_aliases_say_why(world, alias, message):
    store(world.acme, "voice", 0)
    with pytest.raises(AliasError) as refused:
        check_alias(world.acme, alias)
    assert str(refused.value) == message


def test_accepted_alias_is_stored_without_surrounding_spaces(world):
    store(world.acme, "voice", 0)
    assert check_alias(world.acme, "  voice 2025@acme.example ") == "voice 2025@acme.example"
    assert check_alias(world.acme, "a" * 64) == "a" * 64
    assert check_alias(world.globex, "voice") == "voice"  # another tenant's keystore


def test_unused_alias_fits_the_rule_and_is_numbered_when_taken(world):
    assert unused_alias(world.acme, "  Zürich / Ops!  ") == "Z-rich - Ops"
    assert unused_alias(world.acme, "///") == "certificate"
    store(world.acme, "voice", 0)
    store(world.acme, "Voice-2", 1)
    assert unused_alias(world.acme, "VOICE") == "VOICE-3"
    store_private_key(world.acme, alias="x" * 64, certificate_der=der(certificate(rsa_key(2))), private_key=rsa_key(2))
    assert unused_alias(world.acme, "x" * 70) == "x" * 62 + "-2"
    check_alias(world.acme, "x" * 62 + "-2")  # what it proposes, the rule accepts


def test_restored_alias_outside_the_rule_is_made_to_fit_and_reported(world):
    key = rsa_key(0)
    data = pfx.build_pfx([pfx.PfxEntry("ops:main (2024)", der(certificate(key)), key)], PASSWORD)
    report = import_pkcs12(world.acme, data, PASSWORD, on_entry=lambda entry: None, by=COMMAND)
    assert report.renamed == [("ops:main (2024)", "ops-main -2024", CHANGED_CHARACTERS)]
    assert "1 under a new alias" in report.summary
    assert list(KeystoreEntry.objects.values_list("alias", flat=True)) == ["ops-main -2024"]


@pytest.mark.parametrize(
    ("wanted", "alias", "reasons"),
    [
        ("voice", "voice", ()),
        ("  voice  ", "voice", ()),
        ("voice\n[x]", "voice-x", (CHANGED_CONTROLS, CHANGED_CHARACTERS)),
        ("voice\u202e", "voice", (CHANGED_CONTROLS,)),
        ("ops:main", "ops-main", (CHANGED_CHARACTERS,)),
        ("a" * 65, "a" * 64, (CHANGED_SHORTENED,)),
        ("\u2066\u2069", "certificate", (CHANGED_CONTROLS, CHANGED_EMPTY)),
    ],
)
def test_a_proposed_alias_names_each_rule_that_changed_it(world, wanted, alias, reasons):
    proposed = propose_alias(world.acme, wanted)
    assert (proposed.alias, proposed.reasons) == (alias, reasons)
    assert proposed.note == (f"Changed: {'; '.join(reasons)}." if reasons else "")
    check_alias(world.acme, proposed.alias)  # what it proposes, the rule accepts


def test_a_proposed_alias_says_taken_only_when_it_was(world):
    store(world.acme, "voice", 0)
    taken = propose_alias(world.acme, "VOICE")
    assert taken.alias == "VOICE-2"
    assert taken.reasons == ("'VOICE' is already taken in this keystore (aliases ignore case), so it was numbered",)
    long = propose_alias(world.acme, "v" * 80)
    assert long.reasons == (CHANGED_SHORTENED,)
