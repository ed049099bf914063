"""The plugin's own tables (prefix ``fortnox_``), on their own metadata.

Used through the host's ``db.session``; no foreign keys into host tables: the host's company
id is stored as a string (hosts use ints, UUIDs, slugs). Everything that points at Fortnox
is keyed by (company, DatabaseNumber), so switching Fortnox company never updates the old
company's objects in the new one.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The aware UTC now that every stored time uses (UTCDateTime refuses naive ones)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, also on SQLite (which drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Refuse naive times (their zone is a guess) and store UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store aware UTC datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Aware UTC out, since SQLite hands stored times back without their offset."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """The plugin's own metadata, so its tables and constraint names never mix with the host's."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ConnectionStatus(enum.StrEnum):
    """Where the link to Fortnox stands; only a Connected one hands out its tokens."""

    NOT_CONNECTED = "not_connected"
    CONNECTED = "connected"
    EXPIRED = "expired"
    DISCONNECTED = "disconnected"


class Connection(Base):
    """One Aourly company's link to one Fortnox company, with its tokens (encrypted)."""

    __tablename__ = "fortnox_connection"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=ConnectionStatus.NOT_CONNECTED)
    database_number: Mapped[int | None] = mapped_column(BigInteger, index=True)
    fortnox_company_name: Mapped[str | None] = mapped_column(String(255))
    organisation_number: Mapped[str | None] = mapped_column(String(32))
    scope: Mapped[str | None] = mapped_column(String(255))
    access_token_enc: Mapped[str | None] = mapped_column(Text)
    refresh_token_enc: Mapped[str | None] = mapped_column(Text)
    access_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refresh_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    token_refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    connected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    connected_by: Mapped[str | None] = mapped_column(String(64))
    disconnected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expired_reason: Mapped[str | None] = mapped_column(String(255))
    last_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A different Fortnox company authorised on reconnect waits here (encrypted) until the
    # owner confirms the switch.
    pending_database_number: Mapped[int | None] = mapped_column(BigInteger)
    pending_company_name: Mapped[str | None] = mapped_column(String(255))
    pending_organisation_number: Mapped[str | None] = mapped_column(String(32))
    pending_tokens_enc: Mapped[str | None] = mapped_column(Text)
    pending_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Fortnox's locked period: nothing may be booked on or before this date (pre-check data,
    # refreshed on every import).
    locked_through: Mapped[date | None] = mapped_column(Date)
    # Per-company choice on the mapping page: bookkeep invoices right after create.
    bookkeep_invoices: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Per-company choice on the mapping page: the series our vouchers go into (must be an
    #: imported manual series; docs/fortnox.md, "Vouchers").
    voucher_series: Mapped[str] = mapped_column(String(16), default="A", server_default="A")
    #: Sent host invoices with no outbox row for the current Fortnox company (sent before the
    #: plugin was installed, or before a switch of Fortnox company): counted once at connect,
    #: offered on the card, never counted per render.
    earlier_unrecorded: Mapped[int | None] = mapped_column(Integer)
    # The card's mapping line (counts and warning codes), kept whenever the mapping or the
    # chart changes, so the card polled every few seconds never loads the chart.
    mapping_health: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:  # tokens never in reprs
        """Names the row in logs and debuggers, never with its tokens."""
        return (
            f"<Connection company={self.company_id!r} status={self.status!r} "
            f"db={self.database_number!r}>"
        )


class FinancialYear(Base):
    """An imported Fortnox year: bookings need one covering their date; charts are per year."""

    __tablename__ = "fortnox_financial_year"
    __table_args__ = (
        UniqueConstraint("company_id", "database_number", "fortnox_id", name="uq_fortnox_year"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[str] = mapped_column(String(64))
    database_number: Mapped[int] = mapped_column(BigInteger)
    fortnox_id: Mapped[int] = mapped_column(Integer)
    from_date: Mapped[date] = mapped_column(Date)
    to_date: Mapped[date] = mapped_column(Date)
    account_chart_type: Mapped[str | None] = mapped_column(String(64))
    accounting_method: Mapped[str | None] = mapped_column(String(32))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When the last complete voucher pull of this year started: the next pull lists only
    #: vouchers modified since then (less an overlap), so nothing new costs one request.
    vouchers_listed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Account(Base):
    """One account of one financial year's chart (charts are per year in Fortnox)."""

    __tablename__ = "fortnox_account"
    __table_args__ = (
        UniqueConstraint(
            "company_id", "database_number", "financial_year", "number", name="uq_fortnox_account"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[str] = mapped_column(String(64))
    database_number: Mapped[int] = mapped_column(BigInteger)
    financial_year: Mapped[int] = mapped_column(Integer)  # FinancialYear.fortnox_id
    number: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(255), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    vat_code: Mapped[str | None] = mapped_column(String(16))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PredefinedAccount(Base):
    """A Fortnox predefined account (e.g. CUSTCLAIM): mapping suggestions come from these first."""

    __tablename__ = "fortnox_predefined_account"
    __table_args__ = (
        UniqueConstraint("company_id", "database_number", "name", name="uq_fortnox_predefined"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[str] = mapped_column(String(64))
    database_number: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(64))
    account: Mapped[int] = mapped_column(Integer)


class VoucherSeries(Base):
    """An imported voucher series: only manual series take vouchers sent through the API."""

    __tablename__ = "fortnox_voucher_series"
    __table_args__ = (
        UniqueConstraint("company_id", "database_number", "code", name="uq_fortnox_series"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[str] = mapped_column(String(64))
    database_number: Mapped[int] = mapped_column(BigInteger)
    code: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(String(255), default="")
    manual: Mapped[bool] = mapped_column(Boolean, default=False)


class AccountMapping(Base):
    """A mapping key's account for a company. Not keyed by DatabaseNumber: mappings survive
    reconnect and a Fortnox company switch (then they are re-validated against the new chart)."""

    __tablename__ = "fortnox_account_mapping"
    __table_args__ = (UniqueConstraint("company_id", "key", name="uq_fortnox_mapping"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(64))
    account: Mapped[int] = mapped_column(Integer)
    #: False while the value is only our suggestion; True once the owner saved the form.
    confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_by: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class RecordState(enum.StrEnum):
    """Where an outbox row stands; held, failed and needs-attention rows show on the card."""

    PENDING = "pending"
    HELD = "held"  # sent while disconnected after a connection: waits for "Send held items"
    EARLIER = "earlier"  # sent before the first connection: waits for the owner's offer
    SYNCED = "synced"
    FAILED = "failed"  # retried automatically until the cap
    NEEDS_ATTENTION = "needs_attention"  # the owner must act (or press Retry)


class SyncRecord(Base):
    """The outbox: one row per host object and direction, the truth about its sync."""

    __tablename__ = "fortnox_sync_record"
    __table_args__ = (
        UniqueConstraint(
            "company_id", "database_number", "object_type", "object_id", name="uq_fortnox_record"
        ),
        Index("ix_fortnox_sync_record_due", "state", "next_attempt_at"),
        # The sync log's pages: one company's rows in one state, newest first.
        Index("ix_fortnox_sync_record_log", "company_id", "state", "id"),
        # The next items the push would send, type by type (the preview; migration 0009).
        Index("ix_fortnox_sync_record_queue",
              "company_id", "database_number", "object_type", "state", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[str] = mapped_column(String(64), index=True)
    #: 0 until the record is bound to a Fortnox company.
    database_number: Mapped[int] = mapped_column(BigInteger, default=0)
    object_type: Mapped[str] = mapped_column(String(16))  # customer | invoice | voucher
    object_id: Mapped[str] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(8), default="push")
    state: Mapped[str] = mapped_column(String(20), default=RecordState.PENDING)
    remote_id: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_reason: Mapped[str | None] = mapped_column(Text)
    fortnox_code: Mapped[int | None] = mapped_column(Integer)
    fortnox_message: Mapped[str | None] = mapped_column(Text)
    lease_token: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    post_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    job_id: Mapped[str | None] = mapped_column(String(64))
    payload_hash: Mapped[str | None] = mapped_column(String(64))
    #: "created" (ours: kept up to date) or "linked" (the owner's own, never overwritten).
    remote_kind: Mapped[str | None] = mapped_column(String(8))
    #: The reason code's parameters (``error_code``), worded for the owner when shown.
    error_params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: Fortnox customers that share the organisation number, for the owner's choice.
    candidates: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    #: The item as the owner knows it ("1042 · Kund AB", a payout's text), asked of the host
    #: when the item is recorded, so the sync log names it without asking the host per row.
    label: Mapped[str | None] = mapped_column(String(255))
    #: Set when ``signals.sync_failed`` was sent for the item's current problem (once per
    #: item: cleared when it reaches Fortnox, kept through retries).
    attention_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


#: The states the summary counts, one column each (``RecordSummary``).
SUMMARY_STATES = ("pending", "held", "earlier", "synced", "failed", "needs_attention")


class RecordSummary(Base):
    """How many outbox rows a company has in each state, per object type.

    Kept by database triggers on ``fortnox_sync_record`` (migrations 0006 and 0008), so it
    changes in the same transaction as every row it counts, whichever code path wrote the
    row: the card, polled every few seconds, reads these few rows instead of counting the
    outbox.
    """

    __tablename__ = "fortnox_record_summary"

    company_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    object_type: Mapped[str] = mapped_column(String(16), primary_key=True)
    pending: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    held: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    earlier: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    synced: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    failed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    needs_attention: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class RecordSummaryDelta(Base):
    """Changes to the summary not folded in yet (PostgreSQL, migration 0008).

    The row trigger notes -1/+1 per changed sync record here, and a deferred trigger folds
    the notes into ``fortnox_record_summary`` once per transaction, just before its commit;
    so the table is empty outside a transaction in progress, and always empty on SQLite
    (whose triggers update the summary in place). Nothing reads it but the fold.
    """

    __tablename__ = "fortnox_record_summary_delta"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    company_id: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(32))
    n: Mapped[int] = mapped_column(Integer)


class SyncRun(Base):
    """One import / sync / backfill run, for the card's progress and the log's history."""

    __tablename__ = "fortnox_sync_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # import | sync | backfill | retry
    # queued | running | finished | failed
    state: Mapped[str] = mapped_column(String(16), default="queued")
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    #: A reason code (``aourly_fortnox.reasons``), worded for the owner when shown.
    message: Mapped[str | None] = mapped_column(Text)
    message_params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    job_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PulledVoucher(Base):
    """A voucher read from Fortnox. Vouchers are immutable and numbered per (year, series)."""

    __tablename__ = "fortnox_pulled_voucher"
    __table_args__ = (
        UniqueConstraint(
            "company_id", "database_number", "financial_year", "series", "number",
            name="uq_fortnox_pulled_voucher",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[str] = mapped_column(String(64))
    database_number: Mapped[int] = mapped_column(BigInteger)
    financial_year: Mapped[int] = mapped_column(Integer)
    series: Mapped[str] = mapped_column(String(16))
    number: Mapped[int] = mapped_column(Integer)
    transaction_date: Mapped[date | None] = mapped_column(Date)
    description: Mapped[str] = mapped_column(String(255), default="")
    total: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal("0"))
    rows: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    #: Set when this voucher is one we pushed (linked by the marker in Description).
    sync_record_id: Mapped[int | None] = mapped_column(Integer)
    pulled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class VoucherCursor(Base):
    """The high-water mark of the voucher pull per (financial year, series): Fortnox numbers
    vouchers upwards per year and series and never changes or deletes one, so every number
    above the mark is new."""

    __tablename__ = "fortnox_voucher_cursor"
    __table_args__ = (
        UniqueConstraint(
            "company_id", "database_number", "financial_year", "series",
            name="uq_fortnox_voucher_cursor",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[str] = mapped_column(String(64))
    database_number: Mapped[int] = mapped_column(BigInteger)
    financial_year: Mapped[int] = mapped_column(Integer)  # FinancialYear.fortnox_id
    series: Mapped[str] = mapped_column(String(16))
    last_number: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Installation(Base):
    """This installation's random id, made once: part of every reference we put in Fortnox,
    so staging and production connected to one Fortnox company never adopt each other's
    objects."""

    __tablename__ = "fortnox_installation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    installation_id: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WorkerHeartbeat(Base):
    """Last time a plugin worker was seen; the card warns when it is stale."""

    __tablename__ = "fortnox_worker_heartbeat"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    worker_name: Mapped[str] = mapped_column(String(255), unique=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OAuthState(Base):
    """An OAuth ``state`` issued by Connect and not yet used: its callback deletes the row,
    so a state works once even when a copy of the session cookie still carries it."""

    __tablename__ = "fortnox_oauth_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: SHA-256 of the state, hex: the database never holds a usable state.
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    company_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
