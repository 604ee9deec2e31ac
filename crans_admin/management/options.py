"""The options that the bundle's commands share, worded as Django's own commands word them."""

from django.db import DEFAULT_DB_ALIAS


def add_dry_run_option(parser, help: str = "Show what would change, change nothing.") -> None:
    parser.add_argument("--dry-run", action="store_true", help=help)


def add_database_option(parser) -> None:
    parser.add_argument(
        "--database",
        default=DEFAULT_DB_ALIAS,
        help='Nominates a database to use. Defaults to the "default" database.',
    )
