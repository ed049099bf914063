"""Customers: creation rules, reserved numbers, searches, list vs single shapes."""

from __future__ import annotations

from aourly_fortnox.sandbox.testing import RunningSandbox

from .conftest import DB, ApiCall, error_of


def test_create_answers_201_with_a_bare_location(api: ApiCall) -> None:
    answer = api(
        "POST",
        "customers",
        json={
            "Customer": {
                "CustomerNumber": "AOU42",
                "Name": "Kund AB",
                "OrganisationNumber": "556677-8899",
                "Email": "ekonomi@kund.se",
                "Type": "COMPANY",
                "VATType": "SEVAT",
                "CountryCode": "SE",
                "ExternalReference": "aourly:42",
                "SalesAccount": 3001,
            }
        },
    )
    assert answer.status_code == 201 and answer.headers["Location"] == "customers"
    customer = answer.json()["Customer"]
    assert customer["CustomerNumber"] == "AOU42" and customer["Active"] is True
    assert customer["Address1"] is None and customer["City"] is None  # new: null, not ""
    assert customer["SalesAccount"] == 3001  # the create answer echoes the number...
    fetched = api("GET", "customers/AOU42").json()["Customer"]
    assert fetched["SalesAccount"] == "3001"  # ...a later GET has the string (recorded)
    assert fetched["ExternalReference"] == "aourly:42"
    assert fetched["@url"].endswith("/3/customers/AOU42")


def test_only_name_is_required_and_numbers_are_assigned(api: ApiCall) -> None:
    assert error_of(api("POST", "customers", json={"Customer": {"Email": "a@b.se"}})) == (
        400,
        2001795,
    )
    first = api("POST", "customers", json={"Customer": {"Name": "Utan Nummer"}}).json()
    second = api("POST", "customers", json={"Customer": {"Name": "Också Utan"}}).json()
    assert first["Customer"]["CustomerNumber"] == "3"  # seeded 1 and 2
    assert second["Customer"]["CustomerNumber"] == "4"


def test_customer_number_reserved_forever(sandbox: RunningSandbox, api: ApiCall) -> None:
    api("POST", "customers", json={"Customer": {"CustomerNumber": "AOU7", "Name": "Sju AB"}})
    taken = api("POST", "customers", json={"Customer": {"CustomerNumber": "AOU7", "Name": "X"}})
    assert error_of(taken) == (400, 2000637)
    assert taken.json()["ErrorInformation"]["message"] == "Kundnummer AOU7 används redan."
    sandbox.admin("DELETE", f"/companies/{DB}/customers/AOU7")
    assert error_of(api("GET", "customers/AOU7")) == (404, 2000433)
    left = sandbox.admin("GET", f"/companies/{DB}/customers")
    again = api("POST", "customers", json={"Customer": {"CustomerNumber": "AOU7", "Name": "Y"}})
    assert error_of(again) == (400, 2000637)
    assert error_of(api("GET", "customers/AOU7")) == (404, 2000433)  # still gone
    assert sandbox.admin("GET", f"/companies/{DB}/customers") == left
    # Deleting through the API (Fortnox has DELETE) reserves just the same.
    assert api("DELETE", "customers/1").status_code == 204
    assert error_of(
        api("POST", "customers", json={"Customer": {"CustomerNumber": "1", "Name": "Ny"}})
    ) == (400, 2000637)
    assert api("GET", "customers/1").status_code == 404
    # Numbering without a given number skips the reserved ones too.
    assigned = api("POST", "customers", json={"Customer": {"Name": "Ny"}}).json()["Customer"]
    assert assigned["CustomerNumber"] not in {"1", "2", "AOU7"}


def test_searches_are_contains_matches(api: ApiCall) -> None:
    for number, name in (
        ("AOU1", "Alfa Bygg AB"),
        ("AOU12", "Beta Bygg AB"),
        ("XAOU1X", "Gamma AB"),
    ):
        api("POST", "customers", json={"Customer": {"CustomerNumber": number, "Name": name}})
    found = api("GET", "customers", params={"customernumber": "AOU1"}).json()["Customers"]
    assert sorted(c["CustomerNumber"] for c in found) == ["AOU1", "AOU12", "XAOU1X"]
    named = api("GET", "customers", params={"name": "bygg"}).json()["Customers"]
    assert sorted(c["Name"] for c in named) == ["Alfa Bygg AB", "Beta Bygg AB"]


def test_lookup_by_organisation_number_matches_the_text_as_stored(api: ApiCall) -> None:
    def names(needle: str) -> list[str]:
        found = api("GET", "customers", params={"organisationnumber": needle}).json()
        return sorted(c["Name"] for c in found["Customers"])

    for needle in ("559087-6545", "559087", "87-65"):  # seeded as 559087-6545
        assert names(needle) == ["Fjällbacka Rör AB"], needle
    # A raw substring match, as at Fortnox: how the number was written matters.
    assert names("5590876545") == []
    api("POST", "customers", json={"Customer": {"Name": "Utan Streck AB",
                                                "OrganisationNumber": "5566778899"}})  # fmt: skip
    assert names("5566778899") == ["Utan Streck AB"]
    assert names("556677-8899") == []


def test_list_items_are_shorter_than_the_single_get(api: ApiCall) -> None:
    item = api("GET", "customers").json()["Customers"][0]
    single = api("GET", "customers/1").json()["Customer"]
    assert set(item) < set(single) | {"Phone"}
    assert item["Phone"] == single["Phone1"] and "Phone1" not in item
    assert isinstance(item["CustomerNumber"], str)


def test_update_is_partial(api: ApiCall) -> None:
    answer = api("PUT", "customers/2", json={"Customer": {"City": "Solna", "CustomerNumber": "99"}})
    assert answer.status_code == 200
    customer = answer.json()["Customer"]
    assert customer["City"] == "Solna" and customer["Name"] == "Anna Svensson"
    assert customer["CustomerNumber"] == "2"
    assert error_of(api("PUT", "customers/2", json={"Customer": {"Type": "ALIEN"}}))[0] == 400
    assert error_of(api("PUT", "customers/404", json={"Customer": {"City": "X"}})) == (404, 2000433)
