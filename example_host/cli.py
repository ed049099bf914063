"""``flask --app example_host demo ...``: volume for benchmarks, and a clean slate."""

from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import MetaData, Table

from .extensions import db

demo_cli = AppGroup("demo", help="Demo data for the example host.")


@demo_cli.command("seed")
@click.option("--company", default="acme", show_default=True, help="The company id.")
@click.option("--customers", default=0, type=click.IntRange(min=0), show_default=True,
              help="How many customers to add.")
@click.option("--invoices", default=0, type=click.IntRange(min=0), show_default=True,
              help="How many SENT invoices to add (rows at 25, 12 and 6 % VAT).")
@with_appcontext
def seed(company: str, customers: int, invoices: int) -> None:
    """Add customers and sent invoices in bulk, without handing them to Fortnox.

    Then `flask --app example_host fortnox backfill COMPANY` hands them to the plugin.
    """
    from .seed import seed_volume

    started = time.monotonic()
    try:
        added_customers, added_invoices = seed_volume(company, customers, invoices)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"{company}: added {added_customers} customers and {added_invoices} sent invoices "
        f"in {time.monotonic() - started:.1f} s (not handed to Fortnox; run "
        f"`flask --app example_host fortnox backfill {company}` for that)."
    )


@demo_cli.command("reset")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def reset(yes: bool) -> None:
    """Drop the host's and the plugin's tables, then create them and the demo data again."""
    if not yes:
        click.confirm(
            f"This deletes every customer, invoice, payout and Fortnox connection in "
            f"{db.engine.url.render_as_string(hide_password=True)}. Continue?", abort=True
        )
    import aourly_fortnox

    from .database import initialise_database

    db.session.remove()
    aourly_fortnox.metadata.drop_all(db.engine)
    with db.engine.begin() as conn:
        Table(aourly_fortnox.VERSION_TABLE, MetaData()).drop(conn, checkfirst=True)
    db.drop_all()
    initialise_database(current_app._get_current_object())  # type: ignore[attr-defined]
    click.echo("Demo data reset: tables created again and the demo companies seeded.")
