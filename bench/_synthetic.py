"""A deterministic synthetic college for the benchmarks.

Students have a major that shapes their subjects, free times clustered around
a preferred part of the day (as real timetables are), a skewed performance
distribution, and a learning-style sentence composed from fragments. The
fragments give a bounded set of distinct sentences, which lets a benchmark
embed each distinct text once with the real model — exactly what the
embedding cache does in production.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from studysync.matching.profile import DAYS, SLOTS, ProfileData

MAJORS = {
    "Computer Science": ["Data Structures", "Algorithms", "Discrete Mathematics", "Calculus II", "Operating Systems",
                         "Databases", "Linear Algebra", "Computer Architecture"],
    "Mathematics": ["Calculus II", "Calculus III", "Linear Algebra", "Real Analysis", "Abstract Algebra",
                    "Probability", "Differential Equations", "Statistics"],
    "Biology": ["General Biology", "Cell Biology", "Genetics", "Organic Chemistry", "General Chemistry",
                "Microbiology", "Statistics", "Ecology"],
    "Nursing": ["Anatomy", "Physiology", "Microbiology", "Pharmacology", "Nutrition", "General Chemistry",
                "Psychology", "Statistics"],
    "Economics": ["Microeconomics", "Macroeconomics", "Econometrics", "Statistics", "Calculus I",
                  "Accounting", "Finance", "Game Theory"],
    "Psychology": ["Intro to Psychology", "Developmental Psychology", "Cognitive Psychology", "Statistics",
                   "Research Methods", "Sociology", "Neuroscience", "Abnormal Psychology"],
    "Physics": ["Physics I", "Physics II", "Calculus III", "Differential Equations", "Linear Algebra",
                "Quantum Mechanics", "Electromagnetism", "Thermodynamics"],
    "History": ["World History", "US History", "Political Science", "Philosophy", "English Literature",
                "Art History", "Sociology", "Spanish"],
}
GENERAL = ["English Composition", "Public Speaking", "Spanish", "French", "Philosophy", "Statistics", "Calculus I"]
PERIOD_WEIGHTS = {  # P(slot) given a student's preferred part of the day
    "early": [0.55, 0.30, 0.10, 0.05],
    "day": [0.25, 0.50, 0.20, 0.05],
    "evening": [0.05, 0.25, 0.55, 0.15],
    "night": [0.02, 0.13, 0.40, 0.45],
}
LEVEL_WEIGHTS = [0.08, 0.20, 0.35, 0.25, 0.12]

OPENERS = ["I learn best", "I study best", "I understand material best", "Honestly I do best"]
METHODS = [
    "with diagrams and charts", "by drawing mind maps", "by listening to lectures",
    "through podcasts and recorded lectures", "by doing lots of practice problems", "with hands-on labs",
    "by explaining concepts to others", "in group discussions", "by reading the textbook and taking notes",
    "with flashcards and spaced repetition", "by writing summaries", "by watching video tutorials",
]
PLACES = [
    "in a quiet library", "in a busy cafe", "at home with music on", "in a study room with friends",
    "outdoors when the weather is nice", "late at night in my dorm", "early in the morning", "on campus between classes",
]
PACES = ["", ", going slowly and carefully", ", at a fast pace", ", with short breaks every hour",
         ", in long sessions before exams"]
FIRST = ["Alex", "Sam", "Jordan", "Taylor", "Priya", "Wei", "Maria", "Omar", "Aisha", "Liam", "Noah", "Emma",
         "Olivia", "Mateo", "Yuki", "Fatima", "Chen", "Sofia", "Diego", "Hana"]
LAST = ["Kim", "Patel", "Garcia", "Nguyen", "Smith", "Johnson", "Okafor", "Rossi", "Müller", "Cohen", "Silva",
        "Tanaka", "Brown", "Lopez", "Ali", "Novak"]


@dataclass
class Student:
    id: str
    name: str
    major: str
    subjects: list[str]
    schedule: dict[str, list[str]]
    performance_level: int
    learning_style: str

    def profile(self, vector=None) -> ProfileData:
        return ProfileData(self.id, self.subjects, self.schedule, self.performance_level, vector, self.name)


def student(rng: random.Random, i: int) -> Student:
    major = rng.choice(list(MAJORS))
    subjects = rng.sample(MAJORS[major], rng.randint(2, 4))
    if rng.random() < 0.4:
        extra = rng.choice(GENERAL)
        if extra not in subjects:
            subjects.append(extra)
    period = PERIOD_WEIGHTS[rng.choice(list(PERIOD_WEIGHTS))]
    schedule: dict[str, list[str]] = {}
    for day in sorted(rng.sample(DAYS, rng.randint(2, 5)), key=DAYS.index):
        slots = {rng.choices(SLOTS, weights=period)[0] for _ in range(rng.randint(1, 2))}
        schedule[day] = sorted(slots, key=SLOTS.index)
    style = f"{rng.choice(OPENERS)} {rng.choice(METHODS)} {rng.choice(PLACES)}{rng.choice(PACES)}."
    return Student(
        id=f"u{i}",
        name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
        major=major,
        subjects=subjects,
        schedule=schedule,
        performance_level=rng.choices(range(1, 6), weights=LEVEL_WEIGHTS)[0],
        learning_style=style,
    )


def college(n: int, seed: int = 0) -> list[Student]:
    rng = random.Random(seed)
    return [student(rng, i) for i in range(n)]


def embed_styles(students: list[Student], embedder) -> tuple[list, int]:
    """One vector per student, embedding each distinct sentence once. Returns (vectors, distinct)."""
    distinct = sorted({s.learning_style for s in students})
    table = dict(zip(distinct, embedder.embed(distinct)))
    return [table[s.learning_style] for s in students], len(distinct)
