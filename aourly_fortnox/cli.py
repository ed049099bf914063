"""``flask fortnox ...``: migrations, the worker, and the operator's commands."""

from __future__ import annotations

import click
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

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


@fortnox_cli.command("rotate-keys")
@with_appcontext
def rotate_keys() -> None:
    """Re-encrypt every stored token with the first AOURLY_FORTNOX_TOKEN_KEYS key."""
    cipher = state().cipher
    count = 0
    for conn in session().execute(select(Connection)).scalars():
        for column in ("access_token_enc", "refresh_token_enc", "pending_tokens_enc"):
            value = getattr(conn, column)
            if value:
                setattr(conn, column, cipher.rotate(value))
                count += 1
    session().commit()
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
