"""Rules: the combinations of findings that make a red flag, each with its level."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from core.triage.conditions import (
    AHA_KAWASAKI,
    CG151,
    KIMBERLIN_NEONATAL_HSV,
    NHS_SNAKE_BITES,
    NG184,
    RCOG_CHICKENPOX,
    CHAE_FLAP_MONITORING,
    CKS_SHINGLES,
    PANG_FLEXOR_TENOSYNOVITIS,
    NHS_BLEEDING,
    NHS_HEATSTROKE,
    NIGWEKAR_CALCIPHYLAXIS,
    WMS_FROSTBITE,
    WMS_LIGHTNING,
    OWEN_SEBACEOUS,
    KIBBI_EMPD,
    LEBBE_KAPOSI,
    BAD_SCC,
    BIA_TRAVEL_FEVER,
    BOAST_COMPARTMENT,
    CKS_DENTAL_ABSCESS,
    DERMOSCOPY,
    EFG,
    ESVS_ALI,
    NAIL,
    NG12,
    NG141,
    NG143,
    SEVEN_POINT,
    SHARE_IGAV,
    UGLY_DUCKLING,
    UKHSA_IGAS,
    WHO_DENGUE,
)
from core.triage.context import Hit


@dataclass(frozen=True)
class Need:
    """At least `at_least` different features from `features` must be present."""

    features: tuple[str, ...]
    at_least: int = 1


@dataclass(frozen=True)
class Rule:
    """A red flag: all `needs` met anywhere in the text ("text"), within one sentence ("sentence") or within two
    consecutive sentences ("near", so that "Mole on the back. It has grown." still counts)."""

    condition: str
    finding: str
    level: str
    needs: tuple[Need, ...]
    scope: str = "text"
    sources: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()  # features that, in the same window, explain the finding away


def _need(*features: str, at_least: int = 1) -> Need:
    return Need(tuple(features), at_least)


def _rule(condition: str, finding: str, level: str, *needs: Need, scope: str = "text", sources: tuple[str, ...] = (),
          unless: tuple[str, ...] = ()) -> Rule:
    return Rule(condition, finding, level, needs, scope, sources, unless)


_HIGH_RISK = ("hypotension", "hr_high", "rr_high", "spo2_low", "confusion", "mottled", "oliguria", "lactate_high", "news_high")
_MODERATE_RISK = ("rigors", "tachycardia", "sbp_moderate", "tachypnoea", "hypothermia", "fever", "presyncope",
                  "cold_peripheries", "crt_prolonged", "lactate_moderate", "news_moderate", "feels_dying")
_ANY_RASH = ("rash", "widespread_rash", "purpura", "blisters", "erythroderma", "urticaria", "dusky_target", "skin_peeling")
_SKIN_CONTEXT = _ANY_RASH + ("burn", "soft_tissue_infection", "fever", "skin_detachment", "zoster_rash", "necrosis")
_SYSTEMIC_UPSET = ("fever", "hypothermia", "rigors", "tachycardia", "hr_high", "hypotension", "sbp_moderate", "presyncope",
                   "oedema", "unwell", "confusion")
_E, _U = "emergency", "urgent"

RULES: tuple[Rule, ...] = (
    # meningococcal disease, purpura fulminans, spotted fever
    _rule("meningococcal", "non-blanching rash", _E, _need("non_blanching")),
    _rule("meningococcal", "fever with a petechial, purpuric or non-blanching rash", _E, _need("purpura", "non_blanching"), _need("fever")),
    _rule("meningococcal", "petechial or purpuric rash in an unwell person", _E, _need("purpura"),
          _need("meningism", "confusion", "cold_peripheries", "mottled", "rigors", "hypotension", "unwell")),
    _rule("meningococcal", "fever and rash with neck stiffness, light sensitivity or severe headache", _E, _need("fever"),
          _need(*_ANY_RASH), _need("meningism")),
    _rule("purpura_fulminans", "rapidly spreading or necrotic purpura", _E, _need("purpura"),
          _need("necrosis", "rapid_spread", "rapid_enlargement"), unless=("injury",)),
    _rule("rmsf", "fever and petechial or acral rash after a tick bite", _E, _need("tick"), _need("fever"),
          _need("purpura", "acral_rash")),
    # NICE NG240: a stiff neck with a rash is meningococcal disease until shown otherwise, with or without fever.
    _rule("meningococcal", "rash with a stiff neck", _E, _need("neck_stiffness"), _need(*_ANY_RASH)),
    _rule("meningococcal", "meningococcal disease or meningitis suspected", _E, _need("name_meningococcal")),
    _rule("purpura_fulminans", "purpura fulminans suspected", _E, _need("name_pf")),
    _rule("rmsf", "spotted fever suspected", _E, _need("name_rmsf")),
    # SJS/TEN, skin failure, DRESS
    _rule("sjs_ten", "erosions of two or more mucous membranes", _E, _need("mucosa_oral", "mucosa_eye", "mucosa_genital", at_least=2)),
    _rule("sjs_ten", "mucosal erosions with dusky lesions or skin detachment", _E, _need("mucosa_oral", "mucosa_eye", "mucosa_genital"),
          _need("dusky_target", "skin_detachment", "nikolsky")),
    _rule("sjs_ten", "mucosal erosions with widespread blistering", _E, _need("mucosa_oral", "mucosa_eye", "mucosa_genital"),
          _need("widespread_blisters")),
    _rule("sjs_ten", "mucosal erosions and blisters after a new drug", _E, _need("mucosa_oral", "mucosa_eye", "mucosa_genital"),
          _need("blisters"), _need("recent_drug")),
    # Fever, sore eyes or mouth and a rash in the weeks after a new drug is how SJS/TEN starts.
    _rule("sjs_ten", "mucosal erosions with fever or rash after a new drug", _E, _need("mucosa_oral", "mucosa_eye", "mucosa_genital"),
          _need("recent_drug"), _need("fever", *_ANY_RASH)),
    _rule("sjs_ten", "mucosal erosions with peeling skin and fever or a new drug", _E,
          _need("mucosa_oral", "mucosa_eye", "mucosa_genital"), _need("skin_peeling"), _need("fever", "recent_drug")),
    _rule("skin_failure", "sheet-like skin detachment or positive Nikolsky sign", _E, _need("skin_detachment", "nikolsky")),
    _rule("skin_failure", "tender red skin with blisters or peeling in a feverish or young patient", _E, _need("tender_skin"),
          _need("blisters", "skin_peeling"), _need("fever", "vulnerable_age")),
    _rule("sjs_ten", "SJS/TEN suspected", _E, _need("name_sjs_ten")),
    _rule("skin_failure", "staphylococcal scalded skin syndrome suspected", _E, _need("name_ssss")),
    _rule("dress", "fever and rash after starting a drug", _E, _need("recent_drug"), _need(*_ANY_RASH), _need("fever")),
    _rule("dress", "drug rash with internal-organ involvement", _E, _need("recent_drug"), _need(*_ANY_RASH),
          _need("facial_swelling_dress", "lymphadenopathy", "eosinophilia", "liver", "renal", at_least=2)),
    _rule("dress", "DRESS suspected", _E, _need("name_dress")),
    # necrotising infection and sepsis
    _rule("necrotising_fasciitis", "skin infection with crepitus, disproportionate pain, numbness, haemorrhagic bullae or necrosis", _E,
          _need("soft_tissue_infection", "rapid_spread"),
          _need("crepitus", "pain_out_of_proportion", "skin_anaesthesia", "haemorrhagic_bullae", "necrosis")),
    _rule("necrotising_fasciitis", "redness spreading within hours with severe pain or blistering", _E, _need("rapid_spread"),
          _need("severe_pain", "blisters", "haemorrhagic_bullae")),
    _rule("necrotising_fasciitis", "haemorrhagic bullae with severe pain or systemic signs", _E, _need("haemorrhagic_bullae"),
          _need("severe_pain", "pain_out_of_proportion", "fever", "hypotension", "confusion", "rapid_spread")),
    # Gas in the tissues with dying skin or severe pain is a necrotising infection even before anyone writes "infection".
    _rule("necrotising_fasciitis", "crepitus with necrotic skin or severe pain", _E, _need("crepitus"),
          _need("necrosis", "haemorrhagic_bullae", "severe_pain", "pain_out_of_proportion", "skin_anaesthesia")),
    _rule("necrotising_fasciitis", "necrotising infection suspected", _E, _need("name_nf")),
    # Pain far worse than a small wound looks is the early sign, before the skin changes.
    _rule("necrotising_fasciitis", "pain out of proportion to a wound or skin infection", _E,
          _need("skin_injury", "soft_tissue_infection"), _need("pain_out_of_proportion"), scope="near"),
    _rule("necrotising_fasciitis", "wound with skin turning dark and severe pain", _E, _need("skin_injury"),
          _need("necrosis"), _need("severe_pain"), scope="near"),
    _rule("neutropenic_sepsis", "fever during chemotherapy or with neutropenia", _E, _need("neutropenia_risk"), _need("fever"),
          sources=(CG151,)),
    # NHS: heatstroke if still unwell after cooling, confused, fitting, collapsed, or not sweating while too hot.
    _rule("heatstroke", "confusion, collapse, a fit or no sweating after heat or exertion", _E, _need("heat_exposure"),
          _need("confusion", "collapse", "heat_illness_signs"), sources=(NHS_HEATSTROKE,)),
    _rule("lightning", "struck by lightning", _E, _need("lightning"), sources=(WMS_LIGHTNING,)),
    # Nigwekar 2018: exquisitely painful livedo or retiform purpura that turns to necrotic ulcers, mostly on dialysis.
    _rule("calciphylaxis", "severe skin pain with mottled, purple or dark skin in someone on dialysis", _E, _need("dialysis"),
          _need("severe_pain", "pain_out_of_proportion"), _need("mottled", "necrosis", "purpura", "crusted", "ulcer_sore",
                                                                "violaceous_patches"),
          sources=(NIGWEKAR_CALCIPHYLAXIS,)),
    _rule("frostbite", "blisters, numbness or dark skin after cold exposure", _E, _need("cold_exposure"),
          _need("necrosis", "blisters", "skin_anaesthesia"), sources=(WMS_FROSTBITE,)),
    _rule("haemorrhage", "bleeding that will not stop despite pressure, with faintness or on a blood thinner", _E,
          _need("uncontrolled_bleeding"), _need("pressure_failed", "presyncope", "anticoagulated", "collapse"), sources=(NHS_BLEEDING,)),
    _rule("infection_sepsis", "skin infection with a high-risk sepsis sign", _E, _need("soft_tissue_infection"), _need(*_HIGH_RISK)),
    _rule("infection_sepsis", "skin infection with two or more moderate-risk sepsis signs", _E, _need("soft_tissue_infection"),
          _need(*_MODERATE_RISK, at_least=2)),
    _rule("sepsis_shock", "rash, fever or skin injury with a high-risk sepsis sign", _E, _need(*_SKIN_CONTEXT), _need(*_HIGH_RISK)),
    _rule("sepsis_shock", "sepsis suspected", _E, _need("name_sepsis")),
    # NG51 asks for a source of infection; rigors or a fever is one, whatever the site.
    _rule("sepsis_shock", "fever or rigors with a high-risk sepsis sign", _E, _need("fever", "rigors"), _need(*_HIGH_RISK)),
    # anaphylaxis, angioedema, collapse
    _rule("anaphylaxis", "airway or breathing compromise", _E, _need("airway")),
    _rule("anaphylaxis", "allergic reaction with breathing or circulation involvement", _E,
          _need("urticaria", "lip_swelling", "face_swelling", "allergen_exposure"),
          _need("breathing_moderate", "presyncope", "hypotension", "sbp_moderate", "spo2_low")),
    _rule("anaphylaxis", "anaphylaxis suspected", _E, _need("name_anaphylaxis")),
    _rule("angioedema", "lip swelling without airway signs", _U, _need("lip_swelling")),
    _rule("collapse", "collapse or unresponsiveness", _E, _need("collapse")),
    _rule("pustular", "widespread pustules with fever or systemic upset", _E, _need("widespread_pustules"),
          _need("fever", "rigors", "unwell", "tachycardia", "hypotension", "hypothermia")),
    _rule("infant_fever", "fever in a baby under 3 months", _E, _need("young_infant"), _need("fever")),
    _rule("neonatal_hsv", "blisters or vesicles in a baby under 3 months", _E, _need("young_infant"), _need("blisters"),
          sources=(KIMBERLIN_NEONATAL_HSV,)),
    _rule("envenomation", "snake bite", _E, _need("envenomation"), sources=(NHS_SNAKE_BITES,)),
    _rule("flap_compromise", "a flap after surgery turning purple, blue, pale or cold, or its doppler signal lost", _E,
          _need("free_flap"), _need("flap_compromise"), scope="near", sources=(CHAE_FLAP_MONITORING,)),
    # RCOG Green-top 13: a pregnant woman with chickenpox and chest symptoms is referred to hospital at once.
    _rule("varicella_complication", "chickenpox with breathlessness or chest symptoms", _E, _need("chickenpox"),
          _need("breathing_moderate", "airway", "tachypnoea", "spo2_low", "rr_high"), sources=(RCOG_CHICKENPOX,)),
    # CKS Shingles: disseminated zoster in an immunocompromised person needs admission.
    _rule("varicella_complication", "shingles spreading all over the body in someone on immunosuppression", _E,
          _need("zoster_rash"), _need("immunosuppressed"), _need("widespread_blisters", "widespread_rash"),
          sources=(CKS_SHINGLES,)),
    # NICE NG184: a bite with signs of serious infection, or one reaching tendons or joints, needs hospital care;
    # a bitten hand is at high risk. Kanavel's signs mean infection in the flexor sheath (surgery within hours).
    _rule("bite_infection", "infected bite with fever, red streaks, spreading redness or a stiff swollen finger or hand", _E,
          _need("animal_bite"), _need("fever", "lymphangitis", "rapid_spread", "flexor_sheath_signs", "compartment_signs"),
          sources=(NG184, PANG_FLEXOR_TENOSYNOVITIS)),
    _rule("bite_infection", "finger swollen along its length, held bent and painful to straighten after a wound or with "
          "infection (flexor sheath infection)", _E, _need("flexor_sheath_signs"),
          _need("animal_bite", "skin_injury", "soft_tissue_infection", "fever", "lymphangitis"),
          sources=(NG184, PANG_FLEXOR_TENOSYNOVITIS)),
    # eczema herpeticum, erythroderma, toxic shock, burns, orbit
    _rule("eczema_herpeticum", "punched-out erosions on eczema", _E, _need("eczema"), _need("punched_out")),
    _rule("eczema_herpeticum", "clustered blisters or crusted sores on eczema with fever, illness or rapid worsening", _E,
          _need("eczema"), _need("eh_lesions", "blisters"), _need("fever", "unwell", "sudden_worsening", "confusion")),
    _rule("eczema_herpeticum", "eczema herpeticum suspected", _E, _need("name_eh")),
    _rule("erythroderma", "erythroderma with systemic upset", _E, _need("erythroderma"), _need(*_SYSTEMIC_UPSET)),
    _rule("erythroderma", "erythroderma", _U, _need("erythroderma")),
    _rule("toxic_shock", "fever and diffuse red rash with a toxic-shock focus", _E, _need("tss_risk", "burn"), _need("fever"),
          _need("widespread_rash", "erythroderma")),
    _rule("toxic_shock", "fever and diffuse red rash with organ involvement", _E, _need("widespread_rash", "erythroderma"),
          _need("fever"), _need("hypotension", "sbp_moderate", "vomiting_diarrhoea", "oliguria", "confusion", "renal")),
    _rule("toxic_shock", "toxic shock suspected", _E, _need("name_tss")),
    _rule("burns", "extensive, deep, airway, chemical or electrical burn", _E, _need("burn"), _need("burn_severe")),
    # An electric shock with a burn, a wound, chest symptoms or a collapse may hide deep tissue and heart injury.
    _rule("burns", "electrical injury with a burn, wound, chest symptoms or collapse", _E, _need("electrical_injury"),
          _need("burn", "skin_injury", "cardiac_symptoms", "collapse", "presyncope")),
    _rule("burns", "blistering burn in a young child or frail older person", _E, _need("burn"), _need("blisters"),
          _need("vulnerable_age")),
    _rule("orbital_cellulitis", "swollen eyelids with painful eye movement, double vision or reduced vision", _E,
          _need("periorbital_swelling"), _need("orbital_signs")),
    _rule("orbital_cellulitis", "orbital cellulitis suspected", _E, _need("name_orbital")),
    _rule("orbital_cellulitis", "facial skin infection with painful eye movement, double vision or a bulging eye", _E,
          _need("soft_tissue_infection"), _need("orbital_signs"), scope="near"),
    _rule("periorbital_cellulitis", "swollen eyelids with fever", _U, _need("periorbital_swelling"), _need("fever")),
    # urgent: zoster, immunosuppression, ulcers
    _rule("hzo", "shingles or blisters in the ophthalmic-nerve area", _U, _need("zoster_rash"), _need("v1_site"), scope="near"),
    _rule("hzo", "ophthalmic shingles with the eye involved (red or painful eye, vision change)", _E, _need("zoster_rash", "name_hzo"),
          _need("v1_site", "name_hzo"), _need("eye_involvement"), scope="near"),
    _rule("hzo", "ophthalmic zoster suspected", _U, _need("name_hzo")),
    _rule("immunosuppressed_fever_rash", "fever and rash while immunosuppressed", _U, _need("immunosuppressed"), _need("fever"),
          _need(*_ANY_RASH)),
    _rule("pyoderma_gangrenosum", "ulcer with an undermined violaceous edge", _U, _need("ulcer_sore"), _need("undermined_edge")),
    _rule("pyoderma_gangrenosum", "rapidly enlarging ulcer", _U, _need("ulcer_sore"), _need("rapid_enlargement", "growth"),
          scope="near"),
    _rule("pyoderma_gangrenosum", "pyoderma gangrenosum suspected", _U, _need("name_pg")),
    # emergencies met through the skin beyond classic dermatology
    _rule("limb_ischaemia", "cold, pale or mottled limb without a pulse", _E, _need("limb_cold_pale"), _need("pulseless"),
          scope="near", sources=(ESVS_ALI,)),
    _rule("limb_ischaemia", "sudden cold, pale or mottled painful limb", _E, _need("limb_cold_pale"),
          _need("sudden_onset"), _need("severe_pain", "pain_out_of_proportion", "compartment_signs"), scope="near", sources=(ESVS_ALI,)),
    _rule("compartment_syndrome", "severe or escalating limb pain after a fracture, crush or plaster cast", _E,
          _need("cast_or_crush"), _need("severe_pain", "pain_out_of_proportion", "compartment_signs"),
          _need("limb", "compartment_signs"), scope="near", sources=(BOAST_COMPARTMENT,)),
    _rule("deep_neck_infection", "neck, jaw or floor-of-mouth swelling with drooling, trismus, voice change or trouble swallowing",
          _E, _need("neck_jaw_swelling"), _need("neck_airway_signs", "airway"), scope="near", sources=(CKS_DENTAL_ABSCESS,)),
    _rule("deep_neck_infection", "dental infection spreading into the neck or face with fever", _E, _need("dental"),
          _need("neck_jaw_swelling", "periorbital_swelling", "rapid_spread"), _need("fever", "rigors", "neck_airway_signs"),
          sources=(CKS_DENTAL_ABSCESS,)),
    _rule("kawasaki", "fever for five days or more with Kawasaki features", _E, _need("fever_5_days"),
          _need("red_eyes", "red_lips_tongue", "hands_feet_swelling", "rash", "lymphadenopathy", at_least=2), sources=(AHA_KAWASAKI,)),
    _rule("kawasaki", "fever with red eyes, red cracked lips or tongue and swollen hands or feet", _E, _need("fever"),
          _need("red_eyes", "red_lips_tongue", "hands_feet_swelling", "lymphadenopathy", at_least=3), sources=(AHA_KAWASAKI,)),
    _rule("febrile_child", "feverish child with a high-risk (red) feature", _E, _need("fever", "rash", "hypothermia"),
          _need("child_red_features"), sources=(NG143,)),
    _rule("travel_fever", "fever after travel with rash, bleeding, jaundice or vomiting", _E, _need("travel_return"),
          _need("fever", "rigors"), _need("rash", "purpura", "bleeding_mucosal", "jaundice", "vomiting_diarrhoea", "non_blanching",
                                         "iga_vasculitis_signs"), sources=(BIA_TRAVEL_FEVER, WHO_DENGUE)),
    _rule("invasive_gas", "after chickenpox or flu: a spreading, very painful red area or a very unwell person", _E,
          _need("recent_chickenpox_flu"), _need("soft_tissue_infection", "rapid_spread", "severe_pain", "pain_out_of_proportion"),
          _need("rapid_spread", "severe_pain", "unwell", "breathing_moderate", "confusion", "mottled", "fever", "rash", "tachypnoea"),
          sources=(UKHSA_IGAS,)),
    _rule("cellulitis_not_improving", "skin infection spreading or not improving on antibiotics", _U,
          _need("soft_tissue_infection", "rash"), _need("antibiotics_not_working"), sources=(NG141,)),
    _rule("iga_vasculitis", "purpuric rash with tummy pain, joint pain or blood in the urine", _U, _need("purpura", "non_blanching"),
          _need("iga_vasculitis_signs"), sources=(SHARE_IGAV,)),
    _rule("skin_cancer", "new or changing lesion after a previous melanoma", _U, _need("previous_melanoma"),
          _need("new_lesion", "growth", "colour_change", "shape_change", "change_generic"), sources=(NG12,)),
    # urgent: suspected skin cancer (NICE NG12 and the melanoma warning rules)
    _rule("skin_cancer", "changing lesion (size, shape, colour or elevation)", _U, _need("lesion"),
          _need("growth", "colour_change", "shape_change", "change_generic", "elevation_change"), scope="near", sources=(SEVEN_POINT,)),
    _rule("skin_cancer", "bleeding or oozing lesion", _U, _need("lesion"), _need("bleeding"), scope="near", sources=(SEVEN_POINT,)),
    _rule("skin_cancer", "lesion with two or more melanoma warning features (asymmetry, border, colours, >= 7 mm, new)", _U,
          _need("lesion"), _need("asymmetry", "irregular_border", "multicolour", "diameter_7mm", "new_lesion", at_least=2),
          scope="near", sources=(SEVEN_POINT,)),
    _rule("skin_cancer", "weighted 7-point checklist score of 3 or more", _U, _need("checklist_3plus"), sources=(SEVEN_POINT,)),
    # An irregular shape or colour scores 2 on the weighted 7-point checklist and any minor feature 1: 3 in all.
    _rule("skin_cancer", "7-point checklist: irregular shape or colour with a minor feature (score 3 or more)", _U,
          _need("lesion"), _need("irregular_border", "asymmetry", "multicolour"),
          _need("diameter_7mm", "lesion_inflamed", "sensation_change"), scope="near", sources=(SEVEN_POINT,)),
    _rule("skin_cancer", "ulcerating skin tumour or nodule", _U, _need("ulcerated_tumour"), sources=(NG12,)),
    _rule("skin_cancer", "new lump at a scar or in the nodes after a previous cancer (possible metastasis)", _U,
          _need("cancer_history"), _need("lump_at_scar"), scope="near", sources=(NG12,)),
    _rule("skin_cancer", "dermoscopic features of melanoma", _U, _need("dermoscopy_melanoma"), sources=(DERMOSCOPY,)),
    _rule("skin_cancer", "ugly-duckling lesion", _U, _need("ugly_duckling"), sources=(UGLY_DUCKLING,)),
    _rule("skin_cancer", "elevated, firm and growing nodule", _U, _need("efg"), sources=(EFG,)),
    _rule("skin_cancer", "new or changing pigmented nail band", _U, _need("nail_band"), _need("nail_change", "growth"), scope="near",
          sources=(NAIL,)),
    _rule("skin_cancer", "pigment under a nail without injury or not growing out", _U, _need("subungual_pigment"),
          _need("nail_red_flag", "nail_change", "duration_4w", "growth"), scope="near", sources=(NAIL,)),
    _rule("skin_cancer", "growth lifting or under a nail", _U, _need("subungual_mass"), sources=(NAIL,)),
    _rule("skin_cancer", "sore or lesion not healing", _U, _need("non_healing"), scope="sentence", sources=(BAD_SCC,),
          unless=("duration_short", "cold_sore")),
    _rule("skin_cancer", "sore or ulcer present 4 weeks or more", _U, _need("ulcer_sore"), _need("duration_4w"), scope="sentence",
          sources=(BAD_SCC,)),
    _rule("skin_cancer", "lesion persisting 4 weeks or more", _U, _need("lesion"), _need("persistent"), _need("duration_4w"),
          scope="sentence", sources=(BAD_SCC,)),
    _rule("skin_cancer", "sore or scab that keeps breaking down or coming back", _U, _need("ulcer_sore"), _need("persistent"),
          scope="sentence", sources=(BAD_SCC,)),
    _rule("skin_cancer", "crateriform nodule with a keratin plug", _U, _need("keratin_crater"), sources=(BAD_SCC,)),
    _rule("skin_cancer", "new nodule within a mole", _U, _need("nodule_in_mole"), sources=(EFG,)),
    _rule("skin_cancer", "new lump near a melanoma scar", _U, _need("melanoma_scar_lump")),
    _rule("skin_cancer", "new lump at the scar or nodes after melanoma", _U, _need("melanoma_mention"), _need("lump_at_scar"),
          scope="near"),
    _rule("skin_cancer", "skin cancer suspected", _U, _need("name_skin_cancer_suspected")),
    # squamous cell carcinoma (BAD guidance): a growing crusted or horny lump, an actinic lesion that changes, or
    # a growing lump in someone immunosuppressed
    _rule("skin_cancer", "growing crusted, scaly or horny lump", _U, _need("lump_like"), _need("growth", "new_lesion"),
          _need("crusted"), scope="near", sources=(BAD_SCC,)),
    _rule("skin_cancer", "actinic keratosis or cheilitis becoming thick, tender, ulcerated or bleeding", _U,
          _need("actinic_background"), _need("scc_change", "bleeding", "growth", "elevation_change"), scope="near",
          sources=(BAD_SCC,)),
    _rule("skin_cancer", "growing lump in an immunosuppressed person", _U, _need("immunosuppressed"), _need("lump_like", "lesion"),
          _need("growth", "rapid_enlargement"), sources=(BAD_SCC,)),
    _rule("skin_cancer", "skin cancer confirmed on histology, for specialist treatment", _U, _need("cancer_histology"),
          sources=(NG12,)),
    _rule("skin_cancer", "pigment or a lump coming back in the scar of a removed lesion", _U, _need("scar_recurrence"),
          sources=(NG12,)),
    # Rarer skin cancers that present as something common that does not behave as it should.
    _rule("skin_cancer", "eyelid lump or thickening with lashes lost, or a chalazion that keeps coming back at one spot "
          "(possible sebaceous carcinoma)", _U, _need("eyelid_lump"), _need("lash_loss", "recurs_same_spot"),
          sources=(OWEN_SEBACEOUS,)),
    _rule("skin_cancer", "genital or perianal patch growing despite antifungal or steroid treatment (possible "
          "extramammary Paget disease)", _U, _need("anogenital_site"), _need("treatment_failed"), _need("growth", "spreading_patch"),
          sources=(KIBBI_EMPD,)),
    _rule("skin_cancer", "purple nodules or plaques that are new, growing or multiplying (possible Kaposi sarcoma or another "
          "skin cancer)", _U, _need("violaceous_nodules"), _need("growth", "new_lesion", "multiplying"), sources=(LEBBE_KAPOSI,)),
    # Lebbe 2019: with HIV, purple patches or plaques on the skin or the palate are Kaposi sarcoma until shown otherwise;
    # with other immunosuppression (steroid bruising looks alike) only when they are new, growing or multiplying.
    # NG12 (breast): skin changes of the nipple that suggest cancer; Paget disease of the nipple looks like eczema
    _rule("skin_cancer", "one nipple red, scaly, crusted, weeping or flattened, not settling with treatment or for "
          "weeks (possible Paget disease of the nipple)", _U, _need("nipple_skin_change"),
          _need("treatment_failed", "persistent", "duration_4w", "bleeding"), unless=("breastfeeding",), sources=(NG12,)),
    # an acral "wart" that does not respond, grows or bleeds may be amelanotic acral melanoma
    _rule("skin_cancer", "a 'wart' on the sole, palm or nail area not responding to treatment and growing or bleeding "
          "(possible amelanotic acral melanoma)", _U, _need("acral_site"), _need("treatment_failed"),
          _need("growth", "bleeding"), sources=(NG12,)),
    _rule("skin_cancer", "purple patches or plaques in someone with HIV (possible Kaposi sarcoma)", _U,
          _need("violaceous_patches", "violaceous_nodules"), _need("hiv"), sources=(LEBBE_KAPOSI,)),
    _rule("skin_cancer", "new or multiplying purple patches in someone with HIV or on immunosuppression (possible Kaposi "
          "sarcoma)", _U, _need("violaceous_patches", "violaceous_nodules"), _need("immunosuppressed"),
          _need("growth", "new_lesion", "multiplying"), sources=(LEBBE_KAPOSI,)),
)


def rule_windows(hits_by_sentence: dict[int, list[Hit]], scope: str) -> Iterable[list[Hit]]:
    if scope == "text":
        yield [h for hs in hits_by_sentence.values() for h in hs]
        return
    for i in sorted(hits_by_sentence):
        yield hits_by_sentence[i] + (hits_by_sentence.get(i + 1, []) if scope == "near" else [])


def index_window(window: list[Hit]) -> dict[str, list[Hit]]:
    """The hits of a window by feature, in text order."""
    by_feature: dict[str, list[Hit]] = {}
    for hit in window:
        by_feature.setdefault(hit.feature, []).append(hit)
    return by_feature


def apply_rule(rule: Rule, window: dict[str, list[Hit]]) -> list[Hit] | None:
    """The hits that make `rule` fire in a window (indexed by `index_window`), or None."""
    if any(f in window for f in rule.unless):
        return None
    used: list[Hit] = []
    for need in rule.needs:
        present = [f for f in need.features if f in window]
        if len(present) < need.at_least:
            return None
        used.extend(h for f in present for h in window[f])
    return used


def merge_spans(hits: Iterable[Hit]) -> tuple[tuple[int, int], ...]:
    merged: list[list[int]] = []
    for start, end in sorted((h.start, h.end) for h in hits):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((s, e) for s, e in merged)


