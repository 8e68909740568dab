"""Each trainee's quiz answers, kept in the case database: score history, weak topics, and the topic
weights the next quiz is drawn with."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import Integer, cast, func, select

from core.cases.errors import CaseInputError
from core.cases.schema import QuizAnswerRow
from core.cases.store import CaseStore, check_actor
from core.text import storable

KINDS = ("knowledge", "image")
WEAK_MIN_ANSWERS = 3  # a topic needs this many answers before it can be called weak
WEAK_BELOW = 0.6  # share right under which a topic is a weak spot


@dataclass(frozen=True)
class QuizAnswer:
    kind: str  # "knowledge" or "image"
    topic: str
    question_id: str
    correct: bool


@dataclass(frozen=True)
class TopicScore:
    topic: str
    asked: int
    right: int

    @property
    def share_right(self) -> float:
        return self.right / self.asked if self.asked else 0.0

    @property
    def weak(self) -> bool:
        return self.asked >= WEAK_MIN_ANSWERS and self.share_right < WEAK_BELOW


class QuizHistory:
    def __init__(self, store: CaseStore):
        self.store = store

    def record(self, user: str, answers: list[QuizAnswer]) -> None:
        user = check_actor(user)
        for answer in answers:
            if answer.kind not in KINDS:
                raise CaseInputError(f"Unknown quiz kind {answer.kind!r}.")
        now = datetime.now(timezone.utc)

        def work(session) -> None:
            session.add_all(QuizAnswerRow(user_name=user, at=now, kind=a.kind, topic=storable(a.topic)[:64],
                                          question_id=storable(a.question_id)[:255], correct=bool(a.correct))
                            for a in answers)

        self.store.run(work, write=True)

    def scores(self, user: str, kind: str | None = None) -> list[TopicScore]:
        """Per topic: answers given and answers right, most answered first."""
        user = check_actor(user)

        def work(session) -> list[TopicScore]:
            query = (select(QuizAnswerRow.topic, func.count(), func.sum(cast(QuizAnswerRow.correct, Integer)))
                     .where(QuizAnswerRow.user_name == user).group_by(QuizAnswerRow.topic))
            if kind is not None:
                query = query.where(QuizAnswerRow.kind == kind)
            return [TopicScore(topic, int(asked), int(right or 0)) for topic, asked, right in session.execute(query)]

        return sorted(self.store.run(work, write=False), key=lambda t: (-t.asked, t.topic))

    def topic_weights(self, user: str, kind: str = "knowledge") -> dict[str, float]:
        """2 x the smoothed share wrong, (wrong + 1) / (asked + 2): 1 for a topic never asked, up to 2 for one
        always missed, towards 0 for one always right, so the next quiz leans to weak topics."""
        return {t.topic: 2.0 * (t.asked - t.right + 1) / (t.asked + 2) for t in self.scores(user, kind)}
