"""Trainee quiz: questions generated from the real knowledge base, each answered by the passage it cites."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter

import pytest

from core.config import PROJECT_ROOT, Settings
from core.knowledge.documents import load_documents
from core.knowledge.splitting import split_document
from core.quiz import build_bank, draw, grade, is_correct
from core.quiz.questions import BLANK, _title_variants


@pytest.fixture(scope="module")
def documents():
    return load_documents(Settings().kb_dir).documents


@pytest.fixture(scope="module")
def bank(documents):
    return build_bank(documents, seed=0)


def test_every_generated_answer_is_supported_by_the_passage_it_cites(documents, bank):
    by_id = {doc.doc_id: doc for doc in documents}
    assert len(bank) >= 100
    assert {q.kind for q in bank} == {"condition", "figure"}
    for q in bank:
        assert len(q.choices) == 4 and len(set(q.choices)) == 4 and q.answer in q.choices, q.question_id
        assert BLANK in q.question and q.explanation not in q.question
        cited = q.citations[0]
        doc = by_id[cited.doc]
        sections = [c for c in split_document(doc) if c.section == cited.section]
        assert any(q.explanation in c.sentences for c in sections), f"{q.question_id}: sentence not in the cited section"
        if q.kind == "condition":
            assert q.answer == doc.title
            assert any(re.search(rf"(?<![\w-]){re.escape(v)}", q.explanation, re.IGNORECASE)
                       for v in _title_variants(doc.title)), f"{q.question_id}: the passage does not name {q.answer}"
        else:
            assert q.answer.replace("%", "") in q.explanation.replace(" %", "%").replace("%", ""), q.question_id
            # No distractor shares a number with the answer ("1.0 mm" beside "1 mm" would be ambiguous).
            answer_numbers = set(re.findall(r"\d+(?:\.\d+)?", q.answer))
            for choice in q.choices:
                if choice != q.answer:
                    assert not {float(n) for n in re.findall(r"\d+(?:\.\d+)?", choice)} & {float(n) for n in answer_numbers}


def test_same_seed_same_quiz_and_weak_topics_come_up_more(documents, bank):
    again = build_bank(documents, seed=0)
    assert [q.to_json() for q in draw(again, 10, seed=3)] == [q.to_json() for q in draw(bank, 10, seed=3)]
    assert [q.question_id for q in draw(bank, 10, seed=3)] != [q.question_id for q in draw(bank, 10, seed=4)]
    plain = Counter(q.topic for seed in range(20) for q in draw(bank, 10, seed=seed))
    weighted = Counter(q.topic for seed in range(20) for q in draw(bank, 10, seed=seed, topic_weights={"emergencies": 5.0}))
    assert weighted["emergencies"] > 1.5 * plain["emergencies"]
    one_doc = Counter(q.citations[0].doc for q in draw(bank, 30, seed=1))
    assert max(one_doc.values()) <= 2


def test_grading_accepts_the_choice_a_typo_or_the_figure_and_explains_with_the_source(bank):
    condition = next(q for q in bank if q.kind == "condition" and q.answer == "Dermatofibroma")
    assert is_correct(condition, "Dermatofibroma") and is_correct(condition, " dermatofibroma ")
    assert is_correct(condition, "dermatofibrom")  # one letter short
    wrong = next(c for c in condition.choices if c != condition.answer)
    result = grade(condition, wrong)
    assert not result.correct
    assert condition.answer in result.feedback and condition.explanation in result.feedback
    assert condition.citations[0].section in result.feedback
    assert not grade(condition, "").correct and "No answer given" in grade(condition, "").feedback

    figure = next(q for q in bank if q.kind == "figure" and q.answer.endswith("%") and "–" not in q.answer)
    number = figure.answer.rstrip("%")
    assert is_correct(figure, f"{number} %") and is_correct(figure, f"{number}")
    assert not is_correct(figure, f"{float(number) + 1:g}%")


def test_quiz_cli_prints_json_questions_and_refuses_bad_counts():
    run = subprocess.run([sys.executable, "-m", "core", "quiz", "--n", "5", "--json", "--seed", "2"],
                         capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120)
    assert run.returncode == 0, run.stderr
    questions = json.loads(run.stdout)
    assert len(questions) == 5
    for q in questions:
        assert {"question", "choices", "answer", "explanation", "citations"} <= set(q)
        assert q["answer"] in q["choices"] and q["citations"][0]["doc"] and q["citations"][0]["section"]
    bad = subprocess.run([sys.executable, "-m", "core", "quiz", "--n", "0"], capture_output=True, text=True,
                         cwd=PROJECT_ROOT, timeout=120)
    assert bad.returncode == 2 and "at least 1" in bad.stderr and "Traceback" not in bad.stderr
