"""HTTP surfaces: `/api/v1` (canonical) and `/api` (the StudySync mobile app's contract)."""
