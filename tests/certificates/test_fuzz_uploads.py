"""Random and mutated uploads never cause a server error: every answer is the page with a message, a redirect
after saving, or the preview's JSON."""

from functools import cache

from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.certificates import pki
from tests.factories import upload_data


@cache
def valid_files() -> list[bytes]:
    cert, key = pki.make_self_signed()
    ca, ca_key = pki.make_ca()
    return [
        pki.pem(cert),
        pki.der(cert),
        pki.pem(ca),
        pki.key_pem_traditional(key),
        pki.key_pem_pkcs8(key),
        pki.key_pem_pkcs8_encrypted(key, "pw"),
        pki.key_der_pkcs8(key),
        pki.make_csr(),
        pki.make_crl(ca, ca_key),
        pki.make_p12(key, cert, b"pw"),
    ]


@st.composite
def mutated(draw) -> bytes:
    """A real file, then flipped, cut, spliced or padded."""
    data = bytearray(draw(st.sampled_from(valid_files())))
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "delete", "splice"]))
        position = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[position] ^= draw(st.integers(1, 255))
        elif kind == "cut":
            del data[position:]
        elif kind == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete":
            del data[position : position + draw(st.integers(1, 64))]
        else:
            data[position:position] = draw(st.sampled_from(valid_files()))
    return bytes(data)


files = st.one_of(st.none(), st.binary(max_size=512), mutated(), st.sampled_from(valid_files()))
texts = st.text(max_size=80)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cert=files, key=files, password=texts, alias=texts, carried=st.one_of(st.just(""), texts), preview=st.booleans())
def test_uploads_never_cause_a_server_error(world, client_for, cert, key, password, alias, carried, preview):
    client = client_for(world.alice)
    data = upload_data(cert, key, password=password, alias=alias, certificate_pem=carried)
    if preview:
        data["preview"] = "1"
    # The test client re-raises any exception a view lets through, so a server error fails here.
    response = client.post(reverse("certificate-upload", args=["acme"]), data)
    assert response.status_code in (200, 302)
    data = upload_data(cert, key, password=password, alias=alias, certificate_pem=carried)
    answer = client.post(reverse("certificate-preview", args=["acme"]), data, headers={"Accept": "application/json"})
    assert answer.status_code == 200
    assert set(answer.json()) == {"certificate", "key_details", "alias", "alias_note", "errors"}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(st.binary(max_size=512), mutated()))
def test_root_ca_uploads_never_cause_a_server_error(world, client_for, data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client_for(world.alice).post(
        reverse("rootca-add", args=["acme"]), {"certificate_file": SimpleUploadedFile("ca.pem", data)}
    )
    assert response.status_code in (200, 302)
