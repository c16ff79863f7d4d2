"""How much each part of a match counts, and the score below which nobody is suggested.

Its own module because both the scoring and the explanations read it: the explanation names the
parts that weigh most.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Weights:
    subject: float = 0.4
    schedule: float = 0.3
    learning_style: float = 0.2
    performance: float = 0.1
    threshold: float = 0.5

    def combine(self, subject, schedule, learning_style, performance):
        return (
            self.subject * subject
            + self.schedule * schedule
            + self.learning_style * learning_style
            + self.performance * performance
        )
