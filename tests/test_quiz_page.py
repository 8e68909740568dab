"""The trainee quiz page, run for real with AppTest inside the app's navigation."""
from streamlit.testing.v1 import AppTest

from core.config import Settings
from core.knowledge.documents import load_documents
from core.quiz import build_bank, draw
from tests.support import ROOT, requires_ham, requires_model

APP = str(ROOT / "dashboard" / "app.py")
QUIZ = str(ROOT / "pages" / "quiz.py")

pytestmark = requires_model


def _quiz() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.switch_page(QUIZ)
    at.run()
    assert not at.exception, at.exception
    return at


def _button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def test_knowledge_round_is_graded_with_the_cited_passage_and_scored():
    at = _quiz()
    assert at.title[0].value == "Trainee quiz"
    expected = draw(build_bank(load_documents(Settings().kb_dir).documents, seed=0), 5, seed=0)
    radios = [r for r in at.radio if r.label.startswith("**")]
    assert [r.label.split(" ", 1)[1] for r in radios] == [q.question for q in expected]
    radios[0].set_value(expected[0].answer)
    radios[1].set_value(expected[1].answer)
    radios[2].set_value(next(c for c in expected[2].choices if c != expected[2].answer))
    _button(at, "Check my answers").click().run()
    assert not at.exception, at.exception
    assert len(at.success) == 2 and len(at.error) == 3
    assert expected[2].citations[0].section in at.error[0].value and "No answer given" in at.error[1].value
    assert at.sidebar.metric[0].value == "2 / 5"
    _button(at, "New questions").click().run()
    again = [r.label for r in at.radio if r.label.startswith("**")]
    assert again != [r.label for r in radios] and at.sidebar.metric[0].value == "2 / 5"


@requires_ham
def test_image_quiz_reveals_truth_model_view_and_reading():
    at = _quiz()
    guess = next(r for r in at.radio if r.label == "Your diagnosis")
    _button(at, "Reveal").click().run()
    assert any("Pick a diagnosis first" in w.value for w in at.warning)
    guess = next(r for r in at.radio if r.label == "Your diagnosis")
    guess.set_value("nv")
    _button(at, "Reveal").click().run()
    assert not at.exception, at.exception
    verdicts = [m.value for m in (*at.success, *at.error) if "Ground truth" in m.value]
    assert len(verdicts) == 1
    captions = [c for image in at.get("image") for c in image.captions]
    assert any("where the model found evidence" in c for c in captions)
    assert any(e.label.startswith("Read: ") for e in at.expander)
    assert at.sidebar.metric[0].value.endswith("/ 1")


def test_named_trainees_answers_are_kept_and_weak_topics_weigh_the_next_round(tmp_path, monkeypatch):
    from core.cases import CaseStore
    from core.cases.quiz_history import QuizHistory

    monkeypatch.setenv("DERMADESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DERMADESK_USER", "Trainee T")
    at = _quiz()
    radios = [r for r in at.radio if r.label.startswith("**")]
    expected = draw(build_bank(load_documents(Settings().kb_dir).documents, seed=0), 5, seed=0)
    for radio, q in zip(radios, expected):
        radio.set_value(next(c for c in q.choices if c != q.answer))  # all wrong
    _button(at, "Check my answers").click().run()
    assert not at.exception, at.exception
    store = CaseStore.open(Settings.from_env())
    try:
        history = QuizHistory(store)
        scores = {t.topic: t for t in history.scores("Trainee T")}
        assert sum(t.asked for t in scores.values()) == 5 and sum(t.right for t in scores.values()) == 0
        weights = history.topic_weights("Trainee T")
        assert all(w > 1.0 for w in weights.values())  # missed topics weigh more than unseen ones (1.0)
    finally:
        store.close()
    # The questions on screen did not change when the answers were recorded.
    assert [r.label for r in at.radio if r.label.startswith("**")] == [r.label for r in radios]
    assert any("Your score history" == e.label for e in at.sidebar.expander)
