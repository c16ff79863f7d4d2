"""gunicorn entry point: `gunicorn wsgi:app` (and `flask --app wsgi ...`)."""
from studysync.app import create_app

app = create_app()
