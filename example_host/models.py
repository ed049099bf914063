"""The host's tables: users, companies with roles, customers, invoices, payouts.

Money is ``Numeric`` (Decimal in Python, never float); dates are Europe/Stockholm calendar
dates. Company ids are strings (``acme``), as the plugin stores them.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

from flask_login import UserMixin
from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db

CENT = Decimal("0.01")
VAT_RATES = (25, 12, 6, 0)


def utcnow() -> datetime:
    return datetime.now(UTC)


def money(value: Decimal) -> Decimal:
    """Round to öre the way Swedish invoices do (half up, not banker's rounding)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


class Role(enum.StrEnum):
    OWNER = "owner"
    COORDINATOR = "coordinator"
    PERFORMER = "performer"


class VatType(enum.StrEnum):
    SEVAT = "SEVAT"  # domestic, Swedish VAT
    EUREVERSEDVAT = "EUREVERSEDVAT"  # EU business customer, reverse charge
    EXPORT = "EXPORT"  # outside the EU


class InvoiceStatus(enum.StrEnum):
    DRAFT = "draft"
    SENT = "sent"


class User(UserMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    password_hash: Mapped[str] = mapped_column(String(255))
    #: Raised at logout: a session made before (its cookie copied or not) no longer loads.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", order_by="Membership.id"
    )

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def role_in(self, company_id: str) -> Role | None:
        for membership in self.memberships:
            if membership.company_id == company_id:
                return Role(membership.role)
        return None


class Company(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "companies"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    organisation_number: Mapped[str] = mapped_column(String(16))


class Membership(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "company_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"))
    role: Mapped[str] = mapped_column(String(16))

    user: Mapped[User] = relationship(back_populates="memberships")
    company: Mapped[Company] = relationship()


class Customer(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    organisation_number: Mapped[str | None] = mapped_column(String(16))
    email: Mapped[str | None] = mapped_column(String(255))
    address: Mapped[str | None] = mapped_column(String(255))
    zip_code: Mapped[str | None] = mapped_column(String(16))
    city: Mapped[str | None] = mapped_column(String(128))
    country_code: Mapped[str] = mapped_column(String(2), default="SE")
    vat_type: Mapped[str] = mapped_column(String(16), default=VatType.SEVAT)
    vat_number: Mapped[str | None] = mapped_column(String(32))


class Invoice(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "invoices"
    __table_args__ = (UniqueConstraint("company_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # per company, 1, 2, 3 ...
    invoice_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=InvoiceStatus.DRAFT)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    customer: Mapped[Customer] = relationship()
    rows: Mapped[list[InvoiceRow]] = relationship(
        back_populates="invoice", order_by="InvoiceRow.position", cascade="all, delete-orphan"
    )

    @property
    def is_sent(self) -> bool:
        return self.status == InvoiceStatus.SENT

    @property
    def net(self) -> Decimal:
        return sum((row.net for row in self.rows), Decimal("0.00"))

    def vat_by_rate(self) -> dict[int, Decimal]:
        """VAT per rate, computed on each rate's net sum (how the rows add up on paper)."""
        nets: dict[int, Decimal] = {}
        for row in self.rows:
            nets[row.vat_rate] = nets.get(row.vat_rate, Decimal("0.00")) + row.net
        return {
            rate: money(net * Decimal(rate) / Decimal(100))
            for rate, net in sorted(nets.items(), reverse=True)
        }

    @property
    def vat(self) -> Decimal:
        return sum(self.vat_by_rate().values(), Decimal("0.00"))

    @property
    def total(self) -> Decimal:
        return self.net + self.vat


class InvoiceRow(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "invoice_rows"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    description: Mapped[str] = mapped_column(Text)
    quantity: Mapped[Decimal] = mapped_column(Numeric(12, 3))
    unit_price: Mapped[Decimal] = mapped_column(Numeric(14, 2))  # excluding VAT
    vat_rate: Mapped[int] = mapped_column(Integer)  # 25, 12, 6 or 0

    invoice: Mapped[Invoice] = relationship(back_populates="rows")

    @property
    def net(self) -> Decimal:
        return money(self.quantity * self.unit_price)


class Payout(db.Model):  # type: ignore[name-defined,misc]
    """Money paid to a performer; reaches Fortnox as a voucher (performer costs / bank)."""

    __tablename__ = "payouts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"), index=True)
    performer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    payout_date: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    performer: Mapped[User] = relationship()
