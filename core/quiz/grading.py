"""Grading a trainee's answer to a knowledge question, with feedback that quotes the cited passage."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher

from core.quiz.questions import QuizQuestion

# A typed name this close to an accepted one counts as right ("dermatofibrom", "keratoacanthomma").
NAME_SIMILARITY = 0.85


@dataclass(frozen=True)
class Grade:
    correct: bool
    feedback: str


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9%.]+", " ", text).strip()


def _numbers(text: str) -> list[float]:
    return [float(n) for n in re.findall(r"\d+(?:\.\d+)?", text)]


def is_correct(question: QuizQuestion, response: str) -> bool:
    """A chosen option, or a short answer: a name within typing distance of an accepted one, or the figure's numbers."""
    given = _plain(response or "")
    if not given:
        return False
    if question.kind == "figure":
        return _numbers(given) == _numbers(question.answer) and bool(_numbers(given))
    for accepted in (question.answer, *question.accepted):
        target = _plain(accepted)
        if given == target or (len(target) >= 5 and SequenceMatcher(None, given, target).ratio() >= NAME_SIMILARITY):
            return True
    return False


def grade(question: QuizQuestion, response: str) -> Grade:
    cited = question.citations[0]
    source = f"{cited.title} — {cited.section}"
    if is_correct(question, response):
        return Grade(True, f"Correct: {question.answer}. From {source}: “{question.explanation}”")
    said = f"You answered “{response.strip()}”. " if (response or "").strip() else "No answer given. "
    return Grade(False, f"{said}The answer is {question.answer}. From {source}: “{question.explanation}”")
