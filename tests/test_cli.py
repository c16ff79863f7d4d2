"""Operator commands, run through click's test runner against the test app."""
from __future__ import annotations

from sqlalchemy import select

from studysync.auth.passwords import verify_password
from studysync.db import db
from studysync.models import User
from studysync.tenancy import tenant_context

# --- import-students ------------------------------------------------------------------------------

CSV_FILE = """student_name,student_email,student_password,student_department,student_year,roll_no
Alice Johnson,Alice.Johnson@mit.edu,Student@1234,Electrical Engineering,1,EE-001
Bob Smith,bob.smith@mit.edu,Student@1234,Mechanical Engineering,3,
Carol Weak,carol@mit.edu,password,Physics,2,PH-001
Dan Twice,alice.johnson@mit.edu,Student@1234,Physics,2,
"""


def import_students(app, path, college_id):
    return app.test_cli_runner().invoke(args=["import-students", str(path), "--college", college_id])


def students_of(app, college_id):
    with app.app_context(), tenant_context(college_id):
        return {u.email: u for u in db.session.execute(select(User).where(User.role == "student")).scalars()}


def test_import_students_registers_the_good_rows_and_lists_the_bad(app, factory, tmp_path):
    kit, other = factory.college(students_count=0), factory.college(students_count=0)
    path = tmp_path / "students.csv"
    path.write_text(CSV_FILE, encoding="utf-8")

    result = import_students(app, path, kit.id)
    assert result.exit_code == 0, result.output
    assert "2 students registered, 2 failed" in result.output
    assert ("row 3 (line 4): carol@mit.edu: student_password: Password must be at least 8 characters "
            "with uppercase, lowercase and numeric characters") in result.output
    assert "row 4 (line 5): alice.johnson@mit.edu: Duplicate email in this file" in result.output

    registered = students_of(app, kit.id)
    assert set(registered) == {"alice.johnson@mit.edu", "bob.smith@mit.edu"}
    alice, bob = registered["alice.johnson@mit.edu"], registered["bob.smith@mit.edu"]
    assert (alice.name, alice.department, alice.year, alice.roll_no) == ("Alice Johnson", "Electrical Engineering",
                                                                        1, "EE-001")
    assert bob.roll_no is None  # an empty optional cell is no value, not an empty roll number
    assert verify_password("Student@1234", bob.password_hash)
    assert students_of(app, other.id) == {}

    again = import_students(app, path, kit.id)
    assert again.exit_code == 0, again.output
    assert "0 students registered, 4 failed" in again.output
    assert "row 1 (line 2): alice.johnson@mit.edu: Email already exists" in again.output
    assert set(students_of(app, kit.id)) == {"alice.johnson@mit.edu", "bob.smith@mit.edu"}


def test_import_students_refuses_a_bad_file_or_college(app, factory, tmp_path):
    kit = factory.college(students_count=0)
    path = tmp_path / "students.csv"
    path.write_text(CSV_FILE, encoding="utf-8")
    result = import_students(app, path, "no-such-college")
    assert result.exit_code == 2 and "no college with id no-such-college" in result.output

    path.write_text("student_name,student_email,email2\nA B,a@b.edu,x\n", encoding="utf-8")
    result = import_students(app, path, kit.id)
    assert result.exit_code == 2
    assert "missing column(s): student_password, student_department, student_year" in result.output
    assert "unknown column(s): email2" in result.output
    assert students_of(app, kit.id) == {}
