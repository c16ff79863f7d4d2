"""Operator commands: `flask --app wsgi <command>`."""
from __future__ import annotations

import csv

import click
from flask import Flask
from flask.cli import with_appcontext


def register_cli(app: Flask) -> None:
    for command in (create_sysadmin_command, seed_demo_command, import_students_command,
                    reindex_embeddings_command):
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


CSV_REQUIRED = ("student_name", "student_email", "student_password", "student_department", "student_year")
CSV_OPTIONAL = ("roll_no", "marks")


def _csv_rows(file) -> list[dict]:
    """The CSV's rows as API rows: empty optional cells are simply absent."""
    reader = csv.DictReader(file)
    columns = [c.strip() for c in reader.fieldnames or []]
    missing = [c for c in CSV_REQUIRED if c not in columns]
    unknown = [c for c in columns if c not in CSV_REQUIRED + CSV_OPTIONAL]
    if missing or unknown:
        problems = ([f"missing column(s): {', '.join(missing)}"] if missing else []) + \
                   ([f"unknown column(s): {', '.join(unknown)}"] if unknown else [])
        raise click.BadParameter(f"{'; '.join(problems)} (expected {', '.join(CSV_REQUIRED + CSV_OPTIONAL)})",
                                 param_hint="FILE")
    rows = []
    for raw in reader:
        row = {}
        for key, value in raw.items():
            if key is None:  # more cells than columns
                continue
            key = key.strip()
            value = (value or "") if key == "student_password" else (value or "").strip()  # passwords as typed
            if value or key in ("student_name", "student_email", "student_password"):
                row[key] = value
        rows.append(row)
    return rows


@click.command("import-students")
@click.argument("file", type=click.File("r", encoding="utf-8-sig"))
@click.option("--college", "college_id", required=True, help="The college's id.")
@with_appcontext
def import_students_command(file, college_id: str) -> None:
    """Register the students of a CSV file (the bulk API's rules, one row at a time)."""
    from .db import db
    from .models import College
    from .services import bulk_import
    from .tenancy import tenant_context

    rows = _csv_rows(file)
    if not rows:
        raise click.BadParameter("the file has no rows", param_hint="FILE")
    if db.session.get(College, college_id) is None:
        raise click.BadParameter(f"no college with id {college_id}", param_hint="--college")
    with tenant_context(college_id):
        with click.progressbar(length=len(rows), label="Importing students") as bar:
            job = bulk_import.import_rows(rows, on_row=lambda _row: bar.update(1))
        data = bulk_import.results(job)
    click.echo(bulk_import.summary(data))
    for failure in data["failed"]:  # row N is the file's line N + 1 (the header is line 1)
        email = failure["student_email"] or "-"
        click.echo(f"  row {failure['row']} (line {failure['row'] + 1}): {email}: {failure['reason']}")


@click.command("reindex-embeddings")
@click.option("--college", "college_id", default=None, help="Only this college (its id).")
@with_appcontext
def reindex_embeddings_command(college_id: str | None) -> None:
    """Embed every profile and group whose text changed since it was last embedded, in batches."""
    from sqlalchemy import select

    from .db import db
    from .models import College, Profile, StudyGroup
    from .services import embeddings
    from .tenancy import all_tenants, tenant_context

    with all_tenants():
        ids = [college_id] if college_id else list(db.session.execute(select(College.id).order_by(College.id)).scalars())
        if college_id and db.session.get(College, college_id) is None:
            raise click.BadParameter(f"no college {college_id}", param_hint="--college")
    model = embeddings.embedder()
    for cid in ids:
        with tenant_context(cid):
            profiles = {p.user_id: p.learning_style for p in db.session.execute(select(Profile)).scalars()}
            groups = {g.id: embeddings.group_text(g) for g in db.session.execute(select(StudyGroup)).scalars()}
            with click.progressbar(length=len(profiles) + len(groups), label=f"College {cid}") as bar:
                embeddings.vectors_for("profile", profiles, model, progress=bar.update, commit=True)
                bar.update(0)
                embeddings.vectors_for("group", groups, model, progress=bar.update, commit=True)
        click.echo(f"{cid}: {len(profiles)} profiles, {len(groups)} groups up to date")
