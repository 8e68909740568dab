"""The red-flag filter's newer layers: Unicode normalisation, physiology (NICE sepsis criteria, NEWS2),
checklist points in prose, wider emergencies, presentations matched by meaning, and the learned layer."""
import json
import subprocess
import sys

import pytest

from core.triage import assess
from core.triage.normalise import normalise
from core.triage.physiology import news2_score, read_age_years, read_observations, sepsis_criteria
from tests.support import ROOT

# --- normalisation ---------------------------------------------------------------------------------

VARIANTS = {
    "curly apostrophe": "fever and a rash that doesn\u2019t blanch",
    "Unicode hyphen": "fever and a non\u2010blanching rash",
    "non-breaking hyphen": "fever and a non\u2011blanching rash",
    "en dash": "fever and a non\u2013blanching rash",
    "minus sign": "fever and a non\u2212blanching rash",
    "no-break space": "fever and a non-blanching\u00a0rash",
    "zero-width space": "fever and a non-blan\u200bching rash",
    "soft hyphen": "fever and a non-blan\u00adching rash",
    "full-width letters": "fever and a \uff4e\uff4f\uff4e-blanching rash",
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_ordinary_unicode_punctuation_does_not_hide_an_emergency(name):
    text = VARIANTS[name]
    assessment = assess(text, semantic=False)
    assert assessment.level == "emergency", name
    # The highlighted spans point into the text as the user typed it, invisible characters included.
    finding = assessment.findings[0]
    assert [text[s:e] for s, e in finding.spans] == list(finding.evidence)
    assert "blan" in " ".join(finding.evidence)


def test_normalisation_maps_every_character_back():
    text = "A\u2019s \u200b\u00adnon\u2010blanching \uff52ash \u2192 worse"
    normalised = normalise(text)
    assert normalised.text == "A's non-blanching rash -> worse"
    start = normalised.text.index("rash")
    assert text[slice(*normalised.original_span(start, start + 4))] == "\uff52ash"
    assert normalise("plain ascii").origin == tuple(range(len("plain ascii") + 1))


# --- physiology ------------------------------------------------------------------------------------

def test_observations_in_shorthand_and_lay_words():
    kinds = {(o.kind, o.value) for o in read_observations(
        "hr 128, bp 84/50, rr 26, t 39.4, sats 91% ra. my watch says 135 and the oxygen thing says 89%")}
    assert {("hr", 128), ("sbp", 84), ("rr", 26), ("temp", 39.4), ("spo2", 91), ("hr", 135), ("spo2", 89)} <= kinds


def test_ages_are_read_and_durations_are_not():
    assert read_age_years("2yo with fever") == 2
    assert read_age_years("My 6-week-old has a temperature") == pytest.approx(6 / 52)
    assert read_age_years("14mo, fever 3d") == pytest.approx(14 / 12)
    assert read_age_years("Erythroderma 71M, T 38.9") == 71
    assert read_age_years("started 5 weeks ago, itchy for 3 years") is None
    # clinicians' slash notation for an infant's age, with or without a space before "old"
    assert read_age_years("3/52 old, T 38.3") == pytest.approx(3 / 52)
    assert read_age_years("2/12old baby") == pytest.approx(2 / 12)
    assert read_age_years("5/7old, jaundiced") == pytest.approx(5 / 365)
    assert read_age_years("rash for 3/52") is None


def test_child_thresholds_differ_from_adult_ones():
    fast = read_observations("rr 45")
    assert [c.level for c in sepsis_criteria(fast, age=2.0)] == ["moderate"]  # 1-2 years: 40-49 is moderate
    assert [c.level for c in sepsis_criteria(fast, age=30.0)] == ["high"]  # adults: 25 or more is high
    assert sepsis_criteria(read_observations("hr 125"), age=10.0)[0].level == "high"  # 8-11 years: 115 or more


def test_news2_known_answer():
    # RR 22 (2) + SpO2 94 (1) + on oxygen (2) + SBP 105 (1) + HR 115 (2) + T 38.5 (1) = 9, no single 3.
    observations = read_observations("rr 22, sats 94% on 2l oxygen, bp 105/60, hr 115, temp 38.5")
    score, any_three, _ = news2_score(observations, new_confusion=False)
    assert (score, any_three) == (9, False)
    assert news2_score(observations, new_confusion=True)[:2] == (12, True)


@pytest.mark.parametrize("text, level", [
    ("My mum's leg is red and hot from the knee down. The pulse oximeter reads 89% and her heart rate 121.", "emergency"),
    ("Sacral sore, catheterised, 80kg: UO 25 ml/h for 4h, BP 96/58 (usual 150s), HR 104.", "emergency"),
    ("2yo with fever and a blotchy rash, RR counted 64.", "emergency"),
    ("Cellulitis left shin. Obs: T 37.1, HR 78, BP 128/80, RR 14, SpO2 98%.", "routine"),
    ("What heart rate counts as high risk in sepsis - is 131 the cut-off?", "routine"),
])
def test_physiology_layer_reads_numbers_against_nice_criteria(text, level):
    assessment = assess(text, semantic=False)
    assert assessment.level == level, [f.to_dict() for f in assessment.findings]
    if level == "emergency":
        assert any(f.layer == "physiology" and "NG51" in f.detail or "NEWS2" in f.finding for f in assessment.findings)


# --- checklist points in prose, change over time ------------------------------------------------------

@pytest.mark.parametrize("text, level", [
    ("The GP went through the checklist and I scored 5: two for the size change, two for the colour and one "
     "because it itches.", "urgent"),
    ("7-point checklist: 2 for the change in size and 1 for the itch.", "urgent"),
    ("Used the 7-point checklist: score 2, only the size.", "routine"),
    ("Lesion on the back, 4mm\u21926mm over 3/12.", "urgent"),
    ("Melanonychia of the thumbnail, now 4 mm wide, \u2191 from 2 mm in 6/12.", "urgent"),
])
def test_checklist_points_and_size_change_written_in_prose(text, level):
    assert assess(text, semantic=False).level == level


# --- wider emergencies (rules written from the guidelines' features, not from any test text) ----------

@pytest.mark.parametrize("text, condition", [
    ("Her foot went cold and white an hour ago, it is agony and I cannot feel a pulse.", "limb_ischaemia"),
    ("Leg in plaster since this morning, the pain is unbearable even after the painkillers and his toes are numb.",
     "compartment_syndrome"),
    ("Swelling under his jaw since the toothache, now drooling and he can't open his mouth.", "deep_neck_infection"),
    ("Fever for 6 days, red eyes, cracked red lips and puffy red hands.", "kawasaki"),
    ("Our baby has a temperature and is floppy and hard to wake.", "febrile_child"),
    ("Just back from Ghana, fevers and rigors, and now yellow eyes and spots.", "travel_fever"),
    ("Had chickenpox last week; now a red, very painful area on his thigh spreading fast and he is breathing fast.",
     "invasive_gas"),
])
def test_emergencies_met_through_the_skin_beyond_dermatology(text, condition):
    assessment = assess(text, semantic=False)
    assert assessment.level == "emergency"
    assert condition in {f.condition_key for f in assessment.findings}


# --- presentations matched by meaning -------------------------------------------------------------------

def test_a_presentation_in_unfamiliar_words_is_matched_by_meaning_and_says_so():
    text = "The skin on her chest and back is coming away in sheets and her mouth and eyes are raw since the new tablets."
    assessment = assess(text)
    assert assessment.level == "emergency"
    layers = {f.layer for f in assessment.findings}
    assert layers & {"rules", "presentation"}
    for finding in assessment.findings:
        if finding.layer == "presentation":
            assert finding.finding.startswith("described like:") and "similarity" in finding.detail


@pytest.mark.parametrize("text", [
    "What are the signs of toxic epidermal necrolysis?",
    "My uncle had a melanoma on his back 10 years ago and he is fine now.",
    "Mole on the back stable for 10 years, symmetrical, uniform brown, photos.",
])
def test_meaning_does_not_escalate_teaching_history_or_stable_lesions(text):
    assert assess(text).level == "routine"


def test_triage_cli_findings_name_their_layer():
    result = subprocess.run([sys.executable, "-m", "core", "triage",
                             "Returned from Sierra Leone, fever 39.5, gums bleeding and oozing from the drip site."],
                            cwd=ROOT, capture_output=True, text=True, timeout=300,
                            env={**__import__("os").environ, "HF_HUB_OFFLINE": "1"})
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["level"] == "emergency"
    assert all(f["layer"] in {"rules", "physiology", "presentation", "learned"} for f in payload["findings"])


# --- wording found missing on the tuning set (the fixes are general; the blind set was not looked at) ----


@pytest.mark.parametrize("text, level", [
    # A negated verb negates its own clause only ...
    ("Back from Ghana 10 days, didn't take malaria tablets, fevers and shakes every night, now yellow eyes", "emergency"),
    ("It doesn't hurt or anything, it's just that the mole is much bigger than last year", "urgent"),
    # ... while a negated "have" still reaches a list of findings.
    ("She doesn't have fever, rash or headache, just a sore throat", "routine"),
    ("No fever, rash or stiff neck; mild sore throat for two days", "routine"),
    # Orbital cellulitis in lay words.
    ("My eyelid is massive and red, my eye is pushing forward and it hurts so much to move my eye", "emergency"),
    ("Swollen eyelid after a bite, and now her vision is blurry on that side and she can't move it properly to look up", "emergency"),
    # Skin failure and sepsis described, not named.
    ("Sheets of epidermis slid off the back leaving moist red dermis; buccal mucosa and lips are eroded", "emergency"),
    ("His pressure sore smells; today he doesn't know where he is, which is new, and the catheter bag has had nothing in it since yesterday", "emergency"),
    # A single pigmented macule that changes is a lesion, not a rash.
    ("Pigmented macule on the hard palate; it has enlarged and become darker over 4 months", "urgent"),
    ("Widespread erythematous macules on the trunk after amoxicillin, itchy, no mucosal involvement, well in herself", "routine"),
])
def test_new_wordings_found_on_the_tuning_set(text, level):
    assert assess(text).level == level


# --- the learned layer -----------------------------------------------------------------------------------


def test_learned_layer_levels_follow_its_probabilities_and_thresholds():
    import numpy as np

    from core.triage.learned import LearnedLayer

    layer = LearnedLayer(np.zeros((3, 768)), np.log([0.2, 0.3, 0.5]), emergency_threshold=0.6, urgent_threshold=0.7)
    p = layer.probabilities(np.full((2, 384), 0.05, dtype=np.float32))
    assert np.allclose(p, [0.2, 0.3, 0.5])
    assert layer.level(p) == "urgent"  # P(emergency) 0.5 < 0.6, but P(urgent or worse) 0.8 >= 0.7
    assert LearnedLayer(layer.coef, layer.intercept, 0.5, 0.9).level(p) == "emergency"
    assert LearnedLayer(layer.coef, layer.intercept, 0.9, 0.9).level(p) is None


def test_the_shipped_learned_layer_was_fitted_on_tuning_sets_only():
    from core.triage.learned import MODEL_DIR, default_learned_layer

    layer = default_learned_layer()
    assert layer.coef.shape == (3, 768) and layer.intercept.shape == (3,)
    assert 0 < layer.emergency_threshold < 1 and 0 < layer.urgent_threshold < 1
    card = json.loads((MODEL_DIR / "model.json").read_text(encoding="utf-8"))
    # Only the frozen tuning sets: never the dev set or the blind set.
    assert card["training_sets"] == ["triage_tuning.jsonl"] + [f"triage_tuning_{n}.jsonl" for n in range(2, 13)]
    assert 0 < card["routine_false_alarm_budget"]["emergency"] <= card["routine_false_alarm_budget"]["urgent"] < 0.1


# Written for this test (not from any tuning set): a cold, pale foot that no rule or gated description catches.
LEARNED_ONLY = [("Foot went pale and cold an hour ago and he can't feel his toes.", "emergency")]


@pytest.mark.parametrize("text, level", LEARNED_ONLY)
def test_the_learned_layer_raises_what_the_other_layers_miss_and_names_itself(text, level):
    from core.triage.semantic import default_matcher

    without = assess(text, learned=False)
    assessment = assess(text)
    assert without.level == "routine" and assessment.level == level
    finding = next(f for f in assessment.findings if f.layer == "learned")
    assert finding.finding.startswith("learned layer: reads like \u201c")
    description = finding.finding.split("\u201c", 1)[1].rstrip("\u201d")
    assert description in {d for _, d in default_matcher().rows}
    assert "threshold" in finding.detail and finding.condition
    assert [text[s:e] for s, e in finding.spans] == list(finding.evidence) and finding.evidence[0].strip()


@pytest.mark.parametrize("text", [
    "Mole on my back has looked the same for years, I just want a check.",
    "No fever, no rash, no swelling; mild eczema on the hands, using emollients.",
    "What does a non-blanching rash mean and when should I call 999?",
    "Seborrhoeic keratosis on the temple, stuck-on, waxy, unchanged since last year.",
    "She doesn't have fever, rash or headache, just a sore throat",  # raw P(emergency) passes; no acute sign
])
def test_the_learned_layer_keeps_plain_routine_texts_routine(text):
    assessment = assess(text)
    assert assessment.level == "routine", assessment.findings


def test_learned_layer_weights_survive_saving_and_loading(tmp_path):
    import numpy as np

    from core.triage.learned import LearnedLayer

    coef = np.asfortranarray(np.arange(3 * 768, dtype=np.float64).reshape(3, 768) / 1000)  # as scikit-learn stores it
    LearnedLayer(coef, np.array([0.1, 0.2, 0.3]), 0.7, 0.8, "test").save(tmp_path, {"C": 1.0})
    loaded = LearnedLayer.load(tmp_path)
    assert np.allclose(loaded.coef, coef, atol=1e-6) and np.allclose(loaded.intercept, [0.1, 0.2, 0.3], atol=1e-6)
    assert (loaded.emergency_threshold, loaded.urgent_threshold, loaded.trained_on) == (0.7, 0.8, "test")


# Wordings missed on tuning set 6 (paraphrased here; the fixes are general), with look-alikes that must stay routine.
MISSED_ON_SET_6 = [
    ("Apprentice got an electric shock from a live wire, small burn on the fingertip", "emergency"),
    ("Got a shok off the socket, now his heart is racing and his chest feels strange", "emergency"),
    ("Tiny static shock from the car door, no burn, fine", "routine"),
    ("Cut on the shin from a step, blood coming out in spurts, she feels woozy", "emergency"),
    ("Nosebleed, soaked two towels already and she's pale and clammy", "emergency"),
    ("Ate a biscuit with peanuts, now raised itchy bumps all over and whistling when he breathes", "emergency"),
    ("After the MRI with contrast my throat feels like it's tightening", "emergency"),
    ("Knocked the kettle over onto her arm, the burn is bigger than her hand", "emergency"),
    ("Nettle rash on the legs after walking in the field, no swelling, breathing fine", "routine"),
    # Probes written in review: a throat "strange and tight" with hives, a wound going dark with pain "ten out of ten".
    ("Hives all over since lunch and her throat feels weird and tight", "emergency"),
    ("The graze on her shin has turned dark purple and the pain is nine out of ten", "emergency"),
    ("Bruise on the shin from the table is now dark purple, a bit sore", "routine"),
    ("Itch is 9 out of 10 tonight, eczema on both arms, no fever", "routine"),
]


# Wordings missed on tuning set 7 (paraphrased here; the fixes are general), with look-alikes that must stay routine.
MISSED_ON_SET_7 = [
    ("the graze on my knee is red and hot right up to my thigh, hert rate 135 on my watch and im shiverin", "emergency"),
    ("Varicose vein on his calf burst, blood coming out like a fountain, we pressed a towel on but it won't stop", "emergency"),
    ("Wound after her knee op is swollen and crackles like bubble wrap under the skin when pressed, she's sweaty", "emergency"),
    ("Chickenpox for 4 days, fever had settled but today it's back at 39.9 and a patch on his chest is red, swollen and agony to touch",
     "emergency"),
    ("got bitten on the calf by something in the shed, it's going purply black with blisters and the pain is way worse then it looks",
     "emergency"),
    ("His tongue looks swollen after the sesame bagel and he keeps coughing, says his throat feels tight", "emergency"),
    ("brand new mole on my arm at 58, already about the size of a pea and very dark", "urgent"),
    ("my mol is getting biger and it bleds when i dry myself", "urgent"),
    # look-alikes
    ("Started lamotrigine. Counselled to stop it and seek help the same day if a rash, mouth ulcers or sore eyes appear. "
     "No rash today.", "routine"),
    ("My baby is 9 months, red sore skin in the nappy area, happy and feeding well", "routine"),
    ("I had shingles across my forehead last year, it never went near the eye and cleared up; the odd twinge still", "routine"),
    ("Mosquito bite on my arm, got bitten on the patio, itchy and a little red", "routine"),
]


@pytest.mark.parametrize("typed, read_as", [
    ("hert rate 134", "heart rate 134"),
    ("im shiverin", "im shivering"),
    ("its swolen", "its swollen"),
    ("my mol bleds", "my mole bleeds"),
])
def test_typing_slips_are_read_as_the_words_the_filter_knows(typed, read_as):
    from core.triage import read

    assert read(typed).text == read_as


@pytest.mark.parametrize("word", [
    "oedema", "haemorrhagic", "anaesthetic", "erythema", "necrotising", "angioedema", "fluclox", "augmentin", "abx",
    "sats", "tachy", "watch", "duvets", "colour", "rigours", "paracetamol", "OSCE", "NKDA",
])
def test_medical_terms_british_spellings_and_abbreviations_are_not_corrected(word):
    from core.triage import read

    text = f"o/e {word} noted today"
    assert read(text).text == text


def test_a_run_of_letters_too_long_to_be_a_word_is_left_as_typed():
    from core.triage import read

    text = "fever 39.5 and a rash that doesnt fade under a glass " + "x" * 40_000
    assert read(text).text == text  # no correction attempted: its edits would not fit in memory
    assert assess(text, semantic=False).level == "emergency"


def test_a_corrected_word_is_highlighted_as_typed():
    text = "Fever 39.5 and the rash is purply and dosent fade under a glass, she is very drowzy"
    assessment = assess(text, semantic=False)
    assert assessment.level == "emergency"
    spans = [text[s:e] for f in assessment.findings for s, e in f.spans]
    assert "drowzy" in " ".join(spans)  # the span covers the word the user typed, not its correction


# Wordings missed on tuning set 8 (paraphrased here; the fixes are general), with look-alikes that must stay routine.
MISSED_ON_SET_8 = [
    ("Right after induction with propofol and cefuroxime her BP crashed to 58/30 and her chest went flushed", "emergency"),
    ("My son ate a cookie with nuts, now his face is very big and he makes noise when he breathes", "emergency"),
    ("My partner has a sesame allergy, I kissed her after lunch and now she can't get a proper breath in", "emergency"),
    ("prob just a bite but the red is racing up my leg, I'm boiling then freezing and my heart is going mad", "emergency"),
    ("Grandad's cellulitis: tonight he's shaking all over, he's talking nonsense about a job he left years ago", "emergency"),
    ("He was digging in the sun all day, his skin is hot and dry, he's stopped sweating and he's talking rubbish", "emergency"),
    ("Got a shock off an exposed cable at work, small burn on the palm and his chest feels fluttery", "emergency"),
    ("The mole on my shoulder was 5 mm in June, now it's 9", "urgent"),
    ("The dark stripe on my toenail was thin last year, now it's a third of the nail and creeping onto the skin", "urgent"),
    ("Pigment has come back in the scar where a mole was shaved off in 2019, spreading past the edge", "urgent"),
    ("I scraped my shin in the spring and three months on the wound still won't close, edges raised", "urgent"),
    # look-alikes
    ("Venous eczema on both shins for months, not responding to the emollients, no fever", "routine"),
    ("Plantar wart, pared, black dots seen, start salicylic acid daily", "routine"),
    ("Just so I'm prepared: if my daughter ever had a rash that didn't fade under a glass, what should I do? She's well.",
     "routine"),
    ("I get a cold sore a couple of times a year, the usual tingle has started, otherwise well", "routine"),
    ("Went for a walk in the sun all afternoon, a bit of sunburn on my shoulders, feel fine", "routine"),
]


# Wordings missed on tuning set 9 (paraphrased here; the fixes are general), with look-alikes that must stay routine.
MISSED_ON_SET_9 = [
    ("My toddler put her hand on the hot oven door, the palm is blistered and white in the centre", "emergency"),
    ("Splashed with a wheel cleaner containing hydrofluoric acid an hour ago, pain far worse than it looks", "emergency"),
    ("After a bad cold her eye is swell and close, and it hurts when she looks to the side", "emergency"),
    ("His eye has puffed right up since this morning and he says he can see two of everything", "emergency"),
    ("Left eye swollen shut after a sinus infection, vision has gone blurry", "emergency"),
    # look-alikes
    ("In teaching today we covered the warning signs of necrotising fasciitis: pain out of proportion and crepitus.",
     "routine"),
    ("Verruca under the heel, pinpoint bleeding on paring, black dots, salicylic acid started", "routine"),
    ("Had a chest cold for a week and my eye is a bit sore, no swelling, vision normal", "routine"),
    ("High fever for three days which settled yesterday, now a pink blanching rash on his tummy; he is playing and feeding",
     "routine"),
]


# Wordings missed on tuning set 10 (paraphrased here; the fixes are general), with look-alikes that must stay routine.
MISSED_ON_SET_10 = [
    ("He was hit by lightning on the golf course and now keeps repeating himself", "emergency"),
    ("Gran is barely responding today and has purple blotches spreading on both legs", "emergency"),
    ("My daughter has a pounding headache and a stiff neck and a few spots on her tummy", "emergency"),
    ("Eyelid lump back for the third time at the same spot, and the lashes over it have fallen out", "urgent"),
    ("Red patch around the back passage for a year, tried thrush cream and piles cream, it won't shift and is growing",
     "urgent"),
    ("Purple nodules on both ankles in an 80-year-old, slowly multiplying over the last year", "urgent"),
    ("A pink-purple lump on her cheek that wasn't there six weeks ago", "urgent"),
    # look-alikes
    ("The patient asked what would happen if she got shingles in her eye; no rash today", "routine"),
    ("Viral rash, well child. Safety-netted re a rash that does not fade under a glass.", "routine"),
    ("MRCGP practice question: a 5-year-old has had a fever for five days with red eyes and cracked lips. "
     "What is the diagnosis?", "routine"),
    ("I used to have anaphylaxis to bee stings as a teenager; do I still need a pen?", "routine"),
    ("Chickenpox day 4, spots everywhere, temp 37.9, drinking and playing", "routine"),
    ("Lip swelled after a peanut, went down within an hour with an antihistamine, breathing fine throughout", "routine"),
    ("Her strawberry mark has grown a bit since birth, it is not near the eyes and not bleeding or sore", "routine"),
    ("I had a stye last month that went after warm compresses", "routine"),
]


# Wordings missed on tuning set 11 (paraphrased here; the fixes are general), with look-alikes that must stay routine.
MISSED_ON_SET_11 = [
    ("Spilled the kettle over my daughter, big blisters on her arm and chest", "emergency"),
    ("Spilled the kettle on my hand, it's a bit pink and stings, ran it under the tap", "routine"),
    ("Splashed drain unblocker on my leg cleaning the sink, the skin has gone white and it burns more and more", "emergency"),
    ("Night on the mountain after getting lost, two toes are hard and white and blistering now they are rewarming", "emergency"),
    ("Went for a winter walk, fingers cold, warmed them up by the fire, all fine now", "routine"),
    ("Lid swelling since a cold, now her eye looks pushed out and it hurts when she looks round, temp 38.6", "emergency"),
    ("Puffy lids in the mornings for a week, no pain, eyes move fine, no fever", "routine"),
    ("On lisinopril for years, woke with one side of my tongue massive and can barely talk", "emergency"),
    ("He grazed his shin on a branch, it barely looks red but he's in so much pain he can't bear the duvet on it", "emergency"),
    ("Dark patch on the sole, several shades, 9 mm, it wasn't there at her check two years ago", "urgent"),
    ("The spot on my nose scabs over and then opens up again, it won't settle", "urgent"),
    ("My thumbnail has started splitting and there's a dark brown stripe running along the split", "urgent"),
    ("Lots of moles but one on his back looks nothing like any of his others, black and shiny", "urgent"),
    ("One mole on her calf doesn't match its neighbours and isn't on last year's map", "urgent"),
    ("Mum is on dialysis and has the most terrible pain in her thighs, the skin there has gone purple and blotchy", "emergency"),
    ("On dialysis, itchy dry skin on my arms, scratched a scab, not painful", "routine"),
    ("PD patient with terrible back pain, a scab on the shin from a fall", "routine"),  # PD: Parkinson's as often as dialysis
]


# Wordings missed on tuning set 12 (paraphrased here; the fixes are general), with look-alikes that must stay routine.
MISSED_ON_SET_12 = [
    ("Dog bite on the back of his hand yesterday, today temp 38.4 and it's throbbing", "emergency"),
    ("Bitten by the neighbour's cat on the thumb, now a red line going up the inside of my arm", "emergency"),
    ("Punched someone in the mouth on Saturday, knuckle cut, finger now fat like a sausage, held bent, agony to straighten", "emergency"),
    ("Small dog nip on my calf last week, cleaned it, healed over, no redness", "routine"),
    ("Pricked my finger on a rose thorn, it's sausage-shaped, held flexed and I can't straighten it, throbbing", "emergency"),
    ("On enalapril; my tongue is so swollen I can barely speak", "emergency"),
    ("Lips swelling up and getting harder to breathe", "emergency"),
    ("HIV, not on treatment, new purple patches on both shins and more keep coming", "urgent"),
    ("HIV positive, CD4 low, a purplish plaque on the roof of my mouth", "urgent"),
    ("On prednisolone for years, purple patches on my forearms where I knock them", "routine"),
    ("Full skin check: around 40 moles, dermoscopy of the larger ones shows a regular network, nothing new", "routine"),
    ("Nobody's ill, I just want to know what a meningitis rash looks like so I know for the future", "routine"),
    ("My kids are all fine, I'd like to know how the glass test works", "routine"),
    ("I want to know what this rash on my son is, it doesn't fade with a glass and he has a fever", "emergency"),
    ("I had shingles around my eye last month, treated at eye casualty the same day, the eye is fine now", "routine"),
    ("We were away last month and since we got back the mole on my back is obviously bigger", "urgent"),
    ("Probably just rugby bruises but he has lots of little purple marks all over in the last two hours, he's burning hot",
     "emergency"),
]


# Wordings missed on tuning set 13 (paraphrased here; the fixes are general), with look-alikes that must stay routine.
MISSED_ON_SET_13 = [
    ("Haemodialysis patient, exquisitely painful purple net-like patches on her thighs, one now black", "emergency"),
    ("Health visitor, day 12: a few tiny blisters on the baby's scalp, otherwise feeding", "emergency"),
    ("Off to Kenya next week, asked what to do if she gets a fever and rash out there, well now", "routine"),
    ("Years of 'eczema' on his hips, now ulcerating plum-coloured tumours on both thighs", "urgent"),
    ("DIEP flap 6h post-op, now purple-blue, dark blood on pinprick, doppler signal lost", "emergency"),
    ("Flap repair for my BCC 2 weeks ago, the scar is pale and healing nicely", "routine"),
    ("Left nipple crusty and weeping for 3 months, steroid cream didn't help", "urgent"),
    ("Sore cracked nipples in the first week of breastfeeding, getting better with the midwife's advice", "routine"),
    ("Running a session for our baby group - what does a meningitis rash look like?", "routine"),
    ("Kidney transplant on tacrolimus; shingles on my back and now blisters are coming up all over my body", "emergency"),
    ("Chickenpox since Monday and now I'm breathless and coughing", "emergency"),
    ("My son had chickenpox last month, all crusted and gone, he is well", "routine"),
    ("My son had chickenpox last year, now he has a cold and is a bit wheezy", "routine"),
    ("Cracked and bleeding nipples since I started breastfeeding 3 weeks ago", "routine"),
    ("Verruca on my heel treated with freezing for months with no improvement, it's growing and bleeds", "urgent"),
    ("Verruca on my heel, freezing helped, it's smaller now", "routine"),
]


@pytest.mark.parametrize("text, level", [*MISSED_ON_SET_6, *MISSED_ON_SET_7, *MISSED_ON_SET_8, *MISSED_ON_SET_9,
                                         *MISSED_ON_SET_10, *MISSED_ON_SET_11, *MISSED_ON_SET_12, *MISSED_ON_SET_13])
def test_wordings_found_missing_on_the_tuning_sets(text, level):
    assert assess(text, semantic=False).level == level


@pytest.mark.parametrize("text, level", [
    # Found on tuning set 12: purple tumours that grow over months read by meaning like purpura fulminans.
    ("My grandfather has purple-red patches on both ankles, slowly getting bigger over months, some now lumps", "urgent"),
    ("A bruise-like purple patch came up on his scalp two months ago with no knock, it's spreading and bleeds", "urgent"),
    # ... and a rash reported to blanch, like the non-blanching one it rules out.
    ("Fever gone now after three days, the rash goes completely white when I press a glass on it, eating and playing",
     "routine"),
    ("Tiny red dots only around my eyes after being sick all night, no fever, I feel fine", "routine"),
    ("Bee sting on my lip, that side is a bit puffy, breathing fine, no hives, going down already", "routine"),
    # the look-alikes leave the emergencies they resemble alone
    ("Purple blotches spreading over her legs by the hour, she's confused and cold to touch", "emergency"),
    ("Rash that doesn't fade under a glass, fever 39 and he's floppy", "emergency"),
])
def test_meaning_reads_the_course_and_the_glass_test(text, level):
    assert assess(text).level == level


def test_a_recurring_cold_sore_is_not_read_by_meaning_as_stevens_johnson_syndrome():
    # Found on tuning set 11: the meaning layer matched the lip and the tingling to SJS/TEN's crusted lips.
    assert assess("cold sore on my top lip again, usual place, started tingling last night, otherwise fine").level == "routine"
    assert assess("Started allopurinol 3 weeks ago, now my lips are crusted and bleeding, my eyes are sore and there are "
                  "blisters on my chest").level == "emergency"
