"""Red-flag triage: conditions, context (negation, hedging, history, education), combinations, the 7-point
checklist, classifier escalation, spans, the CLI contract and bad input.

Every text here was written for these tests; none is taken from the development set.
"""
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

from core.triage.checklist import ITEMS, ChecklistAnswers, checklist_finding, score_checklist
from core.triage import (
    CONDITIONS,
    MAX_TEXT_CHARS,
    RULES,
    Assessment,
    TriageInputError,
    assess,
    classifier_finding,
    combine,
)

ROOT = Path(__file__).resolve().parent.parent
DEV_SET = ROOT.parent / "shared" / "eval" / "triage_dev.jsonl"


def conditions(assessment: Assessment) -> set[str]:
    return {f.condition_key for f in assessment.findings}


# ----------------------------------------------------------------------------------------------
# Per condition: a current presentation escalates, and names the condition
# ----------------------------------------------------------------------------------------------

POSITIVE = [
    ("Our 4-year-old has a temperature of 39.1 and little purple pinprick spots on her tummy", "emergency", "meningococcal"),
    ("He is hot and floppy and the spots on his legs stay when I roll a glass over them", "emergency", "meningococcal"),
    ("Purple blotches on both legs are getting bigger by the hour and going black in the middle", "emergency", "purpura_fulminans"),
    ("Back from hiking in North Carolina, removed a tick last week; now fever 39 and spots on the palms and soles", "emergency", "rmsf"),
    ("Three weeks after starting lamotrigine her lips are crusted and bleeding and both eyes are red and gritty", "emergency", "sjs_ten"),
    ("Widespread tender skin that wrinkles and slides off with light rubbing in a febrile 2 year old", "emergency", "skin_failure"),
    ("Began carbamazepine a month ago; now a rash all over, temp 38.6, swollen neck glands and ALT 310", "emergency", "dress"),
    ("Red swollen calf after a gardening scratch, the skin is turning grey and there is crackling under the skin", "emergency", "necrotising_fasciitis"),
    ("Cellulitis of the forearm, new confusion this afternoon, BP 84/52", "emergency", "infection_sepsis"),
    ("Stung by a bee ten minutes ago, now hives everywhere and a tight throat", "emergency", "anaphylaxis"),
    ("He went pale, collapsed in the waiting room and is not responding", "emergency", "collapse"),
    ("Atopic child with sudden crops of punched-out sores on the neck and a fever", "emergency", "eczema_herpeticum"),
    ("Erythrodermic, HR 122, shivering and feels faint on standing", "emergency", "erythroderma"),
    ("Tampon in since yesterday, now 39.4, a sunburn-like rash all over and vomiting", "emergency", "toxic_shock"),
    ("Hot fat splashed over his whole back, some areas charred", "emergency", "burns"),
    ("Puffy red eyelid on the right with double vision and a fever", "emergency", "orbital_cellulitis"),
    ("Clusters of blisters on the left forehead spreading onto the upper eyelid since Monday", "urgent", "hzo"),
    ("Kidney transplant on tacrolimus: temp 38.3 and a new spotty rash over the chest", "urgent", "immunosuppressed_fever_rash"),
    ("Leg ulcer with a purple, undermined edge, doubling in size over ten days, very painful", "urgent", "pyoderma_gangrenosum"),
    ("The mole on my calf has grown and gone darker at one edge over the last few months", "urgent", "skin_cancer"),
    ("Dermatoscopy: negative network and shiny white lines in an asymmetric lesion", "urgent", "skin_cancer"),
    ("A scab on my ear keeps breaking down and has not healed for ten weeks", "urgent", "skin_cancer"),
    ("A new brown stripe has appeared down my thumbnail and is getting wider", "urgent", "skin_cancer"),
    ("Measured 5 mm in March and 8 mm now, same mole on the shin", "urgent", "skin_cancer"),
    ("High temperature, a blotchy rash on the chest and he says the light hurts his eyes", "emergency", "meningococcal"),
    ("Big blisters everywhere and the skin comes away when the nurse touches it", "emergency", "skin_failure"),
    ("Sheets of pustules over the trunk and a temperature of 39.2 after stopping her steroid tablets", "emergency", "pustular"),
    ("My 6 week old baby feels hot and the thermometer says 38.4", "emergency", "infant_fever"),
]


@pytest.mark.parametrize("text, level, condition", POSITIVE)
def test_current_presentation_escalates_with_its_condition(text, level, condition):
    result = assess(text)
    assert result.level == level, [f.finding for f in result.findings]
    assert condition in conditions(result)
    escalating = [f for f in result.findings if f.level == level]
    assert all(f.finding and f.condition and f.spans for f in escalating)  # explainable: names and highlights


# The same red flags with the finding negated, asked about in general, or resolved in the past.
ROUTINE = [
    # negated
    "Temperature 37.1, a few red spots on the trunk that fade completely under a glass, child playing",
    "Drug rash after amoxicillin: no fever, no mouth or eye soreness, no blistering, skin not painful",
    "Leg cellulitis improving on antibiotics; no fever, observations normal, redness receding",
    "Itchy wheals after a new shower gel but no swelling of the lips, tongue or throat and breathing normally",
    "Eczema flare on the hands without fever, blisters or open sores",
    "Mole reviewed: no change in size, shape or colour, no bleeding, not itchy",
    "Several moles on the back; none are new, growing or bleeding",
    # educational
    "What are the warning signs of toxic shock syndrome?",
    "How do I recognise necrotising fasciitis early?",
    "For my exam: list the features of DRESS and the drugs that cause it",
    "Explain the glass test for a non-blanching rash",
    "Which dermoscopic structures suggest melanoma?",
    # past history
    "I had toxic epidermal necrolysis in 2016 and fully recovered; which painkillers are safe?",
    "Shingles near my left eye two years ago, resolved with no eye damage; should I have the vaccine?",
    "Anaphylaxis to wasp stings as a teenager. Today: itchy scalp",
    "Previous melanoma excised from the shoulder in 2014, discharged from follow-up, skin check today normal",
    # benign presentations and app questions
    "Small itchy bumps on my wrists after gardening",
    "Which SPF is best for a child with fair skin?",
    "Does the classifier work on images from a phone camera?",
]


@pytest.mark.parametrize("text", ROUTINE)
def test_negated_educational_past_and_benign_texts_stay_routine(text):
    result = assess(text)
    assert result.level == "routine", [(f.finding, f.evidence) for f in result.findings]


def test_set_aside_mentions_say_why():
    reasons = {s.reason for s in assess("No fever and no purple spots").set_aside}
    assert reasons == {"negated"}
    assert {s.reason for s in assess("What causes purpura fulminans?").set_aside} == {"educational question, no patient described"}
    assert "resolved or past history" in {s.reason for s in assess("Had shingles on my forehead 3 years ago, fully recovered").set_aside}


# ----------------------------------------------------------------------------------------------
# Negation and hedging by scope
# ----------------------------------------------------------------------------------------------


def test_negation_stops_at_but():
    assert assess("Denies fever but has been rigoring all night with a hot red swollen leg and HR 118").level == "emergency"


def test_negated_finding_does_not_cancel_a_present_one():
    text = "No itching and no rash anywhere else. However her tongue has swollen up and she is struggling to breathe."
    assert assess(text).level == "emergency"


@pytest.mark.parametrize("text", [
    "? non-blanching spots on the ankles, T 38.4",
    "query petechiae on the chest, febrile",
    "Possible necrotising fasciitis - pain out of proportion to the redness around the wound",
    "Cannot rule out purpuric rash; she is febrile and drowsy",
    "Not sure whether the spots blanch; temperature 38.8",
])
def test_hedged_red_flags_count_as_present(text):
    assert assess(text).level == "emergency"


def test_findings_that_contain_a_negation_word_still_count():
    assert assess("Sore on the temple that hasn't healed in 8 weeks").level == "urgent"
    assert assess("Spots that don't fade when the glass is pressed on them, with a fever").level == "emergency"


# ----------------------------------------------------------------------------------------------
# Education versus a patient's own presentation, and history versus now
# ----------------------------------------------------------------------------------------------


def test_educational_question_with_a_current_presentation_escalates():
    text = "What are the signs of necrotising fasciitis? My dad's thigh is red, spreading fast and the pain is unbearable."
    result = assess(text)
    assert result.level == "emergency"
    assert "necrotising_fasciitis" in conditions(result)


def test_first_person_question_about_own_lesion_escalates():
    assert assess("Should I worry that my mole has started bleeding?").level == "urgent"


def test_new_problem_after_old_history_escalates():
    text = "Melanoma removed from the arm in 2017. Now a firm new lump has appeared right next to the scar."
    assert assess(text).level == "urgent"


def test_history_of_qualifies_only_its_own_phrase():
    text = "Pt with hx of diabetes, foot red and swollen, crepitus on palpation, T 38.9"
    assert assess(text).level == "emergency"


# ----------------------------------------------------------------------------------------------
# Combinations
# ----------------------------------------------------------------------------------------------


def test_fever_rash_and_drug_started_weeks_ago_is_a_severe_drug_reaction():
    result = assess("Started allopurinol four weeks ago; now feverish with a red rash spreading over the trunk")
    assert result.level == "emergency" and "dress" in conditions(result)


def test_drug_rash_without_fever_or_organ_involvement_is_not_escalated():
    assert assess("Started allopurinol four weeks ago; now a mild itchy rash on the arms, otherwise well").level == "routine"


def test_fever_and_rash_in_an_immunosuppressed_patient_is_urgent():
    result = assess("On azathioprine and prednisolone for vasculitis; temp 38.2 and a blanching rash on the back, drinking well")
    assert result.level == "urgent" and "immunosuppressed_fever_rash" in conditions(result)


def test_fever_and_rash_alone_is_not_escalated():
    assert assess("Fever of 38.2 yesterday and a blanching pink rash today, eating and playing normally").level == "routine"


def test_petechial_rash_with_fever_is_an_emergency_but_petechiae_alone_are_not():
    assert assess("Petechial rash on the legs and a temperature of 38.5").level == "emergency"
    assert assess("A few petechiae on the face after a bout of coughing, no fever, feels fine").level == "routine"


def test_spreading_infection_needs_sepsis_signs_to_be_an_emergency():
    assert assess("Cellulitis of the shin, spreading, T 38.4 and HR 112").level == "emergency"
    assert assess("Cellulitis of the shin, on antibiotics, T 37.2 and HR 84").level == "routine"


def test_measured_vital_signs_are_read():
    assert "infection_sepsis" in conditions(assess("infected bite on the hand, BP 86/50"))
    assert "infection_sepsis" in conditions(assess("infected bite on the hand, HR 135"))
    assert "infection_sepsis" in conditions(assess("infected bite on the hand, sats 88%"))
    assert assess("infected bite on the hand, BP 128/80, HR 76").level == "routine"


def test_fahrenheit_temperatures_are_converted():
    assert assess("Toddler with 102.2F and petechiae on the neck").level == "emergency"


# ----------------------------------------------------------------------------------------------
# Wordings a second probe round found missing: drug timing written many ways, lay and note words for
# mucosal, detachment, necrotising and burn findings, diagnoses written as a note heading
# ----------------------------------------------------------------------------------------------

NEW_WORDINGS = [
    # the two presentations that first exposed the gap
    ("Started carbamazepine 3 weeks ago, now fever, widespread skin peeling and mouth ulcers.", "emergency", "sjs_ten"),
    ("New allopurinol last month; today temp 39, face swollen, rash all over and glands up.", "emergency", "dress"),
    # when the drug was started, written after the drug name or as a note abbreviation
    ("On oxcarbazepine x 2/52. Now T38.3, erosions on the lips and a rash across the back", "emergency", "sjs_ten"),
    ("Been taking Tegretol for about 3 weeks; febrile with a blotchy rash everywhere", "emergency", "dress"),
    ("Vancomycin since last week; diffuse exanthem, T 38.6, eos 2.4", "emergency", "dress"),
    ("4/52 post initiation of dapsone: morbilliform eruption, puffy face, tender axillary nodes, ALT 290", "emergency", "dress"),
    # mucosa and skin failure
    ("Nevirapine started a fortnight ago; ulcerated lips, conjunctivitis and targetoid spots on the palms", "emergency", "sjs_ten"),
    ("Since beginning sulfasalazine she has blisters inside her cheeks, a temperature and red gritty eyes", "emergency", "sjs_ten"),
    ("Large patches of skin are lifting away on her back like wet tissue paper", "emergency", "skin_failure"),
    ("18-month-old, febrile, cries when picked up, skin peeling around the mouth and in the groin creases", "emergency", "skin_failure"),
    # necrotising infection
    ("Thigh redness advancing over 2h, pain >> signs", "emergency", "necrotising_fasciitis"),
    ("Crepitus over the buttock and the skin there is going grey", "emergency", "necrotising_fasciitis"),
    ("Perineum swollen and black in patches, diabetic, temp 38.7", "emergency", "necrotising_fasciitis"),
    # other emergencies
    ("Spots not fading under the glass and he has a fever", "emergency", "meningococcal"),
    ("Scaly red skin head to toe and she is shivering with a heart rate of 125", "emergency", "erythroderma"),
    ("Got oven cleaner in his eyes", "emergency", "burns"),
    ("Scald from a kettle across her tummy and chest, big blisters, she is 6", "emergency", "burns"),
    ("Shingles on chemotherapy, now BP 78/44", "emergency", "sepsis_shock"),
    # urgent
    ("HZO. Valaciclovir started, eye review booked.", "urgent", "hzo"),
    ("Dermoscopic exam: atypical network and off-centre blotch", "urgent", "skin_cancer"),
    ("Dermatoscopy worrying for melanoma, left calf", "urgent", "skin_cancer"),
    ("7pt checklist: 4", "urgent", "skin_cancer"),
    ("The brown freckle on her temple is spreading and now has two shades", "urgent", "skin_cancer"),
]


@pytest.mark.parametrize("text, level, condition", NEW_WORDINGS)
def test_new_wordings_escalate_with_their_condition(text, level, condition):
    result = assess(text)
    assert result.level == level, [f.finding for f in result.findings]
    assert condition in conditions(result)


# The wider patterns must not catch these.
@pytest.mark.parametrize("text", [
    "Sunburn on my back is peeling now, otherwise well",
    "Lips chapped and peeling from the wind",
    "Burnt my thumb on a pan, one small blister",
    "On the same blood pressure tablets for years; itchy rash since yesterday, feels well",
    "Lip swelling from a bee sting this morning, now settled, breathing normally",
    "For my OSCE tomorrow: how is SSSS told apart from TEN?",
    "Sepsis - signs to look out for after surgery",
    "7-point checklist score 2 for the lesion on her arm",
])
def test_wider_patterns_leave_benign_and_educational_texts_routine(text):
    result = assess(text)
    assert result.level == "routine", [(f.finding, f.evidence) for f in result.findings]


def test_a_diagnosis_heading_counts_in_a_note_but_a_bare_topic_does_not():
    assert assess("TEN - 35% BSA, started lamotrigine").level == "emergency"
    assert assess("SJS").level == "routine"  # a one-word message is a topic to look up


def test_drug_timing_needs_to_be_recent():
    # a drug taken for years is not a new drug, so fever and rash alone do not make it DRESS
    result = assess("On allopurinol for 6 years. Fever 38.4 and a blanching rash today, well in herself")
    assert "dress" not in conditions(result)



# ----------------------------------------------------------------------------------------------
# Spans point at the triggering words
# ----------------------------------------------------------------------------------------------


def test_spans_point_at_the_triggering_words():
    text = "Teenager, temp 39.2, with a non-blanching rash on both ankles."
    finding = next(f for f in assess(text).findings if f.finding == "non-blanching rash")
    assert [text[s:e] for s, e in finding.spans] == ["non-blanching"]
    combined = next(f for f in assess(text).findings if f.finding == "fever with a petechial, purpuric or non-blanching rash")
    assert "temp 39.2" in [text[s:e].strip() for s, e in combined.spans]
    for f in assess(text).findings:
        assert list(f.evidence) == [text[s:e] for s, e in f.spans]


# ----------------------------------------------------------------------------------------------
# Advice and sources
# ----------------------------------------------------------------------------------------------


def test_every_escalation_carries_advice_and_sources():
    result = assess("Tongue swelling and drooling after starting ramipril")
    assert result.level == "emergency"
    assert result.advice[0].startswith("EMERGENCY")
    assert any("adrenaline" in a for a in result.advice)
    assert any("Resuscitation Council UK" in s for s in result.sources)
    cancer = assess("Mole on my shoulder that bleeds and has grown")
    assert any("NG12" in s for s in cancer.sources)


def test_every_rule_names_a_known_condition_with_advice():
    for rule in RULES:
        condition = CONDITIONS[rule.condition]
        assert condition.advice and condition.sources and rule.level in ("urgent", "emergency")


def test_routine_assessment_still_gives_a_safety_net():
    result = assess("Dry skin on my shins")
    assert result.level == "routine" and not result.findings and result.advice


# ----------------------------------------------------------------------------------------------
# NICE weighted 7-point checklist
# ----------------------------------------------------------------------------------------------


def test_checklist_weights():
    weights = {item.key: item.points for item in ITEMS}
    assert weights == {"change_in_size": 2, "irregular_shape": 2, "irregular_colour": 2, "diameter_7mm_or_more": 1,
                       "inflammation": 1, "oozing_or_crusting": 1, "change_in_sensation": 1}
    for item in ITEMS:
        assert score_checklist(ChecklistAnswers(**{item.key: True})).score == item.points


def test_checklist_boundary_two_is_not_urgent_three_is():
    two = score_checklist(ChecklistAnswers(irregular_colour=True))
    assert two.score == 2 and not two.refer and checklist_finding(two) is None
    minor_only = score_checklist(ChecklistAnswers(inflammation=True, oozing_or_crusting=True))
    assert minor_only.score == 2 and not minor_only.refer
    three = score_checklist(ChecklistAnswers(change_in_size=True, change_in_sensation=True))
    assert three.score == 3 and three.refer
    finding = checklist_finding(three)
    assert finding.level == "urgent" and "3" in finding.finding and "change in size 2" in finding.detail
    three_minor = score_checklist(ChecklistAnswers(diameter_7mm_or_more=True, inflammation=True, oozing_or_crusting=True))
    assert three_minor.score == 3 and three_minor.refer
    everything = score_checklist(ChecklistAnswers(**{item.key: True for item in ITEMS}))
    assert everything.score == 10


def test_checklist_joins_the_text_assessment():
    text_result = assess("Brown mole on the arm, here for a check")
    assert text_result.level == "routine"
    combined = combine(text_result, checklist_finding(score_checklist(ChecklistAnswers(irregular_shape=True, inflammation=True))))
    assert combined.level == "urgent" and any("7-point" in f.finding for f in combined.findings)
    assert combine(assess("Stridor and hives after IV antibiotics"), checklist_finding(
        score_checklist(ChecklistAnswers(irregular_shape=True, inflammation=True)))).level == "emergency"


def test_checklist_rejects_bad_answers():
    with pytest.raises(ValueError, match="unknown checklist item"):
        ChecklistAnswers.from_mapping({"change_in_size": True, "colour_changed": True})
    with pytest.raises(ValueError, match="true or false"):
        ChecklistAnswers(change_in_size="yes")
    assert ChecklistAnswers.from_mapping({"irregular_colour": True}).irregular_colour


def test_checklist_score_written_in_a_note_is_read():
    assert assess("7-point checklist: irregular colour (2), diameter 8 mm (1); total 3").level == "urgent"
    assert assess("7-point checklist: change in size (2); total 2").level == "routine"


# ----------------------------------------------------------------------------------------------
# Classifier escalation
# ----------------------------------------------------------------------------------------------

THRESHOLDS = {"mel": 0.30, "bcc": 0.40, "akiec": 0.45}
PROBS_BENIGN = {"akiec": 0.02, "bcc": 0.05, "bkl": 0.10, "df": 0.01, "mel": 0.12, "nv": 0.68, "vasc": 0.02}


def test_classifier_below_threshold_does_not_escalate():
    assert classifier_finding(PROBS_BENIGN, THRESHOLDS) is None


def test_classifier_at_threshold_escalates_and_states_threshold_and_sensitivity():
    probs = {**PROBS_BENIGN, "mel": 0.30, "nv": 0.50}
    finding = classifier_finding(probs, THRESHOLDS, {"mel": 0.91})
    assert finding is not None and finding.level == "urgent"
    assert "Melanoma" in finding.finding
    assert "0.30" in finding.detail and "threshold 0.30" in finding.detail and "0.91" in finding.detail
    assert combine(assess("Pigmented lesion on the back"), finding).level == "urgent"


def test_classifier_names_every_class_that_crossed():
    probs = {"akiec": 0.05, "bcc": 0.45, "bkl": 0.05, "df": 0.0, "mel": 0.40, "nv": 0.05, "vasc": 0.0}
    finding = classifier_finding(probs, THRESHOLDS)
    assert "Basal cell carcinoma" in finding.finding  # the larger probability leads
    assert "mel (" in finding.detail and "bcc (" in finding.detail and "not provided" in finding.detail


def test_classifier_benign_class_never_escalates():
    assert classifier_finding({**PROBS_BENIGN, "nv": 0.99, "mel": 0.01}, THRESHOLDS) is None


@pytest.mark.parametrize("probs, thresholds, message", [
    ({"melanoma": 0.9}, THRESHOLDS, "unknown class"),
    (PROBS_BENIGN, {"nv": 0.5}, "only for the malignant"),
    ({**PROBS_BENIGN, "mel": 1.7}, THRESHOLDS, "not a probability"),
    (PROBS_BENIGN, {"mel": -0.1}, "not a probability"),
])
def test_classifier_rejects_bad_input(probs, thresholds, message):
    with pytest.raises(ValueError, match=message):
        classifier_finding(probs, thresholds)


# ----------------------------------------------------------------------------------------------
# combine()
# ----------------------------------------------------------------------------------------------


def test_combine_takes_the_highest_level_and_skips_none():
    urgent = assess("Mole that bleeds onto my shirt")
    emergency = assess("Can't breathe, lips swelling")
    assert combine(urgent, None, emergency).level == "emergency"
    assert combine().level == "routine"
    with pytest.raises(TypeError):
        combine("not an assessment")


def test_milder_finding_of_the_same_problem_is_dropped():
    result = assess("Lips and tongue swelling up, he is wheezing")
    assert result.level == "emergency"
    assert "angioedema" not in conditions(result)


# ----------------------------------------------------------------------------------------------
# Bad input
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["", "   \n\t", None, 42])
def test_empty_or_non_text_input_raises_a_clear_error(bad):
    with pytest.raises(TriageInputError):
        assess(bad)


def test_too_long_input_is_refused_not_truncated():
    with pytest.raises(TriageInputError, match="limit"):
        assess("a" * (MAX_TEXT_CHARS + 1))


@pytest.mark.parametrize("garbage", ["asdf qwer zxcv", "!!!???...", "12345 67890", "🙂🙂🙂", "\x00\x01 binary"])
def test_garbage_text_is_routine(garbage):
    assert assess(garbage).level == "routine"


def test_all_capitals_text_is_read():
    assert assess("HER LIPS ARE BLUE AND SHE CANT BREATHE AFTER THE PEANUT").level == "emergency"
    assert assess("TEN SMALL MOLES ON MY BACK, ALL THE SAME, NONE CHANGING").level == "routine"


# ----------------------------------------------------------------------------------------------
# The CLI contract, run for real
# ----------------------------------------------------------------------------------------------


def run_core(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=120)


def test_cli_single_text_prints_the_json_contract():
    text = "Non-blanching rash and a temperature of 39"
    result = run_core("triage", text)
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["level"] == "emergency"
    for finding in payload["findings"]:
        assert {"finding", "condition", "level", "spans"} <= set(finding)
        for start, end in finding["spans"]:
            assert 0 <= start < end <= len(text)


def test_cli_jsonl_reports_and_skips_bad_lines(tmp_path):
    data = tmp_path / "in.jsonl"
    data.write_text("\n".join([
        json.dumps({"id": "a", "text": "Mole has grown and bled twice"}),
        "{not json",
        json.dumps({"id": "b"}),
        json.dumps({"id": "c", "text": "   "}),
        json.dumps({"id": "d", "text": "What is SJS?"}),
    ]) + "\n", encoding="utf-8")
    result = run_core("triage", "--jsonl", str(data))
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["id"], r["level"]) for r in rows] == [("a", "urgent"), ("d", "routine")]
    assert all({"id", "level", "findings"} <= set(r) for r in rows)
    assert ":2:" in result.stderr and ":3:" in result.stderr and ":4:" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_fails_cleanly_when_nothing_can_be_done(tmp_path):
    missing = run_core("triage", "--jsonl", str(tmp_path / "absent.jsonl"))
    assert missing.returncode != 0 and "no such file" in missing.stderr and "Traceback" not in missing.stderr
    empty = run_core("triage", "  ")
    assert empty.returncode != 0 and "empty" in empty.stderr and "Traceback" not in empty.stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_text("[1, 2]\n{oops\n", encoding="utf-8")
    all_bad = run_core("triage", "--jsonl", str(bad))
    assert all_bad.returncode != 0 and "no line could be triaged" in all_bad.stderr


def test_cli_eval_prints_matrix_metrics_and_misclassified(tmp_path):
    data = tmp_path / "labelled.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in [
        {"id": "x1", "text": "Throat closing after a wasp sting", "expected": "emergency"},
        {"id": "x2", "text": "Mole getting bigger and darker", "expected": "urgent"},
        {"id": "x3", "text": "Mild dandruff", "expected": "routine"},
        {"id": "x4", "text": "Mild dandruff again", "expected": "urgent"},
    ]) + "\n", encoding="utf-8")
    result = run_core("eval-triage", "--jsonl", str(data))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Confusion matrix" in out and "recall" in out and "precision" in out
    assert "Routine specificity" in out and "1.000 (1/1)" in out
    assert "x4: expected urgent, got routine - no red flag found" in out


# ----------------------------------------------------------------------------------------------
# Development-set targets (skipped when the shared evaluation data is absent)
# ----------------------------------------------------------------------------------------------


@pytest.mark.skipif(not DEV_SET.is_file(), reason="shared development set not available")
def test_dev_set_targets():
    rows = [json.loads(line) for line in DEV_SET.open(encoding="utf-8") if line.strip()]
    predicted = [(r["expected"], assess(r["text"]).level) for r in rows]

    def recall(level: str) -> float:
        hits = [p == level for t, p in predicted if t == level]
        return sum(hits) / len(hits)

    routine_specificity = statistics.mean(p == "routine" for t, p in predicted if t == "routine")
    assert recall("emergency") == 1.0
    assert recall("urgent") >= 0.95
    assert routine_specificity >= 0.90


# Wordings missed before triage tuning set 2 (written here afresh, not copied from that set), by rule-layer level.
TUNING_2_WORDINGS = [
    ("Redness round the drain site since yesterday. Temp 38.5.", "fever", None),
    ("the blood pressure machine says 82 over 48 and the leg is red and hot", "hypotension", None),
    ("Second cycle of chemo finished a week ago; now a sore red patch on my arm and my temperature is 38.2.",
     None, "emergency"),
    ("Cut my thumb on a tin, it will not stop bleeding even after 20 minutes of pressure.", None, "emergency"),
    ("After the hike in freezing conditions his toes are numb and blistered.", None, "emergency"),
    ("Shingles on my forehead and now my eye is red and I can't see properly out of it.", None, "emergency"),
    ("Shingles on my forehead since Tuesday, the eye itself is fine.", None, "urgent"),
    ("My mole used to be small but now it is big and has black and brown colours.", None, "urgent"),
    ("A crusty lump on his ear has been growing for two months.", None, "urgent"),
    ("Known actinic keratosis on the scalp that has become thick and tender.", None, "urgent"),
    ("Excision histology: invasive melanoma, Breslow 0.9 mm, please arrange wider excision.", None, "urgent"),
    ("Brown patches on my cheeks that go darker in the sun every summer.", None, "routine"),
    ("Shingles on my lower back, nowhere near my eyes, what cream helps the itch?", None, "routine"),
    # with tuning set 3 (suspected skin cancer and look-alikes)
    ("The brown of my mole seems to be leaking out into the skin around it.", "growth", "urgent"),
    ("There are now bits of blue and grey in my mole.", "multicolour", None),
    ("7PCL: change in colour (2), irregular shape (2) = 4.", "checklist_3plus", "urgent"),
    ("Dark band under my thumbnail, I never banged it, and it is spreading onto the skin around the nail.",
     None, "urgent"),
    ("Sore on my temple that wont heel since the spring, keeps scabbing.", None, "urgent"),
    ("A mole was cut out of my arm last year and now brown is coming back in the scar.", None, "urgent"),
    ("My freckles get much darker after a beach holiday and fade in winter.", None, "routine"),
    ("The slow-growing BCC on my back has hardly changed in two years; how long is a routine referral?", None,
     "routine"),
    ("Her birthmark has grown as she has grown, same shape and colour.", None, "routine"),
]


@pytest.mark.parametrize("text, feature, level", TUNING_2_WORDINGS)
def test_wordings_found_with_tuning_set_2(text, feature, level):
    from core.triage.context import raw_hits

    if feature is not None:
        assert feature in {f for f, _, _ in raw_hits(text)}
    if level is not None:
        assert assess(text, semantic=False).level == level, assess(text, semantic=False).findings


# Wordings that tuning set 4 showed were missed or over-read; each written here in other words than the set's.
TUNING_4_WORDINGS = [
    # observations and lay physiology
    ("Kidney transplant on tacrolimus, shingles-like chickenpox all over, now RR 28 and sats 89% on air.", "emergency"),
    ("the graze on my knee looks infected now, im breathing so fast and i havent weed since breakfast",
     "emergency"),
    ("the leg wound is infected and im shaking cant sleep my watch says pulse 135", "emergency"),
    ("In recovery after antibiotics at induction: flushing, urticaria, BP 62 systolic.", "emergency"),
    ("Bronchospasm and widespread hives minutes after the contrast injection.", "emergency"),
    ("His lips puffed up after the peanut biscuit and he is struggling to get his breath.", "emergency"),
    ("5/52 old, T 38.1, red spreading skin around the umbilical stump.", "emergency"),
    ("Man found lying outside overnight at -8C, toes grey, hard and numb, blisters forming.", "emergency"),
    ("4yo with little purple spots on her shins that don't go away, no temperature taken yet.", "emergency"),
    # suspected cancer in shorthand and reports
    ("?MM R calf, grown 5->9mm over 3/12, two colours.", "urgent"),
    ("Weighted 7PC = 4 on the left shoulder lesion.", "urgent"),
    ("The teledermatology report says the mole is suspicious for melanoma and advises urgent referral.", "urgent"),
    ("MM excised 2020; now two new papules beside the scar and a palpable axillary node.", "urgent"),
    # alarming words that are not about a current patient
    ("Caller: 'I read that a rash which does not blanch can mean meningitis - is that right?' Children well.",
     "routine"),
    ("A boy in another class has meningitis, the school sent a letter; my son is well with no rash.", "routine"),
    ("random question but what would happen if someones throat swelled up after a wasp sting? for a school project",
     "routine"),
    ("My 5yo had a temperature for a day but that's gone now, the chickenpox spots are crusting and not red.",
     "routine"),
    ("My 2yo has a pink blotchy rash on his tummy and back after a cold, it fades under a glass, no fever.", "routine"),
    # a resolved sign does not take the current ones with it, and a colour change is not an ending
    ("2yo with purple spots on both legs that do not fade, temp yesterday now gone.", "emergency"),
    ("The mole has gone black at one edge and grown since spring.", "urgent"),
]


# Kinds of wording found with the fifth tuning set (tests/data/triage_tuning_5.jsonl), written anew here.
TUNING_5_WORDINGS = [
    # mechanisms and populations
    ("Cycle 3 day 9 of FOLFOX, temp 38.3 and shivery since lunch.", "emergency"),
    ("Rang the onc helpline: temp 38.6 and a sore red patch round his PICC line.", "emergency"),
    ("6 d/o with a few tiny blisters on the scalp, sleepy and not interested in feeds.", "emergency"),
    ("Bitten on the ankle by an adder while walking the dog an hour ago, the foot is swelling.", "emergency"),
    ("My toddler tipped a mug of hot coffee over his arm and there are blisters now.", "emergency"),
    # sepsis in lay words, whatever the source
    ("Dad's bedsore is leaking and smells, he's shivering and talking nonsense today.", "emergency"),
    ("She has a fever, she's barely peed since yesterday and the rash is spreading.", "emergency"),
    ("Shivering fits and his blood pressure is very low, the carers say he is confused.", "emergency"),
    # the eye in ophthalmic shingles
    ("Shingles on her forehead since Monday and now the eye is really sore and it's gone blurry.", "emergency"),
    # suspected cancer
    ("Hx breast ca 2018; two new pink nodules along the mastectomy scar.", "urgent"),
    ("Ulcerating nodule on the shin that has doubled in a month.", "urgent"),
    ("Pigmented macule with an irregular notched border and a faint inflamed halo.", "urgent"),
    ("Kidney transplant 2015. One of the sun spots on my scalp has grown fast and is tender.", "urgent"),
    ("Eczema plaques not responding to potent steroid for years, now an ulcerating tumour on the thigh.", "urgent"),
    ("Next to a photo from three years ago the mole is clearly bigger and darker.", "urgent"),
    ("The mole has doubled in size and its border has gone ragged, it was tiny a year ago.", "urgent"),
    # alarming words that are not a current problem
    ("Pt asked about the signs of sepsis after a TV programme; well, obs normal.", "routine"),
    ("Brown nail streaks on several nails since childhood, unchanged, Hutchinson's sign -ve.", "routine"),
    ("My lips swelled after shellfish on Sunday but it went down within the hour, no breathing trouble.", "routine"),
]


@pytest.mark.parametrize("text, level", TUNING_4_WORDINGS + TUNING_5_WORDINGS)
def test_wordings_found_with_tuning_sets_4_and_5(text, level):
    result = assess(text, semantic=False)
    assert result.level == level, (result.findings, result.set_aside)
