"""Operator commands: `flask --app wsgi <command>`."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext


def register_cli(app: Flask) -> None:
    for command in (create_sysadmin_command, seed_demo_command):
        app.cli.add_command(command)


@click.command("create-sysadmin")
@click.option("--email", prompt=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--name", default="System Admin", show_default=True)
@with_appcontext
def create_sysadmin_command(email: str, password: str, name: str) -> None:
    """Create the platform's sysadmin (idempotent)."""
    from .auth.passwords import password_problem
    from .services.bootstrap import create_sysadmin

    problem = password_problem(password)
    if problem:
        raise click.BadParameter(problem, param_hint="--password")
    user, created = create_sysadmin(email, password, name)
    click.echo(f"{'Created' if created else 'Already present'}: sysadmin {user.email}")


@click.command("seed-demo")
@click.option("--force", is_flag=True, help="Print the logins even if the demo college exists.")
@with_appcontext
def seed_demo_command(force: bool) -> None:
    """A demo college with an admin, a teacher and a dozen students; prints their logins."""
    from .services.demo import seed_demo

    result = seed_demo()
    if not result.created and not force:
        click.echo(f"Demo college already present ({result.college.subdomain}); logins unchanged.")
    click.echo(f"College: {result.college.name}  id={result.college.id}  domain={result.domain}")
    for role, email, password in result.logins:
        click.echo(f"  {role:<8} {email:<32} {password}")
