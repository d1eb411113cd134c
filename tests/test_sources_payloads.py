"""sources.payloads: each kind's platform payload becomes leads (pure functions, no database).

One test per definition, named after it; the samples are tests/fixtures/sources/.
"""

import base64
import hashlib
import hmac
import json
from pathlib import Path

import pytest

from sources import payloads
from sources.payloads import Refused, Request, Settings

FIXTURES = Path(__file__).parent / "fixtures" / "sources"


def sample(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def sign(secret: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


# --- form ------------------------------------------------------------------------------


def test_form_reads_the_default_portuguese_field_names_and_keeps_the_rest_as_custom():
    [contact] = payloads.form(Settings(), Request(data={
        "nome": "Ana", "E-mail": "ANA@Example.com", "whatsapp": "(11) 91234-5678",
        "interesse": "Plano anual", "csrfmiddlewaretoken": "x",
    }))
    assert (contact.name, contact.email, contact.phone) == (
        "Ana", "ana@example.com", "(11) 91234-5678")
    assert contact.custom == {"interesse": "Plano anual"}
    assert contact.external_id is None


def test_form_field_mapping_names_the_fields():
    settings = Settings(field_mapping={"name": "your_name", "email": "contact_mail"})
    [contact] = payloads.form(settings, Request(data={
        "your_name": "Bia", "contact_mail": "bia@example.com", "name": "not this one",
    }))
    assert (contact.name, contact.email) == ("Bia", "bia@example.com")
    assert contact.custom == {"name": "not this one"}


def test_form_without_email_and_phone_is_refused_with_400():
    with pytest.raises(Refused) as refused:
        payloads.form(Settings(), Request(data={"name": "Only a name"}))
    assert (refused.value.status, refused.value.code) == (400, "contact")


def test_form_invalid_email_is_kept_in_custom_when_a_phone_makes_the_lead():
    [contact] = payloads.form(Settings(), Request(data={"email": "not-an-email",
                                                        "phone": "11 91234 5678"}))
    assert contact.email == ""
    assert contact.custom["invalid_email"] == "not-an-email"


def test_honeypot_filled_in_is_spam_and_empty_is_not():
    settings = Settings(honeypot_field="website")
    assert payloads.is_spam(settings, {"website": "http://spam", "email": "a@b.co"})
    assert not payloads.is_spam(settings, {"website": "", "email": "a@b.co"})
    assert not payloads.is_spam(Settings(), {"website": "x"})


def test_form_extra_fields_never_refuse_and_are_bounded():
    data = {"email": "a@example.com", **{f"f{i}": "x" * 5000 for i in range(150)}}
    [contact] = payloads.form(Settings(), Request(data=data))
    assert len(contact.custom) == payloads.CUSTOM_MAX_KEYS
    assert all(len(v) == payloads.CUSTOM_VALUE_MAX for v in contact.custom.values())


# --- google_ads ------------------------------------------------------------------------


def test_google_ads_sample_becomes_a_lead_with_lead_id_as_external_id():
    data = sample("google_ads.json")
    [contact] = payloads.google_ads(Settings(google_key="my-google-key"), Request(data=data))
    assert contact.name == "Maria Souza"
    assert contact.email == "maria.souza@example.com"
    assert contact.phone == "+5511912345678"
    assert contact.external_id == f"google_ads:{data['lead_id']}"
    assert contact.custom["postal_code"] == "01310-100"
    assert contact.custom["service"] == "Paulista"
    assert contact.custom["campaign_id"] == 20000000000
    assert contact.custom["is_test"] is True
    assert contact.custom["gcl_id"] == "TeSter-123-gclid"


def test_google_ads_wrong_or_missing_key_is_refused_with_403():
    data = sample("google_ads.json")
    for settings in (Settings(google_key="another-key"), Settings(google_key="")):
        with pytest.raises(Refused) as refused:
            payloads.google_ads(settings, Request(data=data))
        assert (refused.value.status, refused.value.code) == (403, "google_key")


def test_google_ads_first_and_last_name_make_the_name():
    data = {"google_key": "k", "lead_id": "1", "user_column_data": [
        {"column_id": "FIRST_NAME", "string_value": "Rita"},
        {"column_id": "LAST_NAME", "string_value": "Lee"},
        {"column_id": "PHONE_NUMBER", "string_value": "+55 11 3333-4444"},
    ]}
    [contact] = payloads.google_ads(Settings(google_key="k"), Request(data=data))
    assert contact.name == "Rita Lee"


def test_google_ads_without_user_column_data_is_refused_with_400():
    with pytest.raises(Refused) as refused:
        payloads.google_ads(Settings(google_key="k"), Request(data={"google_key": "k"}))
    assert refused.value.status == 400


# --- rd_station ------------------------------------------------------------------------


def test_rd_station_conversion_webhook_makes_one_lead_per_entry():
    contacts = payloads.rd_station(Settings(), Request(data=sample("rd_station_legacy.json")))
    assert [c.email for c in contacts] == ["joao@example.com.br", "ana@example.com.br"]
    joao = contacts[0]
    assert joao.name == "João Pereira"
    assert joao.phone == "48 991234567"  # the mobile first
    assert joao.custom["cf_interesse"] == "Franquia"
    assert joao.custom["company"] == "Padaria Pão Quente"
    assert joao.custom["conversion"] == "contato"
    assert joao.external_id == (
        "rd_station:c2f3d2b3-7250-4d27-97f4-eef38be32f7f:2026-11-20T10:12:41.031-03:00")


def test_rd_station_event_shape_makes_a_lead_with_cf_fields_in_custom():
    [contact] = payloads.rd_station(Settings(), Request(data=sample("rd_station_event.json")))
    assert (contact.name, contact.email) == ("Carla Dias", "contato@example.com.br")
    assert contact.custom["cf_plano"] == ["Mensal"]
    assert contact.custom["event_identifier"] == "contato-site"
    assert contact.external_id.startswith("rd_station:c2f3d2b3")


def test_rd_station_entries_without_contact_are_skipped_and_all_missing_is_refused():
    data = {"leads": [{"name": "nobody"}, {"email": "ok@example.com", "uuid": "u"}]}
    contacts = payloads.rd_station(Settings(), Request(data=data))
    assert [c.email for c in contacts] == ["ok@example.com"]
    with pytest.raises(Refused):
        payloads.rd_station(Settings(), Request(data={"leads": [{"name": "nobody"}]}))
    with pytest.raises(Refused):
        payloads.rd_station(Settings(), Request(data={"something": "else"}))


# --- typeform --------------------------------------------------------------------------


def test_typeform_signature_is_hmac_sha256_base64_of_the_raw_body():
    body = b'{"a": 1}'
    assert payloads.typeform_signature_ok("s3cret", body, sign("s3cret", body))
    assert not payloads.typeform_signature_ok("s3cret", body, sign("other", body))
    assert not payloads.typeform_signature_ok("s3cret", body + b" ", sign("s3cret", body))
    assert not payloads.typeform_signature_ok("s3cret", body, "")


def test_typeform_sample_maps_answers_by_type_and_ref():
    body = (FIXTURES / "typeform.json").read_bytes()
    request = Request(data=json.loads(body), body=body,
                      headers={"Typeform-Signature": sign("tf-secret", body)})
    [contact] = payloads.typeform(Settings(typeform_secret="tf-secret"), request)
    assert (contact.name, contact.email, contact.phone) == (
        "Pedro Alves", "pedro@example.com", "+5521987654321")
    assert contact.external_id == "typeform:a3a12ec67a1365927098a606107fac15"
    assert contact.custom["orcamento"] == 15000
    assert contact.custom["servicos"] == ["Site", "Loja virtual"]
    assert contact.custom["urgente"] is True
    assert contact.custom["hidden_utm_source"] == "instagram"


def test_typeform_field_mapping_names_refs():
    body = (FIXTURES / "typeform.json").read_bytes()
    request = Request(data=json.loads(body), body=body,
                      headers={"Typeform-Signature": sign("k", body)})
    settings = Settings(typeform_secret="k", field_mapping={"name": "orcamento"})
    [contact] = payloads.typeform(settings, request)
    assert contact.name == "15000"
    assert contact.custom["nome"] == "Pedro Alves"


def test_typeform_wrong_signature_is_refused_with_403():
    body = (FIXTURES / "typeform.json").read_bytes()
    request = Request(data=json.loads(body), body=body,
                      headers={"Typeform-Signature": sign("wrong", body)})
    with pytest.raises(Refused) as refused:
        payloads.typeform(Settings(typeform_secret="tf-secret"), request)
    assert (refused.value.status, refused.value.code) == (403, "signature")


# --- generic ---------------------------------------------------------------------------


def test_generic_maps_json_paths_and_keeps_the_other_top_level_fields():
    settings = Settings(field_mapping={
        "name": "data.contact.full_name", "email": "data.contact.mail",
        "phone": "data.contact.mobile", "external_id": "id",
    })
    [contact] = payloads.generic(settings, Request(data=sample("generic.json")))
    assert (contact.name, contact.email, contact.phone) == (
        "Lucas Rocha", "lucas@example.com", "(31) 98888-7777")
    assert contact.external_id == "generic:evt_000123"
    assert contact.custom["utm_campaign"] == "natal"
    assert "id" not in contact.custom


def test_generic_without_mapping_reads_top_level_defaults():
    [contact] = payloads.generic(Settings(), Request(data={"email": "x@example.com", "a": 1}))
    assert contact.email == "x@example.com"
    assert contact.custom == {"a": 1}


def test_json_path_reads_keys_and_list_indexes():
    data = {"items": [{"email": "first@example.com"}]}
    assert payloads.json_path(data, "items.0.email") == "first@example.com"
    assert payloads.json_path(data, "items.3.email") is None
    assert payloads.json_path(data, "nope") is None


def test_long_platform_ids_are_hashed_to_fit_the_column():
    external_id = payloads._external_id("generic", "x" * 500)
    assert len(external_id) <= payloads.EXTERNAL_ID_MAX
    assert external_id == payloads._external_id("generic", "x" * 500)
