"""The bare Flask "hello" that bench/http.py serves under the same server settings as StudySync."""
from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/")
def hello():
    return jsonify({"success": True, "message": "hello"})
