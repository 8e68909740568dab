"""Knowledge-base chat: red flags first, then an answer quoted from the curated documents with citations."""
import hashlib

import streamlit as st

from core.knowledge.chat import ask
from core.triage import MAX_TEXT_CHARS
from dashboard import components as ui
from dashboard import resources
from core.accounts.roles import Permission
from dashboard import auth_ui

auth_ui.require(Permission.CHAT)

st.title("Ask the knowledge base")
st.info("**Not medical advice.** Answers are quoted from DermaDesk's curated dermatology documents, each with "
        "its sources. Questions outside that knowledge base are declined.", icon=":material/menu_book:")

with st.spinner("Loading the knowledge base…"):
    index = resources.knowledge_index()

case = st.session_state.get("current_case")
use_case = st.toggle("Use current case", value=False, disabled=case is None,
                     help="Questions about 'this lesion' then use the analysed image's prediction as context."
                     if case else "Analyse an image first to use it as context.")
if case and use_case:
    st.caption(f"Context: {case.image_name} — model predicts **{case.predicted}** "
               f"({case.probabilities[case.predicted]:.0%}).")

history = st.session_state.setdefault("chat_history", [])
SOURCES_SHOWN = 3  # the document lists all its sources; a card shows the first few
STARTERS = ("What are the ABCDE warning signs of melanoma?", "When is a mole an urgent referral under NICE NG12?",
            "How do I tell a seborrhoeic keratosis from a melanoma on dermoscopy?",
            "What does a Grad-CAM heatmap not show?")


def render(turn: dict, position: int) -> None:
    with st.chat_message(turn["role"]):
        if turn["role"] == "user":
            st.markdown(turn["text"])
            return
        answer = turn["answer"]
        # The red flag is shown before the answer, and stays until acknowledged.
        ui.escalation_banner(answer.triage, key=f"chat-{position}-{turn['digest']}", text=turn["question"])
        st.markdown(answer.answer)
        for c in answer.citations:
            with st.expander(f"[{c.n}] {c.title} — {c.section}"):
                st.markdown(f"> {c.passage}")
                shown = " · ".join(c.sources[:SOURCES_SHOWN])
                more = f" · and {len(c.sources) - SOURCES_SHOWN} more in the document" if len(c.sources) > SOURCES_SHOWN else ""
                st.caption(f"Sources: {shown}{more}" if c.sources else "Sources: none listed")
                st.caption(f"Document `{c.doc}`" + (f" · reviewed {c.last_reviewed}" if c.last_reviewed else ""))


for position, turn in enumerate(history):
    render(turn, position)

def _ask_starter(text: str) -> None:
    st.session_state["chat_pending"] = text


question = st.chat_input("Ask about lesions, dermoscopy, melanoma rules, emergencies, the model…",
                         max_chars=MAX_TEXT_CHARS) or st.session_state.pop("chat_pending", None)
if question is not None:
    if not question.strip():
        st.warning("Type a question first.")
    else:
        history.append({"role": "user", "text": question})
        render(history[-1], len(history) - 1)
        try:
            with st.spinner("Searching the knowledge base…"):
                answer = ask(question, case=case if use_case else None, index=index)
        except ValueError as exc:
            st.error(f"That question could not be processed: {exc}")
        else:
            history.append({"role": "assistant", "answer": answer, "question": question,
                            "digest": hashlib.sha256(question.encode()).hexdigest()[:12]})
            render(history[-1], len(history) - 1)

if not history:
    st.caption("Try one of these, or ask your own:")
    for column, starter in zip(st.columns(len(STARTERS)), STARTERS):
        column.button(starter, key=f"starter-{starter}", on_click=_ask_starter, args=(starter,))
elif st.button("Clear the conversation", icon=":material/delete_sweep:"):
    history.clear()
    st.rerun()
