"""``flask fortnox ...``: migrations, the worker, and the operator's commands."""

from __future__ import annotations

import click
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select, update

from .config import ConfigError
from .connection.clients import refresh_lock
from .migrate import downgrade_database, upgrade_database
from .models import Connection
from .queries import record_counts, session
from .state import current_app_object, state
from .sync import outbox, runs
from .sync.forget import forget_company
from .sync.reconcile import reconcile_records, reconcile_runs
from .sync.references import installation_id
from .worker import run_worker

fortnox_cli = AppGroup("fortnox", help="The Fortnox integration (aourly_fortnox).")


@fortnox_cli.group("db")
def db_group() -> None:
    """The plugin's own migrations (for hosts without Flask-Migrate)."""


@db_group.command("upgrade")
@click.argument("revision", default="heads")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Create or upgrade the plugin's tables."""
    upgrade_database(current_app_object(), revision)
    click.echo("aourly_fortnox tables are up to date.")


@db_group.command("downgrade")
@click.argument("revision", default="base")
@with_appcontext
def db_downgrade(revision: str) -> None:
    """Downgrade the plugin's tables (``base`` removes them)."""
    downgrade_database(current_app_object(), revision)
    click.echo(f"aourly_fortnox tables downgraded to {revision}.")


@fortnox_cli.command("worker")
@click.option("--no-scheduler", is_flag=True, help="Do not run the periodic tick / RQ scheduler.")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@with_appcontext
def worker(no_scheduler: bool, burst: bool) -> None:
    """Run a worker for the plugin's queues."""
    run_worker(
        current_app_object(),
        with_scheduler=not no_scheduler,
        burst=burst,
    )


@fortnox_cli.command("status")
@click.argument("company", required=False)
@with_appcontext
def status(company: str | None) -> None:
    """Show the connection state of one company, or of all."""
    st = state()
    click.echo(f"Installation id: {installation_id()}")
    missing = st.ext.missing_hooks()
    if missing:
        click.echo(
            "ERROR: host hooks not registered: "
            + ", ".join(f"@fortnox.{name}" for name in missing)
            + " (every plugin route answers 403 until they are)."
        )
    query = select(Connection).order_by(Connection.company_id)
    if company:
        query = query.where(Connection.company_id == company)
    rows = list(session().execute(query).scalars())
    if not rows:
        counts = record_counts(company) if company else {}
        waiting = ", ".join(f"{k} {v}" for k, v in counts.items() if v)
        suffix = f"; {waiting}" if waiting else ""
        click.echo(f"{company or 'No company'}: not connected{suffix}")
        return
    for conn in rows:
        counts = record_counts(conn.company_id)
        last = conn.last_sync_at.isoformat(timespec="minutes") if conn.last_sync_at else "never"
        click.echo(
            f"{conn.company_id}: {conn.status}"
            + (f" to {conn.fortnox_company_name} ({conn.database_number})"
               if conn.database_number else "")
            + f"; last sync {last}; "
            + ", ".join(f"{k} {v}" for k, v in counts.items() if v)
        )


@fortnox_cli.command("sync")
@click.argument("company")
@with_appcontext
def sync(company: str) -> None:
    """Import years, charts and settings, and queue pending pushes for COMPANY."""
    result = runs.start_run(company, "sync")
    if result is runs.StartResult.NOT_CONNECTED:
        click.echo(f"Connect Fortnox first; nothing was synced ({company} is not connected).")
        raise SystemExit(1)
    if result is runs.StartResult.QUEUE_UNAVAILABLE:
        click.echo("The job queue (Redis) is not reachable; nothing was queued. Try again.")
        raise SystemExit(1)
    click.echo("Sync started.")


@fortnox_cli.command("backfill")
@click.argument("company")
@with_appcontext
def backfill(company: str) -> None:
    """Hand every sent invoice, its customer and every host voucher of COMPANY to the plugin."""
    count = outbox.backfill(company)
    click.echo(f"{count} item(s) recorded for Fortnox.")


@fortnox_cli.command("reconcile")
@with_appcontext
def reconcile() -> None:
    """Re-enqueue every unfinished run whose job is gone or ended (the database is the truth)."""
    count = reconcile_runs()
    click.echo(f"{count} run(s) handed to a new job.")
    click.echo(f"{reconcile_records()} company push job(s) started for due items.")


TOKEN_COLUMNS = ("access_token_enc", "refresh_token_enc", "pending_tokens_enc")


def _unreadable_companies() -> list[str]:
    """Companies with a stored token that no key of AOURLY_FORTNOX_TOKEN_KEYS decrypts."""
    cipher = state().cipher
    unreadable = []
    columns = [getattr(Connection, name) for name in TOKEN_COLUMNS]
    for company_id, *values in session().execute(
        select(Connection.company_id, *columns).order_by(Connection.company_id)
    ):
        try:
            for value in values:
                if value:
                    cipher.decrypt(value)
        except ConfigError:
            unreadable.append(str(company_id))
    return unreadable


def _rotate_company(company_id: str) -> int:
    """Re-encrypt one company's tokens, holding its refresh lock: a refresh cannot store a new
    pair between our read and our write. The write also compares what was read (a reconnect
    does not take the lock), and reads again if the row changed meanwhile."""
    st = state()
    columns = [getattr(Connection, name) for name in TOKEN_COLUMNS]
    with refresh_lock(company_id):
        for _attempt in range(5):
            with st.db.engine.begin() as conn:
                row = conn.execute(
                    select(*columns).where(Connection.company_id == company_id)
                ).one_or_none()
                if row is None:
                    return 0
                current = dict(zip(TOKEN_COLUMNS, row, strict=True))
                rotated = {name: st.cipher.rotate(value)
                           for name, value in current.items() if value}
                if not rotated:
                    return 0
                conditions = [
                    getattr(Connection, name) == value if value is not None
                    else getattr(Connection, name).is_(None)
                    for name, value in current.items()
                ]
                result = conn.execute(
                    update(Connection)
                    .where(Connection.company_id == company_id, *conditions)
                    .values(**rotated)
                )
                if result.rowcount == 1:
                    return len(rotated)
    raise click.ClickException(
        f"The tokens of company {company_id} kept changing while being re-encrypted; "
        "run rotate-keys again."
    )


@fortnox_cli.command("rotate-keys")
@with_appcontext
def rotate_keys() -> None:
    """Re-encrypt every stored token with the first AOURLY_FORTNOX_TOKEN_KEYS key."""
    unreadable = _unreadable_companies()
    if unreadable:
        click.echo(
            "Nothing was re-encrypted: no key in AOURLY_FORTNOX_TOKEN_KEYS decrypts the stored "
            f"tokens of {len(unreadable)} "
            + ("company" if len(unreadable) == 1 else "companies")
            + f": {', '.join(unreadable)}. Add the key they were stored with (after the new "
            "one) and run rotate-keys again, or disconnect those companies.",
            err=True,
        )
        raise SystemExit(1)
    companies = list(session().execute(
        select(Connection.company_id).order_by(Connection.company_id)
    ).scalars())
    session().rollback()  # no transaction of ours stays open while we wait for the locks
    count = sum(_rotate_company(company_id) for company_id in companies)
    click.echo(f"Re-encrypted {count} stored token(s) with the first key.")


@fortnox_cli.command("forget")
@click.argument("company")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def forget(company: str, yes: bool) -> None:
    """Delete everything the plugin stores for COMPANY (after revoking its tokens)."""
    if not yes:
        click.confirm(f"Delete every Fortnox record of company {company}?", abort=True)
    forget_company(company)
    click.echo(f"Forgot company {company}.")
