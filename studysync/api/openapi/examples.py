"""Example bodies for the main requests, keyed by operationId (seed 004's own bodies where it has one)."""
from __future__ import annotations

COLLEGE_ID = "3f6c1a52-8a3e-4c1b-9a55-2f0d3c7e9b10"

REQUEST_EXAMPLES: dict[str, dict] = {
    "auth_login": {"email": "admin@demo.edu", "password": "Admin@1234"},
    "auth_change_password": {"old_password": "Admin@1234", "new_password": "NewPassword@1234"},
    "colleges_create_college": {
        "college_name": "MIT", "college_subdomain": "mit", "admin_name": "Dr. John Smith",
        "admin_email": "admin@mit.edu", "admin_password": "Admin@1234"},
    "colleges_update_college": {"college_name": "Massachusetts Institute of Technology", "college_status": "active"},
    "colleges_update_features": {"enabled_features": ["core", "chat", "study_sessions", "ai_matching", "social"]},
    "colleges_update_settings": {"email_domains": ["mit.edu"]},
    "users_create_staff": {"name": "Teacher", "email": "teacher@mit.edu", "password": "Teacher@1234",
                           "role": "teacher"},
    "students_register": {
        "college_id": COLLEGE_ID, "student_name": "John Doe", "student_email": "john.doe@mit.edu",
        "student_password": "Student@1234", "student_department": "Computer Science", "student_year": 2},
    "students_login": {"college_id": COLLEGE_ID, "student_email": "john.doe@mit.edu",
                       "student_password": "Student@1234"},
    "students_change_password": {"old_password": "Student@1234", "new_password": "NewPassword@1234"},
    "students_bulk_register": {"students": [
        {"student_name": "Alice Johnson", "student_email": "alice.johnson@mit.edu",
         "student_password": "Student@1234", "student_department": "Electrical Engineering", "student_year": 1},
        {"student_name": "Bob Smith", "student_email": "bob.smith@mit.edu", "student_password": "Student@1234",
         "student_department": "Mechanical Engineering", "student_year": 3}]},
    "students_update_profile": {"student_name": "John Michael Doe", "student_year": 3, "student_status": "active"},
    "profiles_update_my_profile": {
        "major": "Computer Science", "year": "Junior", "subjects": ["Mathematics", "Computer Science"],
        "learning_style": "I learn best with visual aids and practice problems"},
    "groups_create_group": {
        "name": "Math 220 Study Group", "subject": "Mathematics", "schedule": "Mon/Wed 6-8pm",
        "location": "Library room 2", "max_members": 6, "join_policy": "request"},
    "groups_update_group": {"schedule": "Tue/Thu 5-7pm"},
    "chat_post_message": {"content": "Hi all! Shall we start with chapter 3?"},
    "dm_send_message": {"content": "Thanks for the invite!"},
}
