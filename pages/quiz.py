"""Trainee quiz: knowledge questions generated from the knowledge base, and an image quiz on validation
images with the ground truth, the model's view and the passage to read afterwards."""
import streamlit as st

from core.analysis import HeatmapRequest
from core.cases import CaseStoreError
from core.cases.quiz_history import QuizAnswer, QuizHistory
from core.config import CLASS_NAMES
from core.explain import figures
from core.quiz import draw, grade
from core.quiz.images import CLASS_DOCUMENTS, pick_images
from core.vision.data import DataError, image_path
from dashboard import components as ui
from dashboard import resources
from dashboard.cases_ui import case_store, current_user
from core.accounts.roles import Permission
from dashboard import auth_ui

auth_ui.require(Permission.QUIZ)

QUESTIONS_PER_ROUND = 5

st.title("Trainee quiz")
st.caption("Questions are written from the knowledge base's own sentences; every answer shows the passage it "
           "comes from. For learning, not for clinical decisions.")
settings = resources.settings()
user = current_user()
store = case_store()
history = QuizHistory(store) if store is not None and user else None
if history is None:
    st.caption("Enter your name in the sidebar to keep your score history; the next quiz then leans towards "
               "the topics you miss.")
score = st.session_state.setdefault("quiz_score", {"right": 0, "asked": 0})
score_slot = st.sidebar.empty()


def record_score(answers: list[QuizAnswer]) -> None:
    """Count the answers in this session's score and, with a name given, in the trainee's history."""
    score["right"] += sum(a.correct for a in answers)
    score["asked"] += len(answers)
    score_slot.metric("Quiz score this session", f"{score['right']} / {score['asked']}")
    if history is not None and answers:
        try:
            history.record(user, answers)
        except CaseStoreError as exc:
            st.warning(f"Your answers were marked but not saved to your history: {exc}")


record_score([])
knowledge_tab, image_tab = st.tabs(["Knowledge questions", "Image quiz"])

with knowledge_tab:
    round_number = st.session_state.setdefault("quiz_round", 0)
    bank = resources.quiz_bank(str(settings.kb_dir), 0)
    if f"quiz-questions-{round_number}" not in st.session_state:
        # Drawn once per round (weighted to the trainee's weak topics), so recording the answers, which
        # changes the weights, does not change the questions on screen.
        weights = history.topic_weights(user) if history is not None else None
        st.session_state[f"quiz-questions-{round_number}"] = [
            q.question_id for q in draw(bank, QUESTIONS_PER_ROUND, seed=round_number, topic_weights=weights)]
    by_id = {q.question_id: q for q in bank}
    questions = [by_id[i] for i in st.session_state[f"quiz-questions-{round_number}"] if i in by_id]
    if not questions:
        st.warning("The knowledge base holds no document the quiz can ask about.")
    with st.form(f"knowledge-round-{round_number}"):
        answers = {q.question_id: st.radio(f"**{n}.** {q.question}", q.choices, index=None, key=f"q-{round_number}-{n}")
                   for n, q in enumerate(questions, 1)}
        submitted = st.form_submit_button("Check my answers")
    if submitted:
        grades = [grade(q, answers[q.question_id] or "") for q in questions]
        if not st.session_state.get(f"scored-{round_number}"):
            st.session_state[f"scored-{round_number}"] = True
            record_score([QuizAnswer("knowledge", q.topic, q.question_id, g.correct) for q, g in zip(questions, grades)])
        for n, result in enumerate(grades, 1):
            (st.success if result.correct else st.error)(f"{n}. {ui.escape_markdown(result.feedback)}")
    if st.button("New questions"):
        st.session_state["quiz_round"] = round_number + 1
        st.rerun()

if history is not None:
    with st.sidebar.expander("Your score history"):
        scores = history.scores(user)
        if not scores:
            st.caption("No answers recorded yet.")
        for topic in scores:
            st.markdown(f"{'**weak:** ' if topic.weak else ''}{ui.escape_markdown(topic.topic)}: "
                        f"{topic.right} / {topic.asked} right")

with image_tab:
    model = resources.classifier()
    if model is None:
        ui.missing_model_message()
        st.stop()
    config = model.meta.training.get("config", {})
    try:
        records, validation_ids = resources.ham_records(str(settings.ham10000_dir), config.get("val_fraction", 0.2),
                                                        config.get("seed", 42))
    except DataError as exc:
        st.info(f"The image quiz needs a HAM10000-format folder; `{settings.ham10000_dir}` cannot be used: {exc} "
                "Set `DERMADESK_HAM10000_DIR`.")
        st.stop()
    image_number = st.session_state.setdefault("image_quiz_number", 0)
    record = pick_images(records, validation_ids, image_number + 1, seed=7)[image_number]
    try:
        data = image_path(settings.ham10000_dir, record.image_id).read_bytes()
    except OSError as exc:
        st.error(f"{record.image_id} cannot be read: {exc.strerror or exc}.")
        st.stop()
    key, decoded = resources.decode_or_stop(record.image_id, data)
    image_col, answer_col = st.columns(2)
    image_col.image(decoded.image, caption=f"Image {image_number + 1} · age "
                    f"{f'{record.age:g}' if record.age is not None else 'unknown'} · {record.sex} · {record.localization}",
                    width="stretch")
    with answer_col.form(f"image-{image_number}"):
        guess = st.radio("Your diagnosis", model.classes, index=None, format_func=lambda c: f"{c} — {CLASS_NAMES[c]}")
        revealed = st.form_submit_button("Reveal")
    if revealed and guess is None:
        answer_col.warning("Pick a diagnosis first.")
    elif revealed:
        if not st.session_state.get(f"image-scored-{image_number}"):
            st.session_state[f"image-scored-{image_number}"] = True
            record_score([QuizAnswer("image", record.dx, record.image_id, guess == record.dx)])
        verdict = "Correct" if guess == record.dx else f"Not quite: you said {guess} ({CLASS_NAMES[guess]})"
        (answer_col.success if guess == record.dx else answer_col.error)(
            f"{verdict}. Ground truth: **{record.dx} — {CLASS_NAMES[record.dx]}** (HAM10000 label).")
        analysis = resources.analysis(key, decoded, request=HeatmapRequest(classes=(record.dx,)))
        with answer_col:
            st.markdown("**What the model saw** (decision support, not a diagnosis)")
            ui.model_output(analysis.prediction, chart_key=f"quiz-chart-{image_number}")
        shown = analysis.heatmap(record.dx)
        image_col.image(figures.heatmap_overlay(decoded.image, shown.heatmap, 0.5), width="stretch",
                        caption=f"{shown.label}: where the model found evidence for {record.dx}")
        article = resources.knowledge_document(str(settings.kb_dir / "lesions" / f"{CLASS_DOCUMENTS[record.dx]}.md"))
        if article:
            with st.expander(f"Read: {article[0]} (knowledge base)"):
                st.markdown(article[1])
    if st.button("Next image"):
        st.session_state["image_quiz_number"] = image_number + 1
        st.rerun()
