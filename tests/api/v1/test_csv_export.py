"""Admins export students and staff as CSV, with the lists' own filters."""
from __future__ import annotations

import csv
import io


def rows(response) -> list[dict]:
    assert response.status_code == 200, response.data[:500]
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_students_as_csv_with_the_list_filters(client, factory):
    kit = factory.college(students_count=0)
    for i in range(3):
        factory.student_in(kit, f"Physicist {i}", department="Physics", year=2)
    factory.student_in(kit, "Chemist", department="Chemistry", year=3)
    factory.student_in(kit, "=HYPERLINK(\"http://evil\")", department="Physics", year=3)
    other = factory.college(students_count=1)

    everyone = rows(client.get("/api/v1/students?format=csv", headers=kit.admin.headers))
    assert len(everyone) == 5 and other.student.email not in {r["student_email"] for r in everyone}
    assert list(everyone[0]) == ["student_id", "college_id", "student_name", "student_email", "student_department",
                                 "student_year", "student_status", "roll_no", "marks", "rating", "group_limit",
                                 "created_at"]

    physics = rows(client.get("/api/v1/students?format=csv&department=Physics&year=2", headers=kit.admin.headers))
    assert sorted(r["student_name"] for r in physics) == ["Physicist 0", "Physicist 1", "Physicist 2"]

    by_accept = rows(client.get("/api/v1/students?q=chem", headers={**kit.admin.headers, "Accept": "text/csv"}))
    assert [r["student_name"] for r in by_accept] == ["Chemist"]

    # a spreadsheet will not run a student's name as a formula
    (hostile,) = rows(client.get("/api/v1/students?format=csv&year=3&department=Physics", headers=kit.admin.headers))
    assert hostile["student_name"].startswith("'=")

    # JSON stays the default, also for a browser's */*; teachers read the list but do not export it
    r = client.get("/api/v1/students", headers={**kit.admin.headers, "Accept": "*/*"})
    assert r.is_json and r.json["pagination"]["total"] == 5
    assert client.get("/api/v1/students?format=csv", headers=kit.teacher.headers).status_code == 403
    assert client.get("/api/v1/students?format=xml", headers=kit.admin.headers).status_code == 400


def test_staff_as_csv_with_the_list_filters(client, factory):
    kit = factory.college(students_count=0)
    client.post("/api/v1/users", headers=kit.admin.headers, json={
        "name": "Second Teacher", "email": f"t2@{kit.subdomain}.edu", "password": "Teach@1234", "role": "teacher"})

    staff = rows(client.get("/api/v1/users?format=csv", headers=kit.admin.headers))
    assert sorted(r["role"] for r in staff) == ["admin", "teacher", "teacher"]
    teachers = rows(client.get("/api/v1/users", query_string={"format": "csv", "role": "teacher", "q": "second"},
                               headers=kit.admin.headers))
    assert [r["name"] for r in teachers] == ["Second Teacher"]
    assert client.get("/api/v1/users?format=csv", headers=kit.teacher.headers).status_code == 403
