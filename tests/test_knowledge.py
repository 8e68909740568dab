"""Knowledge base: parsing, splitting, incremental Chroma ingestion, fused retrieval."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from core.knowledge.documents import KnowledgeBaseError, load_documents, parse_document
from core.knowledge.index import KnowledgeIndex, ensure_index, index_is_built, ingest
from core.knowledge.lexical import BM25, tokenize
from core.knowledge.splitting import MAX_CHUNK_CHARS, split_document, split_sentences

REAL_KB = Path(__file__).resolve().parent.parent / "knowledge_base"
MINI_DOC_IDS = ["basal-cell-carcinoma-dermoscopy", "dermatofibroma", "melanoma-staging", "sun-protection"]



def _doc(path: Path, body: str, title: str = "Test document") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"---\ntitle: {title}\nsources:\n  - \"A source.\"\ntags: [x]\n---\n\n{body}\n", encoding="utf-8")
    return path


# --- documents and splitting ------------------------------------------------------------------

def test_parse_document_reads_front_matter(mini_kb_dir: Path) -> None:
    doc = parse_document(mini_kb_dir / "staging" / "melanoma-staging.md")
    assert doc.doc_id == "melanoma-staging"
    assert doc.title == "Melanoma staging basics"
    assert doc.tags == ("mel", "staging")
    assert doc.sources[0].startswith("Gershenwald JE")
    assert doc.body.startswith("# Melanoma staging basics")
    assert len(doc.content_hash) == 64


@pytest.mark.parametrize("text, problem", [
    ("# No front matter\n\nBody.", "no YAML front matter"),
    ("---\ntitle: [unclosed\n---\nBody.", "not valid YAML"),
    ("---\ntitle: Only a title\n---\nBody.", "lacks sources"),
    ("---\ntitle: T\nsources: [s]\n---\n", "no body"),
])
def test_parse_document_explains_bad_files(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "bad-doc.md"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match=problem) as info:
        parse_document(path)
    assert "bad-doc.md" in str(info.value)


def test_load_documents_skips_readme_and_reports_bad_files(tmp_path: Path, make_mini_kb) -> None:
    kb = make_mini_kb(tmp_path / "kb")
    (kb / "README.md").write_text("# Not a document\n", encoding="utf-8")
    (kb / "lesions" / "broken.md").write_text("no front matter", encoding="utf-8")
    loaded = load_documents(kb)
    assert sorted(d.doc_id for d in loaded.documents) == MINI_DOC_IDS
    assert len(loaded.problems) == 1 and "broken.md" in loaded.problems[0]


def test_load_documents_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeBaseError, match="not found"):
        load_documents(tmp_path / "nowhere")


def test_split_document_keeps_sections_and_metadata(mini_kb_dir: Path) -> None:
    chunks = split_document(parse_document(mini_kb_dir / "lesions" / "basal-cell-carcinoma-dermoscopy.md"))
    assert [c.section for c in chunks] == ["Vessels", "Pigmented structures"]
    assert [c.chunk_id for c in chunks] == ["basal-cell-carcinoma-dermoscopy#000", "basal-cell-carcinoma-dermoscopy#001"]
    assert all(c.title == "Basal cell carcinoma dermoscopy" and c.sources for c in chunks)
    assert len(chunks[1].sentences) == 3
    assert chunks[1].sentences[0].startswith("Spoke-wheel areas")
    assert "## " not in chunks[0].text  # headings become metadata, not text


def test_long_sections_are_capped(tmp_path: Path) -> None:
    sentence = "Seborrhoeic keratosis is a common benign epidermal tumour of older adults. "
    path = _doc(tmp_path / "long-doc.md", "# Long\n\n## Everything\n" + sentence * 60)
    chunks = split_document(parse_document(path))
    assert len(chunks) > 1
    assert all(len(c.text) <= MAX_CHUNK_CHARS and c.section == "Everything" for c in chunks)


def test_split_sentences_handles_abbreviations_lists_and_tables() -> None:
    text = textwrap.dedent("""\
        Vessels vary by tumour, e.g. arborising in BCC. Dotted vessels suggest melanocytic or inflammatory lesions.
        - Spoke-wheel areas are specific for basal cell carcinoma.
        - Leaf-like areas sit at the periphery.

        | Type | Reaction |
        | --- | --- |
        | I | Always burns, never tans |
        """)
    assert split_sentences(text) == [
        "Vessels vary by tumour, e.g. arborising in BCC.",
        "Dotted vessels suggest melanocytic or inflammatory lesions.",
        "Spoke-wheel areas are specific for basal cell carcinoma.",
        "Leaf-like areas sit at the periphery.",
        "Type | Reaction",
        "I | Always burns, never tans",
    ]


def test_abbreviations_are_whole_words_so_a_word_ending_in_one_still_ends_its_sentence() -> None:
    # "checklist." ends in "st." (as in "St. John's"), "et al." is two words: found by a reviewer of the question bank.
    text = ("It scores on the three-point checklist. Extensive regression is suspicious. "
            "Seen at St. John's Institute by Argenziano et al. in 2003.")
    assert split_sentences(text) == ["It scores on the three-point checklist.", "Extensive regression is suspicious.",
                                     "Seen at St. John's Institute by Argenziano et al. in 2003."]


def test_tokenize_matches_spelling_variants_and_compounds() -> None:
    assert tokenize("naevi") == tokenize("nevus")
    assert tokenize("haemangioma") == tokenize("hemangiomas")
    assert tokenize("colour") == tokenize("color")
    assert tokenize("arborising") == tokenize("arborizing")
    assert set(tokenize("spoke-wheel")) == {"spokewheel", "spok", "wheel"}
    assert tokenize("10,015 images") == tokenize("10015 image")
    assert tokenize("what is the") == []


def test_tokenize_can_leave_out_joined_compounds_the_corpus_does_not_know() -> None:
    assert tokenize("a 30-year-old", keep_compound=lambda joined: False) == ["30", "year", "old"]
    assert "spokewheel" in tokenize("spoke-wheel", keep_compound=lambda joined: joined == "spokewheel")


def test_query_terms_keep_known_compounds_and_drop_unknown_ones(mini_index: KnowledgeIndex) -> None:
    terms = mini_index.query_terms("spoke-wheel areas in a 30-year-old")
    assert "spokewheel" in terms and "30yearold" not in terms and {"30", "year", "old"} <= set(terms)


def test_bm25_ranks_the_passage_with_the_rare_term_first() -> None:
    corpus = [tokenize(t) for t in (
        "Melanoma can be thin or thick.",
        "Breslow thickness is measured in millimetres.",
        "Sunscreen protects the skin from melanoma.",
    )]
    bm25 = BM25(corpus)
    scores = bm25.scores(tokenize("Breslow"))
    assert scores.index(max(scores)) == 1 and scores[0] == scores[2] == 0
    assert bm25.coverage(tokenize("Breslow thickness"), corpus[1]) == pytest.approx(1.0)
    # "thick" meets "thickness" ("2.0 mm thick" answers a thickness question), "Breslow" carries the larger share.
    assert 0.0 < bm25.coverage(tokenize("Breslow thickness"), corpus[0]) < 0.5


# --- ingestion into a real Chroma directory ---------------------------------------------------

def test_ingest_is_incremental(tmp_path: Path, embeddings, make_mini_kb) -> None:
    kb = make_mini_kb(tmp_path / "kb")
    chroma = tmp_path / "chroma"
    first = ingest(kb, chroma, embeddings=embeddings, show_progress=False)
    assert (first.added, first.updated, first.removed, first.unchanged) == (4, 0, 0, 0)
    assert first.chunks == 7 and first.sentences >= 11

    embedded: list[str] = []
    again = ingest(kb, chroma, embeddings=embeddings, show_progress=False,
                   on_progress=lambda done, total, doc_id: embedded.append(doc_id))
    assert (again.added, again.updated, again.unchanged, again.chunks) == (0, 0, 4, 0)
    assert embedded == []

    staging = kb / "staging" / "melanoma-staging.md"
    staging.write_text(staging.read_text(encoding="utf-8").replace(
        "## Ulceration", "## Margins\nExcision margins for invasive melanoma are 1 to 2 cm depending on thickness.\n\n## Ulceration"),
        encoding="utf-8")
    (kb / "prevention" / "sun-protection.md").unlink()
    changed = ingest(kb, chroma, embeddings=embeddings, show_progress=False,
                     on_progress=lambda done, total, doc_id: embedded.append(doc_id))
    assert (changed.added, changed.updated, changed.removed, changed.unchanged) == (0, 1, 1, 2)
    assert embedded == ["melanoma-staging"]  # only the edited document was re-embedded

    index = KnowledgeIndex.open(chroma, embeddings=embeddings)
    assert index.document_ids == {"basal-cell-carcinoma-dermoscopy", "melanoma-staging", "dermatofibroma"}
    assert set(index.sections("melanoma-staging")) == {"Breslow thickness", "Margins", "Ulceration"}
    # The removed document's passages and sentences are gone from every ranking.
    assert all(p.doc != "sun-protection" for p in index.search("Sunscreen SPF broad spectrum", k=12).passages)


def test_ensure_index_builds_only_when_missing(tmp_path: Path, embeddings, make_mini_kb) -> None:
    kb = make_mini_kb(tmp_path / "kb")
    chroma = tmp_path / "chroma"
    assert not index_is_built(chroma)
    progress: list[tuple[int, int]] = []
    report = ensure_index(kb, chroma, embeddings=embeddings, show_progress=False,
                          on_progress=lambda done, total, doc_id: progress.append((done, total)))
    assert report is not None and report.added == 4
    assert progress[-1] == (4, 4)
    assert index_is_built(chroma)
    assert ensure_index(kb, chroma, embeddings=embeddings, show_progress=False) is None


def test_open_without_index_is_a_clear_error(tmp_path: Path, embeddings) -> None:
    with pytest.raises(KnowledgeBaseError, match="python -m core ingest"):
        KnowledgeIndex.open(tmp_path / "empty", embeddings=embeddings)


# --- retrieval ----------------------------------------------------------------------------------

@pytest.mark.parametrize("query, doc, section", [
    ("How is Breslow thickness measured?", "melanoma-staging", "Breslow thickness"),
    ("How often should sunscreen be reapplied?", "sun-protection", "Sunscreen"),
    ("Which blood vessels are typical of basal cell carcinoma?", "basal-cell-carcinoma-dermoscopy", "Vessels"),
    ("central white scar-like patch", "dermatofibroma", "Dermoscopy"),
])
def test_search_finds_the_right_section(mini_index: KnowledgeIndex, query: str, doc: str, section: str) -> None:
    retrieval = mini_index.search(query)
    assert retrieval.confident
    top = retrieval.passages[0]
    assert (top.doc, top.section) == (doc, section)


@pytest.mark.parametrize("term, doc", [("spoke-wheel", "basal-cell-carcinoma-dermoscopy"), ("Breslow", "melanoma-staging")])
def test_exact_terms_are_found_lexically(mini_index: KnowledgeIndex, term: str, doc: str) -> None:
    retrieval = mini_index.search(term)
    top = retrieval.passages[0]
    assert top.doc == doc and top.lexical > 0 and top.coverage == pytest.approx(1.0)
    assert retrieval.confident


@pytest.mark.parametrize("query", ["What's a good sourdough starter recipe?", "Best route from Paris to Berlin by train?"])
def test_unrelated_queries_are_not_confident(mini_index: KnowledgeIndex, query: str) -> None:
    assert not mini_index.search(query).confident


def test_search_ranks_the_answering_section_first_or_declines(mini_index: KnowledgeIndex) -> None:
    retrieval = mini_index.search("What does Breslow thickness measure?", k=2)
    assert retrieval.confident and 1 <= len(retrieval.passages) <= 2
    top = retrieval.passages[0]
    assert (top.doc, top.section) == ("melanoma-staging", "Breslow thickness")
    assert "granular layer" in top.text
    weak = mini_index.search("What's a good sourdough starter recipe?", k=2)
    assert not weak.confident and weak.passages  # ranked passages are kept for evaluation; the chat refuses


# --- the real knowledge base ------------------------------------------------------------------

def test_real_knowledge_base_parses_and_finds_documents_by_title(real_index: KnowledgeIndex) -> None:
    loaded = load_documents(REAL_KB)
    assert loaded.problems == []
    # Documents are still being added while the suite runs: judge those that were indexed.
    documents = [d for d in loaded.documents if d.doc_id in real_index.document_ids]
    assert len(documents) == len(real_index.document_ids) >= 5
    found = [d for d in documents if d.doc_id in {p.doc for p in real_index.search(d.title, k=3).passages}]
    assert len(found) >= 0.9 * len(documents), sorted({d.doc_id for d in documents} - {d.doc_id for d in found})


def test_misspelt_query_terms_are_read_as_the_known_term_one_edit_away() -> None:
    from core.knowledge.lexical import SpellingCorrector

    speller = SpellingCorrector({tokenize("venous")[0]: 3, tokenize("fitzpatrick")[0]: 5, tokenize("freckle")[0]: 4,
                                "melanoma": 40, "melanosis": 2})
    assert speller.correct(tokenize("venus")[0]) == tokenize("venous")[0]  # a letter left out
    assert speller.correct(tokenize("fitzpatrik")[0]) == tokenize("fitzpatrick")[0]
    assert speller.correct(tokenize("freckel")[0]) == tokenize("freckle")[0]  # two letters swapped
    assert speller.correct("melanomma") == "melanoma"
    assert speller.correct("mole") == "mole"  # short words are left alone
    assert speller.correct("zzzzzz") == "zzzzzz"  # nothing near: unchanged


def test_the_index_reads_a_misspelt_question(mini_index) -> None:
    assert mini_index.query_terms("arborizing vesels") == mini_index.query_terms("arborizing vessels")


def test_tokenize_drops_contractions_and_accents_and_reads_ness() -> None:
    assert tokenize("What's a T1a? Isn't it Hutchinson's sign? I've heard it can't be, won't it? whats lots") \
        == tokenize("T1a Hutchinson sign heard")
    assert tokenize("Sézary syndrome") == tokenize("sezary syndrome")
    assert tokenize("Breslow thickness") == tokenize("Breslow thick")


def test_synonyms_are_read_from_abbreviations_and_also_called() -> None:
    from core.knowledge.synonyms import defined_names

    assert defined_names("Atypical fibroxanthoma (AFX) is a rare tumour of the dermis.") == [
        ["Atypical fibroxanthoma", "AFX"]]
    assert defined_names("Lichen planus-like keratosis (LPLK), also called benign lichenoid keratosis or lichenoid "
                         "keratosis, is a benign lesion.") == [
        ["Lichen planus-like keratosis", "LPLK"],
        ["Lichen planus-like keratosis", "benign lichenoid keratosis", "lichenoid keratosis"]]
    assert defined_names("Eczema herpeticum (also called Kaposi varicelliform eruption) is an emergency.") == [
        ["Eczema herpeticum", "Kaposi varicelliform eruption"]]
    # A long clause before "also called" is not a name; "(pT)" is a prefix convention, not an abbreviation.
    assert defined_names("In older people the combination of the two is sometimes called desmoplastic melanoma.") == []
    assert defined_names("The pathological category (pT) is recorded.") == []


def test_synonyms_expand_terms_but_not_through_an_abbreviation_that_is_also_a_word() -> None:
    from core.knowledge.synonyms import Synonyms

    synonyms = Synonyms([
        "Atypical fibroxanthoma (AFX) arises on sun-damaged skin.",
        "Lichen planus-like keratosis (LPLK), also called lichenoid keratosis, is benign.",
        "Severe cutaneous adverse reactions (SCAR) include SJS.",
        "Excision leaves a scar.", "A scar may stretch.",
    ])
    assert set(synonyms.expand(tokenize("AFX in older men"))) >= set(tokenize("atypical fibroxanthoma"))
    assert set(synonyms.expand(tokenize("atypical fibroxanthoma"))) >= {"afx"}
    assert set(synonyms.expand(tokenize("LPLK on dermoscopy"))) >= set(tokenize("lichenoid keratosis"))
    assert synonyms.expand(tokenize("a scar on the leg")) == tokenize("a scar on the leg")


def test_abbreviations_are_spelled_out_as_the_knowledge_base_writes_them() -> None:
    from core.knowledge.synonyms import Synonyms

    synonyms = Synonyms([
        "Basal cell carcinoma (BCC), also called rodent ulcer, is the commonest skin cancer.",
        "Sentinel lymph node biopsy (SLNB) stages the nodes.",
        "Severe cutaneous adverse reactions (SCAR) include SJS.", "Excision leaves a scar.", "A scar may stretch.",
        "Actinic keratosis (AK) is a rough scaly patch.",
    ])
    # A plural abbreviation is read as its singular ("AKs").
    assert synonyms.spelled_out(tokenize("field treatment for multiple AKs")) == ["Actinic keratosis"]
    assert set(synonyms.expand(tokenize("multiple AKs"))) >= set(tokenize("actinic keratosis"))
    # The embedder reads the longest other name, written as the documents write it (capitals kept).
    assert synonyms.spelled_out(tokenize("can bcc spread after an slnb")) == [
        "Basal cell carcinoma", "Sentinel lymph node biopsy"]
    # Full names need nothing spelled out, and an abbreviation that is also a word ("scar") is left alone.
    assert synonyms.spelled_out(tokenize("basal cell carcinoma on the nose")) == []
    assert synonyms.spelled_out(tokenize("a scar on the leg")) == []


# --- the documents' questions (`<doc-id>.questions.yaml`) ------------------------------------------------------

_DF_QUESTIONS = """\
- ask: "there's a firm little brown bump on my shin that dimples when I pinch it, do I need it cut out?"
  answer: "Dermatofibroma is benign and needs no treatment; excision is reserved for symptomatic or doubtful lesions."
- ask: "what does a dermatofibroma look like under the dermatoscope?"
  answer: "Dermatofibroma classically shows a central white scar-like patch surrounded by a fine peripheral pigment network."
- ask: "is this question's answer missing?"
  answer: "A sentence that the document does not hold."
"""


def test_questions_are_read_beside_their_document_and_change_its_hash(tmp_path: Path, make_mini_kb) -> None:
    kb = make_mini_kb(tmp_path / "kb")
    path = kb / "lesions" / "dermatofibroma.md"
    before = parse_document(path)
    assert before.questions == ()
    (kb / "lesions" / "dermatofibroma.questions.yaml").write_text(_DF_QUESTIONS, encoding="utf-8")
    after = parse_document(path)
    assert [q.ask for q in after.questions][:1] == [
        "there's a firm little brown bump on my shin that dimples when I pinch it, do I need it cut out?"]
    assert after.content_hash != before.content_hash  # editing the questions re-embeds the document


@pytest.mark.parametrize("text, problem", [
    ("- ask: only a question\n", "needs both `ask` and `answer`"),
    ("ask: not a list\n", "expected a list"),
    ("- ask: [unclosed\n", "cannot read the questions"),
])
def test_a_bad_questions_file_is_reported_and_its_document_still_loads(tmp_path: Path, make_mini_kb, text: str,
                                                                       problem: str) -> None:
    kb = make_mini_kb(tmp_path / "kb")
    (kb / "lesions" / "dermatofibroma.questions.yaml").write_text(text, encoding="utf-8")
    loaded = load_documents(kb)
    assert "dermatofibroma" in {d.doc_id for d in loaded.documents}
    assert len(loaded.problems) == 1 and problem in loaded.problems[0] and "dermatofibroma.questions.yaml" in loaded.problems[0]
    with pytest.raises(KnowledgeBaseError, match="dermatofibroma.questions.yaml"):
        parse_document(kb / "lesions" / "dermatofibroma.md")


def test_a_lay_question_finds_the_sentence_a_knowledge_base_question_points_to(tmp_path: Path, embeddings,
                                                                             make_mini_kb) -> None:
    from core.knowledge.chat import ESCALATION, ask

    kb = make_mini_kb(tmp_path / "kb")
    chroma = tmp_path / "chroma"
    ingest(kb, chroma, embeddings=embeddings, show_progress=False)
    # Lay words (no "dermatofibroma"); nearer the knowledge base's question than its threshold, and not escalated, so
    # the question alone must carry it in scope.
    lay = "My shin has a small hard brown bump that dimples inwards when squeezed; should it be taken off?"
    before = KnowledgeIndex.open(chroma, embeddings=embeddings).search(lay)
    assert all(p.asked == 0.0 for p in before.passages) and before.answered == {}

    (kb / "lesions" / "dermatofibroma.questions.yaml").write_text(_DF_QUESTIONS, encoding="utf-8")
    report = ingest(kb, chroma, embeddings=embeddings, show_progress=False)
    assert report.updated == 1 and report.questions == 2
    assert len(report.problems) == 1 and "question 3" in report.problems[0]  # its answer is not in the document
    index = KnowledgeIndex.open(chroma, embeddings=embeddings)
    retrieval = index.search(lay)
    top = retrieval.passages[0]
    assert (top.doc, top.section) == ("dermatofibroma", "Management")
    assert top.asked > max(p.asked for p in before.passages) and top.asked >= 0.6
    assert index.nearest_question(index.embed(lay), top.chunk_id)[0].startswith("there's a firm little brown bump")
    answer = ask(lay, index=index)
    assert not answer.refused and answer.triage_level == "routine"
    text = answer.answer.removeprefix(ESCALATION.get(answer.triage_level, "")).strip()
    assert text.startswith("Dermatofibroma is benign and needs no treatment")


def test_every_shipped_question_is_answered_by_a_sentence_of_its_document() -> None:
    from core.knowledge.splitting import answer_locations

    documents = load_documents(REAL_KB).documents
    questions = [(d, q) for d in documents for q in d.questions]
    assert len(questions) >= 10 * len(documents)  # a bank for every document, not a few
    unanswered = [(d.doc_id, q.ask) for d, q in questions if not answer_locations(split_document(d), q.answer)]
    assert unanswered == []
    assert sorted(p.name for p in REAL_KB.rglob("*.questions.yaml")) == sorted(
        f"{d.doc_id}.questions.yaml" for d in documents if d.questions)
