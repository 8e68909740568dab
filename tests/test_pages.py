"""Red flags in the UI (AppTest, real app): banners come before anything else and stay until acknowledged;
the chat page answers with citation cards."""
import pytest
from streamlit.testing.v1 import AppTest

from tests.support import HAM_DIR, ROOT, requires_ham, requires_model

APP = str(ROOT / "dashboard" / "app.py")
CHAT = str(ROOT / "pages" / "chat.py")
EMERGENCY_NOTE = "Toddler with fever and tiny purple spots that do not go away when pressed."


def _app(page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    assert not at.exception, at.exception
    return at


@requires_model
def test_note_red_flag_banner_needs_acknowledgement():
    at = _app()
    at.text_area[0].input(EMERGENCY_NOTE).run()
    assert not at.exception, at.exception
    banner = " ".join(e.value for e in at.error)
    assert "EMERGENCY" in banner
    assert any("purple" in m.value for m in at.markdown if "Triggered by" in m.value)
    ack = [c for c in at.checkbox if c.label.startswith("I have read this red flag")]
    assert len(ack) == 1 and not ack[0].value
    ack[0].check().run()
    # Still shown after acknowledgement (compact), never silently dismissed, across further reruns.
    at.run()
    banner = " ".join(e.value for e in at.error)
    assert "EMERGENCY" in banner and "Acknowledged" in banner
    assert not [c for c in at.checkbox if c.label.startswith("I have read this red flag")]


@requires_model
def test_seven_point_checklist_escalates_at_three():
    at = _app()
    boxes = {c.label.split(" (")[0]: c for c in at.checkbox}
    boxes["Change in size"].check().run()
    assert "Score: 2" in " ".join(m.value for m in at.markdown)
    assert not any("URGENT" in w.value for w in at.warning)
    boxes = {c.label.split(" (")[0]: c for c in at.checkbox}
    boxes["Inflammation"].check().run()
    assert "Score: 3" in " ".join(m.value for m in at.markdown)
    assert any("URGENT" in w.value for w in at.warning)


@pytest.fixture
def chat_app(mini_data_dir, mini_kb_dir, monkeypatch):
    monkeypatch.setenv("DERMADESK_DATA_DIR", str(mini_data_dir))
    monkeypatch.setenv("DERMADESK_KB_DIR", str(mini_kb_dir))
    return _app(CHAT)


def test_chat_answers_with_citation_cards(chat_app):
    at = chat_app
    assert any("Not medical advice" in i.value for i in at.info)
    at.chat_input[0].set_value("What are spoke-wheel areas?").run()
    assert not at.exception, at.exception
    assistant = [m for m in at.chat_message if m.name == "assistant"][-1]
    assert "[1]" in " ".join(md.value for md in assistant.markdown)
    assert any(e.label.startswith("[1] ") for e in assistant.expander)
    assert any("reviewed 20" in c.value for c in assistant.caption)  # each card says when its document was reviewed


def test_chat_emergency_banner_comes_before_the_answer(chat_app):
    at = chat_app
    at.chat_input[0].set_value("My son has a high fever and a purple rash that does not fade under a glass").run()
    assert not at.exception, at.exception
    assistant = [m for m in at.chat_message if m.name == "assistant"][-1]
    kinds = [child.type for child in assistant.children.values()]
    assert kinds[0] == "alert" or "error" in kinds[0], kinds
    first = list(assistant.children.values())[0]
    assert "EMERGENCY" in first.value


def test_chat_refuses_out_of_scope(chat_app):
    at = chat_app
    at.chat_input[0].set_value("Write me a poem about the stock market").run()
    assistant = [m for m in at.chat_message if m.name == "assistant"][-1]
    reply = " ".join(md.value for md in assistant.markdown)
    assert "don't have that in the knowledge base" in reply and "I can answer questions about" in reply


def test_chat_offers_starter_questions_then_a_clear_button(chat_app):
    at = chat_app
    starters = [b for b in at.button if b.key and b.key.startswith("starter-")]
    assert len(starters) == 4
    starters[0].click().run()
    assert not at.exception, at.exception
    assert [m.name for m in at.chat_message] == ["user", "assistant"]
    assert not [b for b in at.button if b.key and b.key.startswith("starter-")]  # only for an empty chat
    next(b for b in at.button if b.label == "Clear the conversation").click().run()
    assert not at.chat_message and len([b for b in at.button if b.key and b.key.startswith("starter-")]) == 4


def test_chat_says_when_the_knowledge_base_is_still_being_indexed(chat_app):
    """Found in the real-browser walk: the first chat visit hung for two minutes without a word."""
    import threading

    from dashboard import resources

    resources._INDEX_STATES.clear()
    resources._INDEX_LOCK.acquire()  # as the background refresh holds it while indexing
    threading.Timer(1.5, resources._INDEX_LOCK.release).start()
    at = chat_app
    at.run()
    assert not at.exception, at.exception
    assert any("being indexed in the background" in i.value for i in at.info)
    at.chat_input[0].set_value("What are spoke-wheel areas?").run()
    assert not at.exception, at.exception
    assert [m.name for m in at.chat_message][-1] == "assistant"


RED_FLAG_NOTE = "fever 39.5, non-blanching purple rash spreading, new confusion, mole bleeding and growing"


def _in_order(block):
    """Every element under `block`, in the order the page draws them."""
    for _, child in sorted(block.children.items()):
        if getattr(child, "children", None):
            yield from _in_order(child)
        else:
            yield child


@requires_model
@requires_ham
def test_analysis_red_flag_banner_is_short_with_every_finding_folded_below_it():
    """Issue #15: with a red-flag note the banner listed every finding, its advice and sources in full and pushed
    the result below the first screen. Now the level, the most severe finding and its first action stay in the
    banner, above the result, and the rest is in a folded expander right below it."""
    at = _app()
    at.text_area[0].input(RED_FLAG_NOTE)
    at.file_uploader[0].upload("ISIC_0024306.jpg", (HAM_DIR / "images" / "ISIC_0024306.jpg").read_bytes(), "image/jpeg")
    at.run()
    assert not at.exception, at.exception
    folded = [e for e in at.expander if " in full, with the words that raised them" in e.label]
    assert len(folded) == 1 and not folded[0].proto.expanded, [e.label for e in at.expander]
    findings = [line for m in folded[0].markdown for line in m.value.splitlines() if line.startswith("- **")]
    assert len(findings) >= 3 and folded[0].label.startswith(f"{len(findings)} findings")
    inside = " ".join(m.value for m in folded[0].markdown)
    assert "Triggered by" in inside and "purple" in inside and "Sources for this advice" in inside
    assert "benzylpenicillin" in inside  # the full advice is kept, folded
    # The banner itself (outside the expander): level, top finding, first action; no list.
    assert not folded[0].error
    banners = [e for e in at.error if e.value.startswith("**EMERGENCY —")]
    assert len(banners) == 1
    banner = banners[0].value
    assert "Suspected meningococcal disease" in banner and "First action:" in banner and "- **" not in banner
    assert "more findings below" in banner
    # Drawn before the result (the chart), and the inputs are folded once an image is analysed.
    order = list(_in_order(at.main))
    chart = next(i for i, e in enumerate(order) if e.type == "plotly_chart")
    assert order.index(banners[0]) < chart
    inputs = next(e for e in at.expander if e.label.startswith("Patient details"))
    assert not inputs.proto.expanded
    # Beside the note, a pointer to the banner (scrolled out of view when the note is typed after the upload).
    assert any("EMERGENCY red flag" in e.value and "top of this page" in e.value for e in inputs.error)
    # The acknowledgement box is outside the expander; ticked, the banner says so and stays, with its details.
    assert not folded[0].checkbox
    ack = [c for c in at.checkbox if c.label.startswith("I have read this red flag")]
    assert len(ack) == 1
    ack[0].check().run()
    assert not at.exception, at.exception
    banner = next(e.value for e in at.error if e.value.startswith("**EMERGENCY —"))
    assert "Acknowledged by the clinician" in banner and "First action:" in banner
    assert any(" in full, with the words that raised them" in e.label for e in at.expander)
    assert not [c for c in at.checkbox if c.label.startswith("I have read this red flag")]


def test_the_first_action_of_a_saved_case_is_its_most_severe_conditions_advice():
    """Found in the walk: on the case page the banner's first action was the level's generic advice, because a
    finding read back from the database carries its condition's name but not its key."""
    from dataclasses import replace

    from core.triage import assess
    from dashboard.components import first_action

    assessment = assess(RED_FLAG_NOTE, semantic=False)
    stored = replace(assessment, findings=tuple(replace(f, condition_key="") for f in assessment.findings))
    assert first_action(stored) == first_action(assessment)
    assert first_action(assessment).startswith("Treat as meningococcal disease until proven otherwise")
