"""The Directory API's user resource → the port's ``DirectoryUser``: the primary
organisation's title and department, values of another shape left out."""

from __future__ import annotations

from libs.common.gmail._directory import to_user
from libs.common.mail import DirectoryUser
from libs.gmailsim.people import new_person


def test_the_primary_organisation_wins_and_the_address_is_the_sign_in_name() -> None:
    resource = {
        "id": "104",
        "primaryEmail": "ann@example.com",
        "name": {"givenName": "Ann", "familyName": "Lee", "fullName": "Ann Lee"},
        "organizations": [
            {"title": "Volunteer", "department": "Events"},
            {"title": "Engineer", "department": "IT", "primary": True},
        ],
        "phones": [{"value": "+1 555 0100", "type": "work"}],
    }
    assert to_user(resource) == DirectoryUser(
        "104", "Ann Lee", "ann@example.com", "ann@example.com", "Engineer", "IT"
    )


def test_missing_or_odd_values_are_none() -> None:
    odd = {"id": "7", "name": "Ann", "organizations": [{"title": 3, "department": ""}]}
    assert to_user(odd) == DirectoryUser("7")
    assert to_user({}) == DirectoryUser("")


def test_the_simulators_resource_maps_back() -> None:
    person = new_person("bob.jones@example.com")
    person.title = "Accountant"
    user = to_user(person.resource())
    assert (user.id, user.display_name, user.mail) == (
        person.id,
        "Bob Jones",
        "bob.jones@example.com",
    )
    assert (user.job_title, user.department) == ("Accountant", None)
