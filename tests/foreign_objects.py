"""For the isolation test: how to make, in the *other* tenant (globex), the object a URL keyword names.

Every URL keyword of the project must be listed here; the isolation test fails and names any that is not, so a
new view cannot slip past it. A factory returns the value to put in the URL.
"""

from collections.abc import Callable

from tests.conftest import World

Factory = Callable[[World], str]

FACTORIES: dict[str, Factory] = {
    "tenant": lambda w: w.globex.slug,
}


def register(keyword: str) -> Callable[[Factory], Factory]:
    def add(factory: Factory) -> Factory:
        FACTORIES[keyword] = factory
        return factory

    return add


@register("certificate")
def _foreign_certificate(w: World) -> str:
    from tests.factories import save_certificate

    return str(save_certificate(w.globex).pk)


@register("waiting")
def _foreign_waiting_key(w: World) -> str:
    from tests.certificates.new_keys import waiting_key

    return str(waiting_key(w.globex, "Globex Recording").pk)


@register("rootca")
def _foreign_root_ca(w: World) -> str:
    from tests.certificates import pki
    from tests.factories import add_root

    return str(add_root(w.globex, pki.make_ca("Globex Root CA")[0]).pk)


@register("entry")
def _foreign_keystore_entry(w: World) -> str:
    from tests.factories import make_certificate

    return str(make_certificate(w.globex, "globex-entry", key_index=7).entry_id)


@register("profile")
def _foreign_ivr_profile(w: World) -> str:
    from ivr.models import IvrProfile

    return str(IvrProfile.objects.get(tenant=w.globex, name="record").pk)


@register("assignment")
def _foreign_ivr_assignment(w: World) -> str:
    from tests.factories import assigned_to_record

    return str(assigned_to_record(w.globex).pk)


@register("assignment_request")
def _foreign_assignment_request(w: World) -> str:
    from tests.factories import open_request

    return str(open_request(w.globex, w.bob).pk)


@register("batch")
def _foreign_decryption_batch(w: World) -> str:
    from datetime import timedelta

    from django.utils import timezone

    from recordings.models import DecryptionBatch

    batch = DecryptionBatch.objects.create(
        tenant=w.globex, created_by=w.bob, expires=timezone.now() + timedelta(hours=1)
    )
    return str(batch.pk)


@register("credential")
def _foreign_lkm_credential(w: World) -> str:
    from lkm.credentials import issue_credential
    from portal.audit.log import Actor

    return str(issue_credential(w.globex, by=Actor(w.bob), label="globex production").credential.id)


@register("job")
def _foreign_job(w: World) -> str:
    from portal.audit.log import Actor
    from portal.jobs import runner

    return str(runner.start("keystore.backup", tenant=w.globex, by=Actor(w.bob)).pk)
