"""Payouts: recorded by owners/coordinators, seen by performers (their own), sent as vouchers."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from aourly_fortnox.models import SyncRecord
from example_host.extensions import db
from example_host.models import Membership, Payout, Role, User

from .conftest import submit, text, unchanged_db

Login = Callable[[str], FlaskClient]


def performer_id(app: Flask, email: str = "performer@acme.test") -> int:
    with app.app_context():
        return db.session.scalars(select(User.id).where(User.email == email)).one()


def test_record_a_payout_and_hand_it_to_the_plugin(app: Flask, as_user: Login) -> None:
    client = as_user("coordinator@acme.test")
    response = submit(client, "/payouts/new", data={
        "performer_id": str(performer_id(app)), "amount": "3 250,75",
        "payout_date": "2025-03-14", "description": "Konferensmoderator",
    })
    assert response.status_code == 303
    assert "Payout recorded." in text(client.get(response.location))
    with app.app_context():
        payout = db.session.scalars(
            select(Payout).where(Payout.description == "Konferensmoderator")
        ).one()
        assert payout.amount == Decimal("3250.75")
        records = db.session.scalars(select(SyncRecord).where(
            SyncRecord.object_type == "voucher", SyncRecord.object_id == str(payout.id)
        )).all()
        assert len(records) == 1


def test_invalid_payout_keeps_the_input(app: Flask, as_user: Login) -> None:
    client = as_user("owner@acme.test")
    with unchanged_db(app):  # no payout, and no voucher handed to Fortnox
        response = submit(client, "/payouts/new", data={
            "performer_id": str(performer_id(app)), "amount": "-5", "payout_date": "tomorrow",
            "description": "",
        })
    assert response.status_code == 400
    body = text(response)
    assert "The amount must be more than 0." in body
    assert "Enter a date as YYYY-MM-DD." in body
    assert "Say what the payout is for." in body
    assert 'value="-5"' in body


def test_performers_see_only_their_own_payouts(app: Flask, as_user: Login) -> None:
    with app.app_context():
        other = User(email="performer2@acme.test", name="Olle Ohlsson", password_hash="x")
        db.session.add(other)
        db.session.flush()
        db.session.add(Membership(user_id=other.id, company_id="acme", role=Role.PERFORMER))
        db.session.add(Payout(company_id="acme", performer_id=other.id,
                              amount=Decimal("999.00"), payout_date=__import__("datetime").date(
                                  2025, 2, 1), description="Someone else's gig"))
        db.session.commit()
    client = as_user("performer@acme.test")
    body = text(client.get("/payouts/"))
    assert "Fotografering, kundevent" in body  # their own
    assert "Someone else&#39;s gig" not in body
    assert "New payout" not in body


def test_owner_sees_every_payout_of_the_company(as_user: Login) -> None:
    body = text(as_user("owner@acme.test").get("/payouts/"))
    assert "Pia Persson" in body and "New payout" in body
