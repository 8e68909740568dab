"""Emergency red-flag triage: free text in, an explainable escalation level out.

`assess(text)` reads a chat message or clinical note and returns an `Assessment` with a level
("emergency", "urgent" or "routine"), the `Finding`s that triggered it (each naming the finding, the
condition, the level and the character spans to highlight), what to do now, and the sources behind
that advice.

How it works, in four declarative tables:
- `FEATURES`: clinical findings and the ways people write them (lay and clinical wording, British
  and American spelling, abbreviations), as regular expressions compiled once at import; vital signs
  and measurements ("BP 80/40", "HR 130", "T 39", "39.5", "9 mm", "3/52") are read by small parsers.
- context: every mention is checked against its clause and sentence. A negation cue before it
  ("no", "denies", "without"; scope ends at "but", "however", ";" ...) or after it ("absent",
  "-ve") sets it aside; hedges ("?", "query", "possible", "cannot rule out") do not. Mentions of
  resolved or remote history ("in 2015", "as a child", "fully recovered") are set aside unless a
  present-tense cue ("now", "new") intervenes; background features (a drug started, eczema,
  immunosuppression) count whatever their tense. A question or teaching request with no patient in
  it ("what are the signs of ...?") is educational and escalates nothing, sentence by sentence. A
  diagnosis named outright ("?SJS", "my son has meningitis") counts only when framed as a current
  suspicion, not in a history, prevention, reading or third-party phrase.
- `RULES`: combinations of features that make a red flag (fever + non-blanching rash, rash + fever +
  drug started weeks ago, spreading infection + sepsis signs ...), each with its level.
- `CONDITIONS`: per condition, what to do now and the guideline it comes from.

Everything is data plus pure functions: no state is kept between calls.
"""
from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .config import CLASS_NAMES, MALIGNANT

LEVELS: tuple[str, ...] = ("routine", "urgent", "emergency")
_RANK = {level: i for i, level in enumerate(LEVELS)}
MAX_TEXT_CHARS = 200_000  # a safety filter must read all of a text; beyond this size refuse rather than truncate


def level_rank(level: str) -> int:
    """0 for routine, 1 for urgent, 2 for emergency."""
    return _RANK[level]


class TriageInputError(ValueError):
    """The text cannot be triaged (not a string, empty, or too long); the message says why."""


# ----------------------------------------------------------------------------------------------
# Public result types
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One reason to escalate.

    `spans` are (start, end) character offsets into the assessed text (empty for findings that do
    not come from text, such as the 7-point checklist or the classifier); `evidence` holds the
    matching words in the same order.
    """

    finding: str
    condition: str
    level: str
    spans: tuple[tuple[int, int], ...] = ()
    evidence: tuple[str, ...] = ()
    condition_key: str = ""
    detail: str = ""
    sources: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {
            "finding": self.finding,
            "condition": self.condition,
            "level": self.level,
            "spans": [list(span) for span in self.spans],
            "evidence": list(self.evidence),
            "detail": self.detail,
        }


@dataclass(frozen=True)
class SetAside:
    """A red-flag mention that did not count, and why (negated, past history, educational...)."""

    feature: str
    span: tuple[int, int]
    text: str
    reason: str

    def to_dict(self) -> dict:
        return {"feature": self.feature, "span": list(self.span), "text": self.text, "reason": self.reason}


@dataclass(frozen=True)
class Assessment:
    """The triage result: the highest level among the findings ("routine" when there are none)."""

    level: str
    findings: tuple[Finding, ...] = ()
    advice: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    set_aside: tuple[SetAside, ...] = ()

    @property
    def escalated(self) -> bool:
        return self.level != "routine"

    def to_dict(self) -> dict:
        return {
            "level": self.level,
            "findings": [f.to_dict() for f in self.findings],
            "advice": list(self.advice),
            "sources": list(self.sources),
            "set_aside": [s.to_dict() for s in self.set_aside],
        }


# ----------------------------------------------------------------------------------------------
# Conditions: what to do now, and where that advice comes from
# ----------------------------------------------------------------------------------------------

NG12 = "National Institute for Health and Care Excellence. Suspected cancer: recognition and referral (NG12). 2015, updated 2025."
NG51 = "National Institute for Health and Care Excellence. Suspected sepsis: recognition, diagnosis and early management (NG51). 2016, updated 2024."
NG240 = "National Institute for Health and Care Excellence. Meningitis (bacterial) and meningococcal disease: recognition, diagnosis and management (NG240). 2024."
NG141 = "National Institute for Health and Care Excellence. Cellulitis and erysipelas: antimicrobial prescribing (NG141). 2019."
CG57 = "National Institute for Health and Care Excellence. Atopic eczema in under 12s: diagnosis and management (CG57). 2007, updated 2023."
CKS_SHINGLES = "National Institute for Health and Care Excellence. Clinical Knowledge Summaries: Shingles. cks.nice.org.uk."
RCUK_ANAPHYLAXIS = "Resuscitation Council UK. Emergency treatment of anaphylaxis: guidelines for healthcare providers. 2021."
RCUK_BLS = "Resuscitation Council UK. Adult basic life support guidelines. 2021."
BAD_SJS_ADULTS = ("Creamer D, Walsh SA, Dziewulski P, et al. U.K. guidelines for the management of Stevens-Johnson "
                  "syndrome/toxic epidermal necrolysis in adults 2016. Br J Dermatol. 2016;174(6):1194-227.")
BAD_SJS_CHILDREN = ("McPherson T, Exton LS, Biswas S, et al. British Association of Dermatologists' guidelines for the "
                    "management of Stevens-Johnson syndrome/toxic epidermal necrolysis in children and young people, "
                    "2018. Br J Dermatol. 2019;181(1):37-54.")
REGISCAR_DRESS = ("Kardaun SH, Sekula P, Valeyrie-Allanore L, et al. Drug reaction with eosinophilia and systemic "
                  "symptoms (DRESS): an original multisystem adverse drug reaction. Results from the prospective "
                  "RegiSCAR study. Br J Dermatol. 2013;169(5):1071-80.")
NSTI_REVIEW = "Stevens DL, Bryant AE. Necrotizing soft-tissue infections. N Engl J Med. 2017;377(23):2253-65."
SSSS_REVIEW = ("Ladhani S, Joannou CL, Lochrie DP, Evans RW, Poston SM. Clinical, microbial, and biochemical aspects "
               "of the exfoliative toxins causing staphylococcal scalded-skin syndrome. Clin Microbiol Rev. "
               "1999;12(2):224-42.")
ERYTHRODERMA_REVIEW = ("Rothe MJ, Bernstein ML, Grant-Kels JM. Life-threatening erythroderma: diagnosing and treating "
                       "the 'red man'. Clin Dermatol. 2005;23(2):206-17.")
CDC_TSS = ("Centers for Disease Control and Prevention. Toxic shock syndrome (other than streptococcal) (TSS): "
           "2011 case definition. National Notifiable Diseases Surveillance System.")
CDC_RMSF = ("Biggs HM, Behravesh CB, Bradley KK, et al. Diagnosis and management of tickborne rickettsial diseases: "
            "Rocky Mountain spotted fever and other spotted fever group rickettsioses, ehrlichioses, and "
            "anaplasmosis - United States. MMWR Recomm Rep. 2016;65(2):1-44.")
BURNS_REFERRAL = "National Network for Burn Care (NNBC). National burn care referral guidance. 2012."
BURNS_FIRST_AID = "British Burn Association. First aid clinical practice guidelines. 2018."
ORBITAL = ("Chandler JR, Langenbrunner DJ, Stevens ER. The pathogenesis of orbital complications in acute "
           "sinusitis. Laryngoscope. 1970;80(9):1414-28.")
PG_CRITERIA = ("Maverakis E, Ma C, Shinkai K, et al. Diagnostic criteria of ulcerative pyoderma gangrenosum: a Delphi "
               "consensus of international experts. JAMA Dermatol. 2018;154(4):461-6.")
SEVEN_POINT = ("Walter FM, Prevost AT, Vasconcelos J, et al. Using the 7-point checklist as a diagnostic aid for "
               "pigmented skin lesions in general practice: a diagnostic validation study. Br J Gen Pract. "
               "2013;63(610):e345-53.")
EFG = "Kelly JW, Chamberlain AJ, Staples MP, McAvoy B. Nodular melanoma: no longer as simple as ABC. Aust Fam Physician. 2003;32(9):706-9."
UGLY_DUCKLING = ("Grob JJ, Bonerandi JJ. The 'ugly duckling' sign: identification of the common characteristics of "
                 "nevi in an individual as a basis for melanoma screening. Arch Dermatol. 1998;134(1):103-4.")
DERMOSCOPY = ("Argenziano G, Soyer HP, Chimenti S, et al. Dermoscopy of pigmented skin lesions: results of a "
              "consensus meeting via the Internet. J Am Acad Dermatol. 2003;48(5):679-93.")
NAIL = ("Levit EK, Kagen MH, Scher RK, Grossman M, Altman E. The ABC rule for clinical detection of subungual "
        "melanoma. J Am Acad Dermatol. 2000;42(2 Pt 1):269-74.")
GPP_CONSENSUS = ("Navarini AA, Burden AD, Capon F, et al. European consensus statement on phenotypes of pustular "
                 "psoriasis. J Eur Acad Dermatol Venereol. 2017;31(11):1792-9.")
AGEP_REVIEW = ("Sidoroff A, Halevy S, Bavinck JN, Vaillant L, Roujeau JC. Acute generalized exanthematous pustulosis "
               "(AGEP): a clinical reaction pattern. J Cutan Pathol. 2001;28(3):113-9.")
NG143 = "National Institute for Health and Care Excellence. Fever in under 5s: assessment and initial management (NG143). 2019, updated 2021."
NEWS2 = ("Royal College of Physicians. National Early Warning Score (NEWS) 2: standardising the assessment of "
         "acute-illness severity in the NHS. London: RCP; 2017.")
BAD_SCC = ("Keohane SG, Botting J, Budny PG, et al. British Association of Dermatologists guidelines for the "
           "management of people with cutaneous squamous cell carcinoma 2020. Br J Dermatol. 2021;184(3):401-14.")


@dataclass(frozen=True)
class Condition:
    """A condition the filter can escalate, with what to do now and the sources for that advice."""

    key: str
    name: str
    advice: str
    sources: tuple[str, ...]


_CONDITION_LIST = (
    Condition("meningococcal", "Suspected meningococcal disease (fever with a petechial or non-blanching rash)",
              "Treat as meningococcal disease until proven otherwise: emergency transfer now. In primary care give "
              "intramuscular or intravenous benzylpenicillin if that does not delay transfer.", (NG240, NG51)),
    Condition("purpura_fulminans", "Purpura fulminans (spreading or necrotic purpura)",
              "Rapidly spreading or necrotic purpura means sepsis with disseminated intravascular coagulation: "
              "resuscitate and transfer to critical care now.", (NG240, NG51)),
    Condition("rmsf", "Suspected Rocky Mountain spotted fever (tick-borne rickettsial infection)",
              "Emergency assessment; start doxycycline as soon as the infection is suspected, at any age, without "
              "waiting for a rash to evolve or for serology.", (CDC_RMSF,)),
    Condition("sjs_ten", "Suspected Stevens-Johnson syndrome / toxic epidermal necrolysis",
              "Stop every suspected culprit drug now and admit as an emergency to a team experienced in skin "
              "failure (dermatology with burns or intensive care); eyes involved: ophthalmology review within "
              "24 hours.", (BAD_SJS_ADULTS, BAD_SJS_CHILDREN)),
    Condition("skin_failure", "Epidermal detachment (SJS/TEN or staphylococcal scalded skin syndrome)",
              "Sheet-like peeling or a positive Nikolsky sign means skin failure: emergency admission; stop any "
              "recently started drug; in a child after a staphylococcal infection, treat as staphylococcal scalded "
              "skin syndrome with intravenous antibiotics.", (BAD_SJS_ADULTS, SSSS_REVIEW)),
    Condition("dress", "Suspected DRESS or another severe drug reaction",
              "Stop the suspected drug and assess as an emergency today: blood count with eosinophils, liver and "
              "kidney function. Fever and rash after a new drug can also be the start of SJS/TEN.",
              (REGISCAR_DRESS, BAD_SJS_ADULTS)),
    Condition("necrotising_fasciitis", "Suspected necrotising soft-tissue infection (necrotising fasciitis)",
              "Surgical emergency: emergency department now for senior surgical review and intravenous "
              "antibiotics; imaging must not delay surgery.", (NSTI_REVIEW, NG141)),
    Condition("infection_sepsis", "Spreading skin or soft-tissue infection with signs of sepsis",
              "Emergency care now: the NICE NG51 high-risk criteria call for senior review and intravenous "
              "antibiotics within one hour.", (NG51, NG141)),
    Condition("sepsis_shock", "Skin presentation with signs of sepsis or shock",
              "Emergency care now: life-threatening systemic signs (low blood pressure, new confusion, mottled "
              "skin, no urine) outrank the skin findings.", (NG51,)),
    Condition("anaphylaxis", "Anaphylaxis or airway-threatening angioedema",
              "Call emergency services. If anaphylaxis is possible give intramuscular adrenaline into the outer "
              "thigh (auto-injector if available) and repeat after 5 minutes without improvement; lie flat with "
              "legs raised, or sit up if breathing is hard.", (RCUK_ANAPHYLAXIS,)),
    Condition("angioedema", "Acute lip swelling (angioedema) without airway signs",
              "Same-day medical assessment; stop a suspected trigger (including ACE inhibitors). Call emergency "
              "services at once if the tongue or throat swells, the voice changes, or breathing or swallowing "
              "becomes difficult.", (RCUK_ANAPHYLAXIS,)),
    Condition("collapse", "Collapse or reduced consciousness",
              "Call emergency services now; if the person is unresponsive and not breathing normally, start CPR "
              "and use a defibrillator if one is available.", (RCUK_BLS,)),
    Condition("eczema_herpeticum", "Suspected eczema herpeticum",
              "Start systemic aciclovir straight away and get same-day specialist advice; skin around the eyes "
              "involved: same-day ophthalmology review.", (CG57,)),
    Condition("erythroderma", "Erythroderma (inflamed red skin over most of the body)",
              "Erythroderma drains heat, fluid and protein through the skin: with systemic upset admit as an "
              "emergency; otherwise arrange dermatology review the same day and stop non-essential new drugs.",
              (ERYTHRODERMA_REVIEW,)),
    Condition("toxic_shock", "Suspected toxic shock syndrome",
              "Remove any tampon, nasal packing or dressing, resuscitate and give intravenous antibiotics as an "
              "emergency; look for the focus (wound, burn, surgical site).", (CDC_TSS, NG51)),
    Condition("burns", "Severe burn or scald",
              "Cool under cool running water for 20 minutes, remove jewellery and loose clothing, cover loosely "
              "with cling film and get emergency care. Facial burns with hoarseness or soot mean airway injury: "
              "immediate airway assessment.", (BURNS_REFERRAL, BURNS_FIRST_AID)),
    Condition("orbital_cellulitis", "Suspected orbital cellulitis",
              "Emergency same-day assessment by ophthalmology and ENT with intravenous antibiotics: painful eye "
              "movements, double vision or reduced vision mean infection behind the orbital septum.", (ORBITAL,)),
    Condition("periorbital_cellulitis", "Periorbital (preseptal) cellulitis with fever",
              "Same-day medical assessment; escalate to emergency care if eye movements hurt, vision changes or "
              "the eye bulges.", (ORBITAL,)),
    Condition("hzo", "Herpes zoster ophthalmicus (shingles of the ophthalmic nerve)",
              "Start an oral antiviral now (best within 72 hours of the rash) and arrange same-day ophthalmology "
              "review if the eye is red or painful, vision changes, or the tip of the nose is involved "
              "(Hutchinson sign).", (CKS_SHINGLES,)),
    Condition("immunosuppressed_fever_rash", "Fever with rash in an immunosuppressed patient",
              "Same-day medical review: consider disseminated viral infection (varicella, herpes simplex), "
              "bacterial sepsis and drug reaction; seek advice before the next immunosuppressant dose; emergency "
              "care at any sign of sepsis.", (NG51,)),
    Condition("skin_cancer", "Suspected skin cancer (melanoma or squamous cell carcinoma)",
              "Refer on the suspected-cancer pathway (NICE NG12); photograph and measure the lesion, do not remove "
              "it in primary care, and tell the patient why the referral is urgent.", (NG12,)),
    Condition("pustular", "Generalised pustular eruption with fever (pustular psoriasis or AGEP)",
              "Widespread pustules with fever can cause fluid, temperature and electrolyte failure: same-day emergency "
              "assessment; stop a recently started drug; do not start or stop systemic steroids without specialist "
              "advice.", (GPP_CONSENSUS, AGEP_REVIEW)),
    Condition("infant_fever", "Fever in a baby under 3 months",
              "Any baby under 3 months with a temperature of 38 °C or more is at high risk of serious illness: "
              "same-day emergency assessment.", (NG143,)),
    Condition("pyoderma_gangrenosum", "Suspected pyoderma gangrenosum / rapidly progressing ulcer",
              "Urgent dermatology review; avoid debridement or surgery until pyoderma gangrenosum is excluded, "
              "because trauma can make it spread (pathergy).", (PG_CRITERIA,)),
)
CONDITIONS: dict[str, Condition] = {c.key: c for c in _CONDITION_LIST}

LEVEL_ADVICE: dict[str, str] = {
    "emergency": ("EMERGENCY: get emergency care now - call the local emergency number (999 in the UK, 112 in "
                  "Europe, 911 in North America) or go to the nearest emergency department. Do not wait for a "
                  "routine or online review."),
    "urgent": ("URGENT: arrange specialist review within days, not weeks, through the urgent or suspected-cancer "
               "route; seek emergency care if new systemic symptoms appear."),
    "routine": ("No red flag found in this text. This is decision support, not a diagnosis: use clinical "
                "judgement and reassess if new symptoms appear."),
}


# ----------------------------------------------------------------------------------------------
# Features: clinical findings and their wordings
# ----------------------------------------------------------------------------------------------

_G = r"[^.;!?\n]"  # a character inside one sentence, for bounded gaps between words


def _gap(n: int) -> str:
    return rf"{_G}{{0,{n}}}?"


_NUM_WORD = r"(?:\d+(?:\.\d+)?|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|several|a few|few|a couple of|couple of)"
# Drugs often blamed for SJS/TEN and DRESS (high-risk lists in BAD_SJS_ADULTS and REGISCAR_DRESS), by generic name,
# common brand and class, plus lay wording ("my new epilepsy tablets").
_DRUG = (r"(?:allopurinol|zyloprim|carbamazepine|tegretol|oxcarbazepine|trileptal|eslicarbazepine|lamotrigine|lamictal|"
         r"phenytoin|fosphenytoin|dilantin|epanutin|phenobarb\w*|primidone|valproate|sodium valproate|epilim|depakote|"
         r"levetiracetam|keppra|zonisamide|lacosamide|ethosuximide|"
         r"sulfasalazine|sulphasalazine|sulfamethoxazole|sulphamethoxazole|co-?trimoxazole|cotrimoxazole|tmp[- /]?smx|smx[- /]?tmp|"
         r"trimethoprim|septrin|septra|bactrim|sulfadiazine|sulfonamides?|sulphonamides?|sulfa|sulpha|dapsone|"
         r"minocycline|minocin|doxycycline|tetracyclines?|vancomycin|vancocin|teicoplanin|abacavir|ziagen|nevirapine|viramune|"
         r"efavirenz|etravirine|raltegravir|amoxicillin|amoxycillin|amoxil|ampicillin|co-?amoxiclav|augmentin|"
         r"piperacillin|pip[- /]?tazo?|tazocin|zosyn|flucloxacillin|dicloxacillin|cloxacillin|penicillins?|beta[- ]?lactams?|"
         r"cefalexin|cephalexin|keflex|cefazolin|ceftriaxone|cefotaxime|ceftazidime|cefuroxime|cefixime|cephalosporins?|"
         r"meropenem|carbapenems?|ciprofloxacin|levofloxacin|moxifloxacin|quinolones?|fluoroquinolones?|"
         r"clarithromycin|erythromycin|azithromycin|rifampicin|rifampin|isoniazid|pyrazinamide|ethambutol|"
         r"ibuprofen|naproxen|diclofenac|meloxicam|piroxicam|tenoxicam|celecoxib|etoricoxib|indomet(?:h)?acin|ketoprofen|"
         r"mefenamic acid|nsaids?|oxicams?|mexiletine|strontium|terbinafine|hydroxychloroquine|leflunomide|olanzapine|"
         r"modafinil|"
         r"pembrolizumab|nivolumab|ipilimumab|checkpoint inhibitors?|immunotherapy|"
         r"ramipril|lisinopril|enalapril|perindopril|"
         r"antibiotics?|abx|anticonvulsants?|anti-?epileptics?|anti-?seizure\s+(?:meds?|medications?|drugs?|tablets?)|"
         r"antiretrovirals?|arvs?|haart|"
         r"(?:epilepsy|seizure|fits?|gout|acne|hiv|tb|arthritis)\s+(?:meds?|medications?|medicines?|tablets?|pills?|drugs?|treatment)|"
         r"meds?|medications?|medicines?|tablets?|pills?|drugs?)")
# A bare "patch" is left out: eczema, psoriasis and ringworm patches grow too; a pigmented or scaly patch counts.
_LESION = (r"(?:moles?|na?evus|na?evi|freckles?|lentig\w*|birth ?marks?|lesions?|lumps?|nodules?|bumps?|papule|"
           r"growths?|(?<!cold )sores?|ulcers?|scabs?|spot|mark|"
           r"(?:pigmented|dark|brown|black|blue|pink|red|scaly|crusted|keratotic|shiny|pearly|fleshy|rough|flat|raised)\s+"
           r"(?:areas?|marks?|spots?|patch(?:es)?))")


@dataclass(frozen=True)
class Feature:
    """A clinical finding and the patterns that express it.

    kind "presenting": a current sign or symptom (set aside when negated, past or educational);
    kind "context": background that counts whatever its tense (a drug started, eczema, a tick bite);
    kind "name": a diagnosis named outright; it counts only when framed as a current suspicion or
    problem, and not in a history, risk, prevention or third-party phrase. `patterns` match
    regardless of case; `shout_unsafe` patterns are case-sensitive (acronyms such as TEN, DRESS, AD)
    and are skipped in all-capitals text, where they could be ordinary words.
    """

    name: str
    label: str
    patterns: tuple[str, ...] = ()
    kind: str = "presenting"
    shout_unsafe: tuple[str, ...] = ()


def _f(name: str, label: str, *patterns: str, kind: str = "presenting", shout_unsafe: tuple[str, ...] = ()) -> Feature:
    return Feature(name, label, patterns, kind, shout_unsafe)


_FEATURE_LIST: tuple[Feature, ...] = (
    # --- systemic signs -------------------------------------------------------------------------
    _f("fever", "fever",
       r"\bfever(?:s|ish)?\b", r"\bfebrile\b", r"\bpyrexi(?:a|al)\b", r"\bhigh temp\w*\b",
       r"\b(?:running|got|has|had|have|with|spiking|spiked)\s+(?:a\s+|an\s+)?(?:high\s+|raised\s+)?temp\w*\b",
       r"\bburning up\b",
       r"\ba(?<!take a)(?<!taking a)(?<!took a)(?<!check a)\s+(?:high\s+|raised\s+|slight\s+)?temperature\b(?!\s+(?:of|check|reading|probe|chart)\b)", r"\bhot to (?:the )?touch\b",
       r"\b(?:feels?|feeling|felt|is|she's|he's|very|really|boiling|miserable,?|irritable,?)\s+hot\b(?!\s+(?:water|bath|weather|tub|drink|food))",
       r"\bhot and (?:shivery|sweaty|clammy|cold)\b"),
    _f("rigors", "rigors / shivering", r"\brigou?r(?:s|ing)?\b", r"\bshiver(?:s|ing|y)?\b",
       r"\bshaking (?:all over|uncontrollably|violently)\b",
       r"\b(?:i'm|im|i am|he's|she's|he is|she is|they're|been|keeps?|started)\s+(?:\w+\s+)?shaking\b(?!\s+(?:hands|my|his|her|the|their|it))", r"\b(?:the )?(?:shakes|chills)\b",
       r"\b(?:feels?|feeling|felt|is|so|very)\s+(?:cold\s+and\s+)?shaky\b",
       r"\b(?:feels?|feeling|felt)\s+(?:very\s+|really\s+|freezing\s+|so\s+)?cold\b"),
    _f("presyncope", "dizziness / feeling faint", r"\bdizz(?:y|iness)\b", r"\blight-?headed\w*\b", r"\bfaint\b",
       r"\b(?:going to|about to|might|gonna|feel like (?:i'm|i am) going to) pass out\b", r"\bnearly (?:passed out|fainted)\b",
       r"\bpostural (?:drop|hypotension)\b"),
    _f("collapse", "collapse / unresponsive", r"\bcollaps(?:ed|es|ing)\b", r"\b(?<!nearly )(?<!almost )passed out\b",
       r"\bfainted\b", r"\blost consciousness\b", r"\bunconscious\b", r"\bunresponsive\b",
       r"\b(?:isn't|is not|isnt|not|wasn't|stopped)\s+respond(?:ing)?\b(?!\s+to\s+(?:treatment|antibiotics|steroids|creams?|emollients|therapy))",
       r"\b(?:can't|cannot|can not|couldn't|won't)\s+(?:be\s+)?(?:wake|woken|roused|rouse)\b",
       r"\b(?:not|isn't|isnt|stopped|wasn't|is not)\s+breathing\b", r"\bhaving a (?:fit|seizure|convulsion)\b",
       r"\b(?:is|are|started|keeps|now|he's|she's)\s+(?:fitting|seizing)\b", r"\bconvuls\w*\b", r"\bcardiac arrest\b",
       r"\bblacked out\b", r"\bkeeled over\b", r"\bunrousable\b", r"\bnot waking up\b", r"\bfound\s+(?:\w+\s+){0,2}?unresponsive\b"),
    _f("confusion", "new confusion / drowsiness", r"\bconfus(?:ed|ion)\b", r"\bmuddled\b", r"\bdisorient\w*\b",
       r"\bfloppy\b", r"\bdelirium\b|\bdelirious\b", r"\bnot making sense\b",
       r"\b(?:altered|reduced|decreased|impaired)\s+(?:mental state|consciousness|conscious level|level of consciousness|GCS)\b",
       r"\bGCS\s*(?:of\s*)?(?:[3-9]|1[0-4])\b", r"\b(?:acting|behaving)\s+(?:strangely|oddly|differently)\b",
       r"\bhard to (?:wake|rouse)\b", r"\b(?:very|really|unusually|abnormally|so)\s+sleepy\b"),
    _f("mottled", "mottled / ashen / cyanosed skin", r"\bmottl\w*\b", r"\bashen\b", r"\bcyanos\w*\b|\bcyanotic\b",
       r"\b(?:blue|grey|gray)\s+(?:lips|tinge)\b", r"\blips\s+(?:are\s+|is\s+|turning\s+|went\s+)?blue\b"),
    _f("cold_peripheries", "cold hands and feet",
       r"\bcold\s+(?:hands|feet|peripheries|extremities)\b",
       r"\b(?:hands|feet|fingers|toes)(?:\s+and\s+(?:feet|hands|toes|fingers))?\s+(?:are\s+|were\s+|feel\s+|felt\s+)?(?:freezing|icy|ice[- ]cold|cold)\b"),
    _f("oliguria", "no urine passed",
       r"\b(?:hasn't|has not|hasnt|haven't|not|hadn't|hasn't been able to)\s+(?:passed|done|had)\s+(?:any\s+)?(?:urine|a wee|wee|a pee|pee)\b",
       r"\bno (?:urine|wet nappies|wet diapers)\b", r"\b(?:anuric|oliguric|anuria|oliguria)\b",
       r"\bnot (?:weeing|peeing|passing urine)\b", r"\bdry nappies\b"),
    _f("hypotension", "low blood pressure", r"\bhypotensi\w*\b", r"\bseptic shock\b", r"\b(?:clinically\s+)?shocked\b",
       r"\bsigns of shock\b", r"\b(?:BP|blood pressure)\s+(?:is\s+|was\s+)?(?:low|dropping|falling|unrecordable|very low)\b"),
    _f("tachycardia", "fast heart rate", r"\btachycardi\w*\b",
       r"\bheart\s+(?:is\s+|was\s+)?(?:racing|pounding|going\s+(?:really\s+|very\s+)?fast)\b",
       r"\b(?:racing|pounding)\s+(?:heart|pulse)\b", r"\bpulse\s+(?:is\s+)?(?:racing|fast|rapid|thready)\b"),
    _f("tachypnoea", "fast breathing", r"\btachypn\w*\b", r"\bbreathing\s+(?:very\s+)?(?:fast|rapidly|quickly)\b"),
    _f("crt_prolonged", "prolonged capillary refill", r"\b(?:prolonged|delayed|slow)\s+(?:capillary refill|cap refill|CRT)\b"),
    _f("unwell", "systemically unwell / poor intake",
       r"\blethargic\b|\blethargy\b|\blistless\b|\birritable\b|\bmiserable\b|\bdrows(?:y|iness)\b",
       r"\boff\s+(?:his|her|their|my)\s+(?:feeds|food)\b", r"\bpoor\s+(?:oral\s+)?(?:intake|feeding)\b",
       r"\bnot\s+(?:feeding|eating|drinking)\b",
       r"\b(?:won't|wont|will not|refusing to|refuses to|unable to|can't|cannot)\s+(?:eat|drink|feed)\b",
       r"\b(?:very|really|extremely)\s+(?:unwell|poorly|ill)\b", r"\bfeel(?:s|ing)?\s+(?:terrible|awful|dreadful)\b",
       r"\bunwell\b"),
    _f("feels_dying", "feels as if dying / never been so ill",
       r"\b(?:feel|feels|feeling|felt)\s+(?:like\s+)?(?:i'm|i am|he's|she's|they're)?\s*(?:going to|gonna|about to)\s+die\b",
       r"\bnever\s+(?:felt|been)\s+(?:this|so)\s+(?:ill|unwell|bad|sick)\b", r"\bsense of (?:impending )?doom\b"),
    _f("vomiting_diarrhoea", "vomiting / diarrhoea", r"\bvomit\w*\b", r"\bdiarrh?o?ea\b|\bdiarrhea\b"),
    _f("headache", "headache", r"\bheadaches?\b"),
    _f("meningism", "neck stiffness, light sensitivity or severe headache", r"\bstiff neck\b|\bneck\s+(?:is\s+)?stiff\w*\b",
       r"\bphotophobi\w*\b", r"\b(?:light|bright lights?)\s+(?:hurts|hurting|bothers|bothering)\b|\b(?:dislikes?|can't stand|hates?)\s+(?:the\s+)?(?:bright\s+)?lights?\b",
       r"\b(?:severe|terrible|awful|worst|splitting|bad)\s+headache\b", r"\bheadache\s+(?:\w+\s+){0,2}?(?:severe|unbearable|terrible)\b"),
    _f("oedema", "swelling / oedema", r"\bo?edem\w*\b", r"\bswollen ankles\b", r"\bankles?\s+(?:are\s+)?(?:swollen|o?edematous)\b"),
    # --- airway and allergy ------------------------------------------------------------------------
    _f("airway", "airway or breathing compromise", r"\bstridor\w*\b",
       r"\b(?:can't|cannot|can not|cant|couldn't|unable to|struggling to|battling to|fighting to|hard to|difficult to|trouble|difficulty|problems?|labou?red)\s+(?:\w+\s+)?breath\w*\b",
       r"\b(?:throat|airway)\s+(?:(?:is|feels|felt|was|has|had|started|starting|getting|got|keeps|seems|now)\s+){0,2}(?:tight\w*|closing|closed|swell\w*|swollen|narrow\w*|constrict\w*)",
       r"\b(?:tight|swollen|closing)\s+throat\b",
       r"\btongue\s+(?:(?:is|are|was|were|has|have|started|starting|getting|got|keeps|seems|feels|now)\s+){0,2}(?:swell\w*|swollen|enlarg\w*|huge)",
       r"\b(?:swollen|swelling of (?:the |his |her |my )?)tongue\b", r"\bdrool\w*\b",
       r"\b(?:can't|cannot|cant|unable to|not able to)\s+swallow\s+(?:\w+\s+)?(?:saliva|spit|secretions)\b",
       r"\bgasping\b|\bchoking\b", r"\b(?:respiratory|resp)\s+distress\b", r"\bturning blue\b",
       r"\b(?:can't|cannot|can not|cant|couldn't|unable to)\s+catch\s+(?:my|his|her|their|your)\s+breath\b",
       r"\b(?:struggling|fighting|gasping)\s+for\s+(?:breath|air)\b", r"\bnoisy breathing\b|\bbreathing\s+(?:is\s+)?noisy\b",
       r"\b(?:tongue|throat)\s+(?:feels|is|felt)\s+(?:very\s+|really\s+)?(?:thick|big|huge|tight|swollen)\b",
       r"\b(?:can't|cannot|unable to)\s+(?:talk|speak)\s+(?:in\s+)?(?:full\s+)?sentences\b"),
    _f("breathing_moderate", "wheeze / breathlessness / hoarse voice", r"\bwheez\w*\b", r"\bshort(?:ness)? of breath\b",
       r"\bbreathless\w*\b", r"\bdyspn\w*\b", r"\bhoarse\w*\b",
       r"\bvoice\s+(?:(?:is|was|has|sounds|gone|become|became)\s+){0,2}(?:hoarse|muffled|croaky|changed|strange|different|funny|weird|odd|squeaky|thick)\b",
       r"\bmuffled voice\b", r"\b(?:difficulty|trouble|problems?|unable|can't|cannot|hard)\s+(?:to\s+)?swallow\w*\b",
       r"\bchest\s+(?:feels\s+|is\s+)?tight\w*\b|\btight chest\b",
       shout_unsafe=(r"\bSOB(?:OE)?\b",)),
    _f("urticaria", "hives / urticaria", r"\bhives\b|\burticari\w*\b|\bwheals?\b|\bwelts?\b|\bnettle rash\b"),
    _f("lip_swelling", "lip swelling",
       r"\blips?\s+(?:\w+\s+){0,3}?(?:swell\w*|swollen|puff\w*|ballooned)\b",
       r"\b(?:swollen|puffy|swelling of (?:the |his |her |my )?)lips?\b", r"\blips?\s+(?:are\s+|look\s+)?(?:the\s+size\s+of|like\s+(?:sausages|balloons))\b"),
    _f("face_swelling", "facial swelling",
       r"\b(?:face|eyelids?|eyes)\s+(?:(?:is|are|was|were|has|have|started|starting|getting|got|really|very|all|so|now|and\s+throat)\s+){0,3}(?:swell\w*|swollen|puff\w*|ballooned)",
       r"\b(?:swollen|puffy|swelling of (?:the |his |her |my )?)face\b", r"\bfacial\s+(?:swelling|o?edema|puffiness)\b",
       r"\bangio-?o?edema\b"),
    _f("allergen_exposure", "exposure to an allergic trigger",
       r"\b(?:wasp|bee|hornet|insect)\s+stings?\b|\bstung\b",
       r"\b(?:\d+|a few|few|ten|twenty|thirty)\s*(?:min(?:ute)?s?)\s+(?:after|into|of)\b",
       r"\b(?:ate|eaten|eating)\s+(?:a\s+|an\s+|some\s+)?(?:\w+\s+)?(?:peanuts?|nuts?|cashews?|shellfish|prawns?|fish|sesame|eggs?)\b",
       r"\b(?:allergic reaction|having a reaction|reaction to)\b",
       r"\b(?:took|taken|after|since)\s+(?:an?\s+|some\s+|the\s+|taking\s+)?(?:ibuprofen|aspirin|naproxen|amoxicillin|penicillin|antibiotics?|co-?amoxiclav)\b",
       r"\b(?:IV|intravenous)\s+(?:co-?amoxiclav|antibiotics?|contrast)\b", r"\b(?:on|taking)\s+(?:ramipril|lisinopril|enalapril|perindopril|an ACE inhibitor)\b",
       kind="context"),
    # --- rashes ------------------------------------------------------------------------------------
    _f("rash", "rash", r"\brash(?:es)?\b", r"\berupt(?:ion|ions)\b", r"\bexanthem\w*\b", r"\bspots\b", r"\bspotty\b",
       r"\bpapul(?:e|es|ar)\b", r"\bmacul(?:e|es|ar)\b", r"\bblotch(?:es|y)\b", r"\berythema\b", r"\bmorbilliform\b",
       r"\bred\s+(?:patches|bumps|areas|skin|blotches)\b", r"\btarget(?:-like|\s+lesions?)\b", r"\bpustul\w*\b"),
    _f("widespread_rash", "widespread rash / diffuse redness",
       r"\b(?:widespread|generali[sz]ed|diffuse|extensive)\s+(?:\w+\s+){0,2}?(?:rash|erythema|erythroderma|redness|eruption|urticaria|hives|exanthem|macular)\b",
       r"\b(?:rash|redness|hives|spots)\s+(?:\w+\s+){0,2}?(?:all over|everywhere|over (?:the|his|her|my) whole body)\b",
       r"\bsunburn[- ]like\b|\blike (?:a |bad )?sunburn\b|\blooks sunburn(?:ed|t)\b", r"\bred all over\b"),
    _f("purpura", "petechial / purpuric rash", r"\bpurpur\w*\b", r"\bpetechi\w*\b",
       r"\b(?:red-|reddish-|dark\s+)?purpl\w*(?:-red|-black)?\s+(?:\w+\s+)?(?:rash|spots?|patch(?:es)?|blotch(?:es)?|marks?|areas?|dots?|bruis\w*|discolou?ration)\b",
       r"\b(?:pin[- ]?prick|pinpoint|pin[- ]?head)\s+(?:\w+\s+)?(?:spots|dots|marks|rash|bleeds)\b",
       r"\btiny\s+(?:purple|dark red|maroon|dark|red-purple)\s+(?:spots|dots|marks)\b",
       r"\b(?:like|look like|looks like)\s+(?:an?\s+)?(?:tiny\s+|little\s+|small\s+)?bruises?\b", r"\bbruise[- ]like\b",
       r"\bunexplained bruis\w*\b", r"\becchymos\w*\b", r"\bblood spots\b",
       r"\bbruis\w*\s+(?:\w+\s+)?(?:appearing|spreading|all over|everywhere|for no reason)\b"),
    _f("non_blanching", "non-blanching rash", r"\bnon[- ]?blanch\w*\b", r"\bunblanch\w*\b", r"\bmening\w+\s+rash\b",
       r"\b(?:does ?n[o']?t|doesnt|dosn'?t|dosnt|do ?n[o']?t|dont|did ?n[o']?t|didnt|won'?t|wont|will not|not|never|no longer|fail(?:s|ed)? to)\s+blanch\w*\b",
       r"\b(?:does ?n[o']?t|doesnt|dosn'?t|dosnt|do ?n[o']?t|dont|did ?n[o']?t|didnt|won'?t|wont|will not|not|never)\s+(?:\w+\s+)?(?:fad(?:e|es|ed|ing)|go away|go|disappear|go pale|vanish|go white|change colou?r)\w*\b" + _gap(50) + r"\b(?:press\w*|glass|tumbler|push\w*)",
       r"\b(?:glass|tumbler)\s+test\s+(?:is\s+|was\s+)?(?:positive|\+ ?ve)", r"\bpositive\s+(?:glass|tumbler)\s+test\b",
       r"\b(?:stay|stays|stayed|remain|remains|still there|still visible|can still (?:see|be seen))\b" + _gap(40) + r"\b(?:glass|tumbler|press\w*)",
       r"\b(?:glass|tumbler)\b" + _gap(40) + r"\b(?:still (?:there|visible|see)|stay|stays|stayed|remain|remains|can still see|(?:does|do|did) ?n[o']?t (?:fade|go)|not fad\w*)\b",
       r"\b(?:still\s+)?(?:visible|see\s+(?:it|them|the spots|the rash))\s+through\s+(?:the|a)\s+glass\b",
       r"\b(?:not sure|unsure|can't tell|cannot tell|don't know|do not know|hard to tell)\s+(?:if|whether)\s+(?:\w+\s+){0,3}?(?:blanch\w*|fade\w*)\b"),
    _f("acral_rash", "rash on palms/soles or wrists/ankles", r"\bpalms?\s+(?:and|&|\+)\s+soles?\b",
       r"\b(?:wrists?|ankles?)\s+(?:and|&)\s+(?:ankles?|wrists?)\b"),
    _f("widespread_pustules", "widespread pustules",
       r"\b(?:widespread|generali[sz]ed|sheets of|lakes of|carpet of|hundreds of|numerous|masses of)\s+(?:\w+\s+){0,2}?pustul\w*\b",
       r"\bpustul\w*\s+(?:\w+\s+){0,3}?(?:all over|everywhere|over (?:the|his|her|my) (?:whole|entire) body|coalescing)\b",
       r"\bpustular psoriasis\b|\bAGEP\b|\bacute generali[sz]ed exanthematous pustulosis\b|\bvon zumbusch\b"),
    _f("young_infant", "baby under 3 months",
       r"\b(?:[0-9]|1[0-2])[- ]?(?:weeks?|days?|wks?)[- ]old\b", r"\b[0-2][- ]?(?:months?|mths?)[- ]old\b",
       r"\b(?:newborn|neonate|neonatal)\b", kind="context"),
    _f("blisters", "blisters", r"(?<!blood )\bblister\w*\b", r"\bbullae?\b|\bbullous\b", r"\bvesic\w*\b"),
    _f("widespread_blisters", "widespread blistering",
       r"\bblister\w*\s+(?:\w+\s+){0,2}?(?:all over|everywhere|over (?:the|his|her|my) (?:whole|entire) (?:body|skin))\b",
       r"\b(?:widespread|generali[sz]ed|extensive)\s+(?:\w+\s+)?(?:blister\w*|bullae|bullous)\b",
       r"\b(?:covered|covering)\s+in\s+(?:\w+\s+)?blisters\b"),
    _f("haemorrhagic_bullae", "haemorrhagic bullae",
       r"\bha?emorrhagic\s+(?:bullae|blisters|vesicles)\b", r"\b(?:blood[- ]filled|bloody|purple|black|dark)\s+(?:bullae|blisters)\b", r"\bblood\s+blisters\b"),
    _f("dusky_target", "dusky / atypical target lesions", r"\bdusky\b", r"\batypical\s+targets?\b", r"\btargetoid\b",
       r"\bflat\s+(?:atypical\s+)?targets?\b"),
    # --- mucosa and skin failure -------------------------------------------------------------------
    _f("mucosa_oral", "mouth or lip erosions",
       r"\b(?:mouth|oral|buccal|lips?|tongue|gums?)\s+(?:\w+\s+){0,3}?(?:ulcer\w*|sores|erosions?|blisters|raw|crust\w*|bleeding)",
       r"\b(?:ulcer\w*|sores|erosions?|blisters|mucositis|crust\w*|bleeding)\s+(?:\w+\s+){0,3}?(?:in|on|inside|of|around)\s+(?:the\s+|his\s+|her\s+|my\s+|their\s+)?(?:mouth|lips?|tongue|gums|oral)\b",
       r"\b(?:ulcer\w*|sores|erosions?|blisters)\s+(?:\w+\s+){0,2}?inside\s+(?:of\s+)?(?:the\s+|his\s+|her\s+|my\s+|their\s+)?cheeks?\b",
       r"\b(?:ulcerated|eroded|blistered|blistering|crusted|crusty|bleeding|raw|ha?emorrhagic)\s+(?:and\s+\w+\s+)?(?:lips?|mouth|gums?|tongue|(?:buccal|oral)\s+mucosa)\b",
       r"\bmucositis\b|\bstomatitis\b", r"\boral\s+(?:\+|and|&|/)\s+genital\b"),
    _f("mucosa_eye", "eye involvement (red, sore or sticky eyes)",
       r"\beyes\s+(?:\w+\s+){0,3}?(?:red|sore|bloodshot|burning|sticky|gritty|crusted|crusting|inflamed|painful|stuck together|stuck shut|glued shut|weeping)\b",
       r"\b(?:red|sore|bloodshot|burning|sticky|gritty|crusted|inflamed|painful)\s+(?:\w+\s+)?eyes\b",
       r"\bconjunctiv\w*\b", r"\bocular\s+(?:involvement|erosions|mucosa)\b", r"\bpink\s?eyes?\b"),
    _f("mucosa_genital", "genital erosions",
       r"\bgenital\w*\s+(?:\w+\s+){0,2}?(?:ulcer\w*|erosions?|sores?|blisters?|involvement)\b",
       r"\b(?:ulcer\w*|erosions?|sores|blisters)\s+(?:\w+\s+){0,4}?(?:on|in|of|around)\s+(?:the\s+|his\s+|her\s+|my\s+)?(?:vulva\w*|vagina\w*|penis|glans|genitals?|genitalia|foreskin|scrotum|labia)\b",
       r"\b(?:vulval|vaginal|penile)\s+(?:ulcer\w*|erosions?|sores|blisters)\b",
       r"\b(?:penile|genital|vulval|vaginal)\s+(?:and|&|\+|/)\s+(?:oral|mouth|lip|buccal)\s+(?:ulcer\w*|erosions?|sores)",
       r"\b(?:ulcer\w*|erosions?|sores|blisters)\s+(?:\w+\s+){0,4}?(?:on|in|of|around)\s+(?:the\s+|his\s+|her\s+|my\s+)?(?:privates|private parts|down below)\b",
       r"\b(?:mouth|oral|lips?)\s+(?:and|&|\+|/)\s+(?:the\s+)?(?:genitals?|genitalia|genital area|privates|private parts|vulva|vagina|penis)\b"),
    _f("skin_detachment", "skin detachment / sloughing", r"\bslough\w*\b", r"\bin (?:large\s+)?sheets\b",
       r"\b(?:epidermal|skin)\s+detach\w*\b", r"\bdetach\w*\s+(?:of\s+)?(?:the\s+)?(?:epidermis|skin)\b", r"\bdenuded\b",
       r"\bskin\s+(?:\w+\s+){0,2}?(?:comes?|coming|came|falls?|falling|fell|slides?|sliding|slid|lifts?|lifting)\s+(?:off|away)\b",
       r"\bskin\s+(?:\w+\s+)?(?:peels?|peeling|rubs?|rubbing)\s+(?:off|away)\s+(?:when|with|if|on)\s+(?:\w+\s+)?(?:touch\w*|rubb\w*|press\w*|pressure)",
       r"\braw areas where (?:the\s+)?skin\b", r"\b(?:wet\s+)?tissue[- ]paper\b",
       r"\b(?:large|big|huge|extensive|wide|whole)\s+(?:areas?|patches|pieces|strips|sheets|chunks|layers)\b" + _gap(30)
       + r"\b(?:lift\w*|peel\w*|com(?:e|es|ing)|came|fall\w*|fell|slid\w*|slough\w*|rub\w*|strip\w*)\s+(?:off|away)\b",
       r"\b(?:widespread|generali[sz]ed|extensive)\s+(?:skin\s+)?(?:peeling|desquamation|exfoliation|sloughing)\b",
       r"\bpeel\w*\s+(?:off\s+|away\s+)?in\s+(?:big|large|huge)\s+(?:patches|areas|pieces|strips)\b",
       r"\b(?:off|away)\s+like\s+(?:a\s+|after\s+a\s+)?(?:burn|scald)\b", r"\blooks?\s+(?:like\s+(?:it's|it has)\s+been\s+)?scalded\b"),
    _f("nikolsky", "positive Nikolsky sign", r"\bnikolsk[iy]\w*\s*(?:sign\s*)?(?:is\s+|was\s+)?(?:positive|\+\s?ve|\+)",
       r"\b(?:positive|\+ve)\s+nikolsk[iy]\w*",
       r"\b(?:peel\w*|wrinkl\w*|slid\w*|shear\w*|slough\w*|rub\w*\s+off|com\w*\s+(?:off|away))\s+(?:\w+\s+){0,3}?(?:with|on|under|after)\s+(?:\w+\s+){0,2}?(?:pressure|touch\w*|rubb\w*|friction|stroking)\b",
       r"\b(?:peel\w*|wrinkl\w*|slid\w*|shear\w*|slough\w*|com\w*\s+(?:off|away))\s+(?:\w+\s+){0,2}?(?:when|if|as)\s+(?:it's\s+|it\s+is\s+|you\s+|i\s+|we\s+)?(?:rubbed|rub|touched|touch|pressed|press|stroked|stroke)\b"),
    _f("tender_skin", "painful / tender skin", r"\b(?:skin|it)\s+(?:is\s+)?(?:very\s+|really\s+|exquisitely\s+)?(?:tender|painful|sore) to touch\b",
       r"\b(?:tender|painful)\s+(?:red\s+)?skin\b", r"\bskin\s+(?:\w+\s+){0,3}?(?:very|exquisitely|extremely)\s+tender\b",
       r"\b(?:tender|painful|sore|hurts)\s+(?:all over|everywhere)\b",
       r"\bskin\s+(?:\w+\s+){0,3}?(?:hurts|painful|tender|sore)\s+(?:when|if)\s+(?:it's\s+|you\s+|i\s+|we\s+)?(?:touched|touch|held|hold|pressed)\b",
       r"\b(?:screams|cries|crying|screaming|winces)\s+(?:\w+\s+){0,2}?(?:when|if)\s+(?:\w+\s+){0,2}?(?:touched|held|picked up|cuddled|handled|dressed)\b"),
    _f("skin_peeling", "peeling / desquamating skin", r"\bpeel(?:s|ed|ing)?\b", r"\bdesquamat\w*\b", r"\bexfoliat\w*\b",
       r"\bskin\s+(?:\w+\s+)?(?:coming|came|falling|fell)\s+off\b"),
    _f("recent_drug", "a drug started recently",
       r"\b(?:started|starting|start(?:ed)?\s+on|put\s+on|commenced|commencing|began|begun|beginning|initiated|initiation of|"
       r"introduced|given|prescribed|course of|switched to|changed to|added)\b[^.;!?\n,]{0,30}?" + rf"\b{_DRUG}\b",
       rf"\bnew(?:ly\s+started)?\s+(?:\w+\s+)?{_DRUG}\b",
       # one pattern for every timing written after the drug name, so that the long drug list is tried once
       rf"\b{_DRUG}\b(?:" + _gap(50) + r"(?:\b(?:started|commenced|initiated|introduced|added)\b|\bx\s?\d+\s?/\s?(?:52|7)\b"
       rf"|\bfor\s+(?:the\s+(?:last|past)\s+)?{_NUM_WORD}\s+(?:days|weeks|wks)\b"
       rf"|\b{_NUM_WORD}\s+(?:days?|weeks?|wks?|/52|/7)\s+ago\b|\bsince\s+(?:his|her|my|the|their)\b)"
       r"|\s+(?:\w+\s+){0,2}?(?:since\s+)?(?:last\s+(?:week|month)|this\s+month|(?:a|one|1|two|2)\s+months?\s+ago)\b"
       r"|\s+(?:(?:for|x|about|around|approx\w*|roughly|nearly|almost|just|over|the\s+(?:last|past)|~)\.?\s*)+"
       rf"{_NUM_WORD}\s*(?:days|weeks|wks|/52|/7)\b)",
       rf"\b{_NUM_WORD}\s*(?:days?|weeks?|wks?|/52|/7)\s+(?:after|since|into|post)\s+(?:starting|taking|beginning|commencing|initiating|a course of|the new)\b",
       rf"\b{_NUM_WORD}\s*(?:days?|weeks?|wks?|/52|/7)\s+(?:into|after|since|on|post)\s+(?:a\s+course\s+of\s+|the\s+|his\s+|her\s+|my\s+)?(?:new\s+)?{_DRUG}\b",
       r"\b(?:after|since|post)\s+(?:starting|beginning|commencing|initiating|initiation)\b",
       rf"\bday\s+\d+\s+(?:of|on)\s+(?:\w+\s+)?{_DRUG}\b",
       kind="context"),
    _f("facial_swelling_dress", "facial swelling",
       r"\bface\s+(?:is\s+|was\s+)?(?:really\s+|very\s+|so\s+)?(?:puffy|swollen)\b", r"\bfacial\s+(?:swelling|o?edema|puffiness)\b",
       r"\b(?:swollen|puffy)\s+face\b"),
    _f("lymphadenopathy", "swollen lymph nodes",
       r"\b(?:lymph\s*nodes?|nodes|glands)\s+(?:\w+\s+){0,2}?(?:swollen|enlarged|up|tender|palpable)\b",
       r"\b(?:swollen|enlarged|tender|palpable)\s+(?:\w+\s+){0,2}?(?:lymph\s*nodes?|nodes|glands)\b", r"\blymphadenopath\w*\b"),
    _f("eosinophilia", "eosinophilia or atypical lymphocytes", r"\beosinophil\w*\b", r"\beos\b", r"\batypical lymphocyt\w*\b"),
    _f("liver", "liver involvement",
       r"\b(?:liver|LFTs?)\s+(?:\w+\s+){0,3}?(?:abnormal|deranged|raised|up|high|off|elevated)\b", r"\bhepatitis\b",
       r"\bjaundic\w*\b", r"\btransaminit\w*\b",
       r"\b(?:raised|deranged|abnormal|elevated)\s+(?:LFTs?|liver\w*|ALT|AST|transaminases)\b",
       r"\b(?:ALT|AST|LFTs?|transaminases)\s+(?:\d+(?:\.\d+)?\s*(?:x|times)|>\s*\d+\s*(?:x|times))\s*(?:ULN|upper limit|normal)"),
    _f("renal", "kidney involvement",
       r"\bcreatinine\s+(?:\w+\s+){0,2}?(?:ris\w*|raised|doubled|up|high|increas\w*|elevated)\b",
       r"\bAKI\b|\bacute kidney injury\b|\b(?:renal|kidney)\s+(?:failure|impairment|involvement|injury)\b"),
    # --- soft-tissue infection ---------------------------------------------------------------------
    _f("soft_tissue_infection", "skin or soft-tissue infection",
       r"\bcellulitis\b", r"\berysipelas\b", r"\babscess\w*\b", r"\binfected\b",
       r"(?<!urinary )(?<!chest )(?<!ear )(?<!throat )(?<!viral )(?<!fungal )(?<!yeast )(?<!mycoplasma )\binfection\b",
       r"\b(?:wound|bite|graze|laceration|puncture wound|injection site|pressure (?:sore|ulcer)|leg ulcer|boil|carbuncle)s?\b",
       r"\b(?:red(?:dened|ness)?|erythema|swelling|swollen)\b" + _gap(40) + r"\b(?:spread\w*|doubled|extend\w*|tracking)\b",
       r"\b(?:scrot\w*|perine\w*|groin|genitals?|vulva\w*)\b" + _gap(25) + r"\b(?:swell\w*|swollen|red|infected|abscess)\b",
       r"\b(?:swell\w*|swollen|redness)\s+of\s+(?:the\s+)?(?:scrot\w*|perine\w*|groin|genitals?|vulva\w*)\b",
       r"\bspread\w*\s+(?:\w+\s+){0,2}?(?:redness|erythema|red (?:area|patch|mark))\b",
       r"\bred,?\s+(?:hot|warm),?\s+(?:and\s+)?swollen\b",
       r"\b(?:red|hot|warm|swollen)(?:,?\s+(?:and\s+)?(?:hot|warm|red|swollen|tender)){1,3}\s+(?:left\s+|right\s+)?(?:leg|arm|foot|hand|limb|thigh|calf|shin|forearm|finger|toe|knee|ankle|elbow|skin)\b", r"\b(?:hot|warm),?\s+red,?\s+(?:and\s+)?swollen\b",
       r"\b(?:leg|arm|foot|hand|limb|thigh|calf|shin|forearm|finger|toe)\s+(?:\w+\s+){0,2}?(?:swollen|red and swollen|hot and swollen)\b",
       r"\bred (?:lines|streaks)\b|\bstreaks? of red\b|\blymphangitis\b", r"\bpost[- ]?op\w*\b|\bsurgical (?:wound|site)\b|\bincision\b",
       r"\bPWID\b|\binject(?:s|ing)? drugs\b", r"\bpus\b|\bpurulent\b"),
    _f("rapid_spread", "rapid spread (hours)",
       r"\b(?:spread|doubled|grown|extended|tripled)\w*\s+(?:\w+\s+){0,3}?(?:overnight|in a day|in hours|within hours|since this morning|since last night)\b",
       r"\bspread\w*\s+(?:\w+\s+){0,4}?(?:really\s+|very\s+|so\s+)?(?:fast|quickly|rapidly|before (?:my|our|your) eyes)\b",
       r"\b(?:rapidly|quickly|fast)[- ]spreading\b", r"\bby the (?:hour|minute)\b|\bevery (?:hour|few hours)\b|\bhour by hour\b",
       r"\b(?:spread|grown|extended|moved|tracked|progress|advanc|track)\w*\s+(?:\w+\s+){0,4}?(?:in|over|within)\s+(?:the\s+(?:last|past)\s+)?(?:\d+|a few|few|two|three|four|an?|couple of)\s*(?:hours?|hrs?|h)\b",
       r"\b\d+\s?cm\s+(?:in|over|within)\s+(?:\d+|a few|an?)\s?(?:hours?|hrs?|h)\b",
       r"\bspread\w*\s+(?:\w+\s+){0,4}?(?:in|over|within)\s+(?:the\s+)?(?:last|past)\s+(?:hour|few hours|couple of hours)\b",
       r"\b(?:past|beyond|outside|over)\s+the\s+(?:pen\s+|marker\s+|marked\s+|drawn\s+)?(?:lines?|markings?|marks?|margins?|borders?|outline)\b",
       r"\b(?:rapidly|quickly|fast)\s+(?:progress\w*|advanc\w*|extend\w*|worsen\w*)\b",
       r"\bspread\w*\s+(?:\w+\s+){0,3}?(?:right\s+|all the way\s+)?up\s+(?:my|his|her|the)\s+(?:arm|leg|thigh)\b",
       r"\bspread\w*\s+(?:\w+\s+){0,3}?(?:up\s+)?past\s+(?:the|his|her|my)\s+(?:knee|elbow|ankle|wrist|groin|hip|shoulder)\b"),
    _f("rapid_enlargement", "rapidly enlarging", r"\brapidly\s+(?:enlarging|expanding|growing|increasing|extending)\b",
       r"\b(?:enlarg|expand|grow|grew)\w*\s+(?:\w+\s+){0,2}?(?:rapidly|quickly|fast|by the (?:hour|day))\b"),
    _f("severe_pain", "severe pain",
       r"\b(?:severe|extreme|excruciating|agoni[sz]ing|unbearable|intense|terrible|horrendous|horrific|worst)\s+(?:\w+\s+)?pain\b",
       r"\b(?:in (?:absolute\s+|real\s+)?agony|off the (?:charts?|scale)|through the roof|screaming (?:in|with) pain|worst pain (?:of (?:my|his|her) life|ever))\b",
       r"\bpain\w*\s+(?:\w+\s+){0,4}?(?:is\s+|was\s+)?(?:unbearable|excruciating|severe|intolerable|10/10)\b"),
    _f("pain_out_of_proportion", "pain out of proportion to the signs",
       r"\bpain\w*\s+(?:\w+\s+){0,5}?out of (?:all\s+)?proportion\b", r"\bdisproportionate\s+(?:pain|tenderness)\b",
       r"\b(?:pain|tenderness)\s+(?:extending\s+)?beyond\s+(?:the\s+)?(?:visible|redness|margin|erythema)\b",
       r"\b(?:hurts|pain\w*)\s+(?:\w+\s+){0,3}?(?:much\s+|far\s+|way\s+)?(?:worse|more)\s+than\s+(?:it\s+)?(?:looks|expected|the redness)\b",
       r"\b(?:much|far|way|a lot|so much)\s+(?:worse|more painful)\s+than\s+(?:it\s+)?(?:looks|expected|the redness)\b",
       r"\bpain\s*(?:>>?|out of keeping with|disproportionate to|exceeds)\s*(?:the\s+)?(?:signs|findings|exam\w*|appearance)\b",
       r"\bpain\w*\b" + _gap(40) + r"\b(?:but|yet|although|though)\s+(?:it\s+)?(?:only\s+)?looks?\s+(?:\w+\s+){0,2}?(?:mild|fine|ok|okay|normal|minor|a (?:little|bit)|slightly|nothing)\b"),
    _f("crepitus", "crepitus / gas in tissues", r"\bcrepit\w*\b", r"\bcrackl\w*\s+(?:under|beneath)\s+(?:the\s+)?skin\b",
       r"\bcrackl\w*\s+(?:when|on|under|if)\s+(?:\w+\s+)?(?:press\w*|touch\w*|palpat\w*|push\w*)",
       r"\bsurgical emphysema\b|\bsubcutaneous\s+(?:gas|emphysema|air)\b",
       r"\bgas\s+(?:in|on)\s+(?:the\s+)?(?:tissues?|x-?ray|imaging|CT)\b", r"\bfeels?\s+(?:crunchy|crackly|like bubble wrap)\b"),
    _f("skin_anaesthesia", "numb skin over the infection", r"\bnumb\w*\b", r"\b(?:loss of|reduced|no)\s+(?:sensation|feeling)\b",
       r"\ban(?:a)?esthe(?:sia|tic)\s+(?:skin|patch|area)\b", r"\bskin\s+an(?:a)?esthe\w*\b"),
    _f("necrosis", "dusky, grey or necrotic skin", r"\bnecros\w*\b|\bnecrotic\b", r"\bgangren\w*\b", r"\beschar\w*\b",
       r"\b(?:turn\w*|gone|going|went|become|became)\s+(?:\w+\s+)?(?:black|dusky|grey|gray|purple|purple-black|blue-black)\b",
       r"\bwoody\b", r"\bskin\s+(?:feels\s+)?(?:hard\s+)?like wood\b",
       r"\bblack\s+(?:in\s+the\s+)?(?:centre|center|middle)\b", r"\b(?:centre|center|middle)\s+(?:is\s+|has gone\s+|turning\s+)?black\b",
       r"\bdusky\b", r"\b(?:grey|gray|black|blue-black|dusky)\s+(?:\w+\s+)?(?:discolou?r\w*|skin|centres?|centers?)\b",
       r"\bskin\s+(?:is\s+|looks\s+)?(?:now\s+)?(?:grey|gray|black|dusky|purple)\b",
       r"\b(?:black|blackened|dusky)\s+in\s+(?:places|patches|parts|spots|areas)\b",
       r"\b(?:swollen|red|purple|blistered)\s+and\s+(?:going\s+|turning\s+)?(?:black|blackened)\b",
       r"(?<!-)\b(?:grey|gray|black|dusky)\s+(?:\w+\s+)?(?:patch(?:es)?|areas?)\b"),
    # --- other emergencies -------------------------------------------------------------------------
    _f("eczema", "eczema", r"\beczema\w*\b", r"\batopic\b", r"\bdermatitis\b", kind="context", shout_unsafe=(r"\bAD\b",)),
    _f("punched_out", "punched-out erosions", r"\bpunched[- ]out\s+(?:\w+\s+)?(?:erosions?|sores|ulcers?|lesions|holes|pits|areas|spots)\b"),
    _f("eh_lesions", "clustered blisters / crusted sores on eczema",
       r"\bmonomorphic\s+(?:\w+\s+)?(?:vesicles|blisters|erosions|pits|sores|papules)\b",
       r"\b(?:crops|clusters?|groups?)\s+of\s+(?:\w+\s+){0,2}?(?:blisters|vesicles|erosions|sores|spots)\b",
       r"\b(?:tiny|small|little|fluid-filled|water)\s+(?:\w+\s+)?blisters\b",
       r"\bcrust(?:y|ed)\s+(?:\w+\s+)?(?:sores|erosions|spots|scabs)\b", r"\bcold sores?\s+(?:\w+\s+){0,3}?spread\w*\b",
       r"\b(?:open|raw|weeping|painful)\s+sores\b", r"\bcold sores?\b" + _gap(30) + r"\b(?:all over|across|over (?:his|her|my|the) (?:face|eczema))\b"),
    _f("sudden_worsening", "sudden worsening",
       r"\b(?:sudden(?:ly)?|rapid(?:ly)?|quickly|fast)\s+(?:\w+\s+){0,2}?(?:worse|worsen\w*|deteriorat\w*|crops?|appear\w*|flare\w*)\b",
       r"\b(?:got|getting|became|become|gone)\s+(?:much\s+|a lot\s+|very\s+)?worse\s+(?:in|over)\s+(?:a\s+|the\s+(?:last|past)\s+)?(?:\d+|two|three|few|couple of|a)\s+(?:days?|hours?)\b",
       r"\bover\s+(?:24|48|72)\s?h(?:ours|rs)?\b"),
    _f("erythroderma", "erythroderma (red skin over most of the body)", r"\berythroderm\w*\b", r"\bexfoliative dermatitis\b",
       r"\b(?:red|scal\w*|flak\w*|peel\w*|erythem\w*)\s+(?:\w+\s+){0,3}?(?:over|across|covering|involving)\s+(?:>\s?|more than\s+|over\s+)?(?:9\d|8\d)\s?%",
       r"\b(?:whole|entire|all\s+(?:of\s+)?(?:my|his|her|the))\s+(?:skin|body)\b" + _gap(40) + r"\b(?:red|erythem\w*|flak\w*|scal\w*|peel\w*|inflamed)\b",
       r"\b(?:red|erythem\w*|scal\w*|flak\w*|inflamed)\b" + _gap(30) + r"\b(?:over|across|covering)\s+(?:almost\s+|nearly\s+|virtually\s+|practically\s+)?(?:all\s+(?:of\s+)?|the\s+|his\s+|her\s+|my\s+|their\s+)?(?:entire|whole|all)\s+(?:of\s+)?(?:the\s+|her\s+|his\s+|my\s+)?(?:skin|body)\b",
       r"\b(?:red|scal\w*|flak\w*|peel\w*)\b" + _gap(30) + r"\b(?:from\s+)?head to (?:toe|foot)\b",
       r"\b(?:red|erythem\w*|inflamed|scaly|peeling)\s+(?:and\s+\w+\s+)?skin\s+(?:all over|everywhere)\b",
       r"\b(?:psoriasis|eczema|dermatitis|rash|redness)\s+(?:has\s+)?spread\w*\s+(?:\w+\s+){0,2}?(?:all over|over (?:my|his|her|the) (?:whole|entire) (?:body|skin))\b"),
    _f("tss_risk", "toxic shock focus (tampon, packing, wound, burn)", r"\btampons?\b|\bmenstrual cup\b", r"\b(?:nasal\s+)?packing\b",
       r"\bpost[- ]?(?:op|operative|surgery|partum)\b", r"\bsurgical (?:wound|site)\b", r"\bwounds?\b", r"\b(?:chickenpox|varicella)\b",
       kind="context"),
    _f("burn", "burn or scald", r"\bburn(?<!like a burn)(?<!like burn)(?:s|ed|t)?\b(?!\s+easily)",
       r"\bscald(?<!like a scald)(?<!like scald)\w*\b",
       r"\b(?:splash\w*|spill\w*|spilt|threw|thrown|sprayed|squirted|got)\s+(?:\w+\s+){0,2}?(?:chemicals?|acid|alkali|bleach|caustic|lye|oven cleaner|drain cleaner|ammonia)\b",
       r"\bacid attack\b", r"\bboiling\s+(?:water|oil|fat|kettle|liquid)\b",
       r"\bhot\s+(?:oil|fat|water|liquid|tea|coffee)\s+(?:spilled|spilt|poured|splashed)\b", r"\b(?:house|building|car)\s+fire\b",
       r"\bcaught fire\b|\bflames\b", r"\belectrocut\w*\b",
       r"\b(?:chemical|acid|alkali|bleach|caustic|lye|oven cleaner|drain cleaner)s?\s+(?:\w+\s+){0,2}?(?:splash\w*|spill\w*|burn\w*|in (?:the|his|her|my) eyes?)"),
    _f("burn_severe", "extensive, deep, airway or special burn",
       r"\b(?:both|all four)\s+(?:legs|arms|hands|feet|limbs)\b",
       r"\b(?:whole|entire|most of (?:the|his|her|my))\s+(?:leg|arm|back|chest|trunk|body|face|abdomen|tummy)\b",
       r"\bfrom the (?:knees?|waist|hips?|shoulders?|elbows?) (?:down|up)\b", r"\bchest and (?:both\s+)?arms\b",
       r"\b(?:chest|trunk|back|tummy|abdomen|stomach|belly)\s+(?:and|&|\+)\s+(?:the\s+)?(?:chest|trunk|back|tummy|abdomen|stomach|belly|arms?|legs?|face|neck|thighs?)\b",
       r"\b(?:large|big|huge|extensive|widespread)\s+(?:\w+\s+)?blisters\b",
       r"\b[1-9]\d\s?%\s*(?:TBSA|BSA|of)\b", r"\bleathery\b", r"\bcharred\b", r"\bwaxy\b", r"\bfull[- ]thickness\b",
       r"\bdeep (?:dermal )?burns?\b", r"\bsinged\b", r"\bsoot\b", r"\bsmoke inhalation\b", r"\benclosed space\b",
       r"\b(?:burns?|burnt|burned|scalds?|scalded)\s+(?:\w+\s+){0,2}?(?:to|on|of)\s+(?:the\s+|his\s+|her\s+|my\s+)?(?:face|mouth|lips|neck|nose|airway)\b",
       r"\bfacial burns?\b", r"\bcircumferential\b", r"\b(?:chemical|electrical|acid|alkali)\s+(?:burn|injury)\w*\b",
       r"\b(?:chemical|acid|alkali|caustic|drain cleaner|oven cleaner)\b", r"\b(?:large|big|huge|extensive)\s+(?:\w+\s+)?(?:burns?|scalds?)\b",
       r"\b(?:white|pale)\s+and\s+(?:painless|leathery|waxy|numb)\b", r"\bpainless\b"),
    _f("vulnerable_age", "young child or frail older person",
       r"\b(?:baby|babies|infant|newborn|neonate|toddler)\b", r"\b[0-4][- ]?(?:years?|yrs?)[- ]old\b",
       r"\b\d{1,2}[- ]?(?:months?|weeks?|days?)[- ]old\b", r"\b[0-4]\s?(?:yo|y/o)\b",
       r"\b(?:elderly|frail|grandad|granddad|grandpa|grandma|granny|grandmother|grandfather|nursing home|care home)\b",
       r"\b(?:[89]\d|1[01]\d)[- ]?(?:years?[- ]old|yo|y/o|yr old)\b", r"\b(?:he|she)(?:'s| is) (?:[89]\d|1[01]\d)\b",
       kind="context", shout_unsafe=(r"\b(?:[89]\d|1[01]\d) ?[MF]\b",)),
    _f("tick", "tick bite", r"\bticks?\b(?![- ]?box)", r"\btick[- ]?bites?\b", kind="context"),
    _f("periorbital_swelling", "swollen eyelids / periorbital swelling",
       r"\b(?:swollen|puffy|swelling of (?:the\s+)?)\s*(?:\w+\s+)?eye ?lids?\b", r"\beye ?lids?\s+(?:\w+\s+){0,3}?(?:swollen|swelling|puffy)\b",
       r"\b(?:peri-?orbital|pre-?septal|peri-?ocular)\s+(?:swelling|cellulitis|o?edema|redness)\b",
       r"\bswelling around (?:the|his|her|my) eyes?\b", r"\beye (?:is |has )?swollen shut\b", r"\bswollen eye\b"),
    _f("orbital_signs", "painful eye movement, double vision or bulging eye",
       r"\bpain\w*\s+(?:on|with)\s+(?:eye\s+)?movement\w*\b", r"\bpainful eye movements?\b",
       r"\bhurts to move (?:the |his |her |my )?eyes?\b", r"\bdouble vision\b|\bdiplopia\b|\bsee(?:s|ing)? double\b", r"\bproptos\w*\b",
       r"\b(?:bulging|protruding)\s+eye\b|\beye\s+(?:is\s+)?(?:bulging|protruding|pushed forward)\b",
       r"\b(?:reduced|loss of|decreased|worsening)\s+(?:vision|visual acuity)\b", r"\bophthalmopleg\w*\b",
       r"\b(?:can't|cannot|unable to)\s+(?:move|open)\s+(?:the\s+|his\s+|her\s+|my\s+)?eye\b"),
    _f("immunosuppressed", "immunosuppression",
       r"\btransplant\w*\b", r"\btacrolimus\b", r"\bcicl?osporin\b|\bcyclosporin\w*\b", r"\bmycophenol\w*\b|\bMMF\b",
       r"\bazathioprine\b", r"\bmethotrexate\b", r"\b(?:adalimumab|infliximab|etanercept|certolizumab|golimumab|ustekinumab|secukinumab|ixekizumab|rituximab|tocilizumab|abatacept|dupilumab|vedolizumab)\b",
       r"\b(?:tofacitinib|baricitinib|upadacitinib|abrocitinib|ruxolitinib)\b", r"\bcyclophosphamide\b",
       r"\b(?:on|taking)\s+(?:oral\s+|high[- ]dose\s+)?(?:prednisolone|prednisone|steroids|dexamethasone)\b",
       r"\bbiologics?\b", r"\bchemo(?:therapy)?\b", r"\bneutropeni\w*\b", r"\bHIV\b", r"\bimmuno(?:suppress|compromis|deficien)\w*\b",
       r"\bsplenectomy\b|\basplen\w*\b", kind="context"),
    # --- suspected skin cancer ---------------------------------------------------------------------
    _f("lesion", "skin lesion", rf"\b{_LESION}\b", kind="context"),
    _f("growth", "growing / enlarging",
       r"\b(?:grow(?:n|s|ing)?|grew)\b(?!\s+(?:out|up|older)\b)", r"\b(?:bigger|larger|wider)\b",
       r"\benlarg\w*\b(?!\s+(?:lymph|nodes|glands|liver|spleen))", r"\b(?:doubled|tripled|increas\w*|expand\w*)\s+(?:\w+\s+){0,2}?(?:in\s+)?(?:size|diameter)\b",
       r"\b(?:doubled|tripled)\b", r"\bfrom nothing to\b|\bwent from nothing\b",
       # a pigmented lesion that spreads is growing (a red rash that spreads is not)
       r"\b(?:moles?|freckles?|na?evus|lentig\w*|birth ?marks?|pigment\w*|(?:dark|brown|black)\s+(?:patch|spot|mark|area))\s+(?:\w+\s+){0,4}?(?:spread\w*|widen\w*|extend\w*)\b"),
    _f("colour_change", "change in colour",
       r"\b(?:darker|darkened|darkening)\b(?![\s-]*(?:skin|-skinned|complexion|patients|people))",
       r"\b(?:changed?|changing)\s+(?:in\s+)?colou?r\b|\bcolou?r\s+change\w*\b|\bnew\s+colou?rs?\b",
       r"\b(?:turned|gone|become|became|going|changed to)\s+(?:a\s+|an\s+)?(?:\w+\s+)?(?:darker|dark|black|blue|grey|gray|blue-black)\b"),
    _f("shape_change", "change in shape", r"\bchang\w*\s+(?:in\s+|its\s+)?shape\b|\bshape\s+(?:has\s+)?changed\b",
       r"\bchang\w*\s+(?:its\s+)?outline\b"),
    _f("change_generic", "changing lesion",
       r"\bchanging\s+(?:\w+\s+)?(?:moles?|lesions?|freckles?|spots?|na?evus|patch|mark)\b",
       r"\b(?:has|have|had|it's|it has|keeps?|is)\s+(?:been\s+)?chang(?:ed|ing)\b", r"\b(?:start\w*|begun|began|beginning)\s+to\s+change\b",
       r"\bpreviously\s+(?:uniform|one colou?r|even|flat|smooth|regular|symmetric\w*|smaller|lighter)\b",
       r"\bused to be\s+(?:uniform|one colou?r|flat|smooth|lighter|smaller|paler)\b", r"\blooks?\s+(?:\w+\s+)?different\b"),
    _f("elevation_change", "now raised / thickened",
       r"\b(?:become|became|got|gone|getting|now)\s+(?:more\s+)?(?:raised|lumpy|bumpy|elevated|thick(?:er)?|nodular|domed)\b",
       r"\braised up\b", r"\bthickened\b", r"\bno longer flat\b"),
    _f("asymmetry", "asymmetry", r"\basymmetr\w*\b", r"\blopsided\b", r"\b(?:uneven|odd) shape\b"),
    _f("irregular_border", "irregular border",
       r"\birregular\s+(?:\w+\s+)?(?:borders?|edges?|outline|margins?|shape)\b",
       r"\b(?:borders?|edges?|outline|margins?)\s+(?:\w+\s+){0,3}?(?:irregular|ragged|notched|jagged|jaggered|blurr\w*|fuzzy|ill-defined|poorly defined|uneven|smudged|scalloped)\b",
       r"\b(?:notched|jagged|jaggered|ragged|scalloped|blurr\w*|fuzzy|uneven|ill-defined|poorly defined|smudged)\s+(?:\w+\s+)?(?:borders?|edges?|outline|margins?)\b"),
    _f("multicolour", "several colours",
       r"\b(?:two|2|three|3|several|multiple|many|different|mixed|variable|varied|uneven)\s+(?:different\s+)?(?:colou?rs|shades|tones|hues)\b",
       r"\bvariegat\w*\b", r"\b(?:blue|black|grey|gray|white)\s*[-/]\s*(?:black|grey|gray|white|blue)\b(?!\s+veil)",
       r"\bcolou?rs?\s+(?:is\s+|are\s+)?(?:irregular|uneven|patchy|variable|mixed)\b", r"\b(?:irregular|uneven)\s+(?:colou?r|pigment\w*)\b",
       r"\b(?:brown|tan|pink)\s+(?:\w+\s+)?(?:with|and)\s+(?:a\s+)?(?:\w+\s+)?(?:black|blue|grey|gray|white)\s+(?:areas?|bits?|patch(?:es)?|spots?|flecks?|parts?|edges?)\b"),
    _f("new_lesion", "new lesion",
       r"\bnew\s+(?:\w+\s+){0,2}?(?:moles?|lesions?|pigmented|dark (?:spot|mark|patch)|lumps?|growth|freckle|nodule)\b",
       r"\b(?:mole|lesion|spot|lump|growth|mark|freckle)\s+(?:\w+\s+){0,2}?(?:appeared|has appeared|came up|popped up)\b"),
    _f("bleeding", "bleeding or oozing", r"\b(?:bleed\w*|bled)\b", r"\bbloody\b(?!\s+(?:diarrh|stool|nose|urine))",
       r"\bblood(?:stain\w*|\s+on\s+(?:the\s+|my\s+|his\s+|her\s+)?(?:sheets|clothes|bra|shirt|socks?|towel|pillow))\b",
       r"\booz\w*\b", r"\bweep(?:s|ing|y)?\b"),
    _f("non_healing", "not healing",
       r"\b(?:has ?n[o']?t|hasnt|have ?n[o']?t|haven't|did ?n[o']?t|does ?n[o']?t|doesnt|won'?t|wont|will not|not|never|isn't|is not|failed to|failing to|fails to)\s+(?:\w+\s+)?heal\w*\b",
       r"\bnon[- ]?healing\b", r"\b(?:keeps?|kept)\s+(?:on\s+)?(?:scabbing|crusting|breaking down|re-?opening)\b",
       r"\bheals?\s+(?:up\s+)?(?:and|then)\s+(?:breaks down|reopens|comes back|bleeds)\b"),
    _f("persistent", "persisting / keeps coming back",
       r"\b(?:has ?n[o']?t|hasnt|have ?n[o']?t|haven't|won'?t|wont|does ?n[o']?t|doesnt|did ?n[o']?t|not|never)\s+(?:\w+\s+)?(?:gone|go|going|cleared|clear(?:ed)?\s+up|settled|resolved)(?:\s+(?:away|up|down))?\b",
       r"\bpersist(?:ent|ing|s|ed)?\b", r"\bstill\s+(?:there|present)\b",
       r"\b(?:keeps?|kept)\s+(?:on\s+)?(?:\w+\s+){0,3}?(?:falling off|coming back|flaking off|scabbing over|bleeding)\b"),
    _f("cold_sore", "cold sore", r"\bcold sores?\b", r"\bherpes labialis\b", kind="context"),
    _f("ulcer_sore", "sore or ulcer", r"(?<!cold )\bsores?\b", r"\bulcers?\b|\bulcerat\w*\b", r"\bscabs?\b", kind="context"),
    _f("undermined_edge", "undermined violaceous edge", r"\bundermin\w*\b", r"\bviolaceous\b", r"\bcribriform\b"),
    _f("nail_band", "pigmented nail band",
       r"\b(?:brown|black|dark|pigmented|grey|gray)\s+(?:\w+\s+)?(?:bands?|streaks?|stripes?|lines?)\b" + _gap(40) + r"\b(?:finger|toe|thumb)?nails?\b",
       r"\b(?:finger|toe|thumb)?nails?\b" + _gap(30) + r"\b(?:brown|black|dark|pigmented)\s+(?:\w+\s+)?(?:bands?|streaks?|stripes?|lines?)\b",
       r"\bmelanonychia\b"),
    _f("nail_change", "new, widening or changing nail pigment",
       r"\b(?:new|wider|widen\w*|broaden\w*|darken\w*|changing|hutchinson\w*)\b", r"\bgetting\s+(?:wider|darker|bigger)\b",
       r"\bwider at the (?:base|bottom|cuticle)\b", r"\b(?:pigment\w*|dark\w*)\s+(?:on|onto|into)\s+the\s+(?:cuticle|nail ?fold|skin)\b",
       r"\b(?:extend\w*|spread\w*|runs?|goes)\s+(?:on|in)?to\s+the\s+(?:proximal\s+|lateral\s+)?(?:cuticle|nail ?fold|skin (?:around|next to|beside))\b"),
    _f("subungual_pigment", "pigment under the nail",
       r"\b(?:dark|black|brown|blue-black|pigment\w*|discolou?r\w*)\s+(?:\w+\s+){0,2}?(?:patch|spot|mark|area|stain|discolou?ration|lesion|pigment\w*|streak|band|line|stripe)\s+(?:\w+\s+){0,2}?(?:under|beneath|underneath|in)\s+(?:\w+\s+){0,2}?(?:(?:finger|toe|thumb)?nails?|nail ?bed)\b"),
    _f("nail_red_flag", "no injury / not growing out",
       r"\b(?:no|without|denies)\s+(?:\w+\s+){0,2}?(?:injury|injuries|trauma|knock|bang|stubb\w*)\b",
       r"\b(?:can't|cannot|don't|do not)\s+(?:remember|recall)\s+(?:any|an)\s+(?:injury|trauma|knock|bang)\b",
       r"\b(?:isn't|is not|hasn't|has not|not|doesn't|does not|won't|hasnt|isnt|never)\s+(?:\w+\s+)?(?:grow\w* out|mov\w* (?:up|out|forward))\b"),
    _f("subungual_mass", "growth lifting the nail",
       r"\b(?:growth|lump|nodule|mass|swelling)\s+(?:\w+\s+){0,6}?(?:lift\w*|rais\w*|push\w*|destroy\w*|split\w*|under|beneath)\s+(?:\w+\s+){0,3}?(?:finger|toe|thumb)?nails?\b"),
    _f("efg", "elevated, firm and growing (EFG)", r"\bEFG\b", r"\belevated,?\s+firm,?\s+(?:and\s+)?growing\b"),
    _f("dermoscopy_melanoma", "dermoscopic features of melanoma",
       r"\batypical\s+(?:pigment(?:ed)?\s+)?network\b", r"\bnegative\s+(?:pigment\s+)?network\b",
       r"\bblue[- ]?(?:white|whitish|grey|gray)\s+(?:veil|structures|areas?)\b",
       r"\b(?:irregular|atypical|eccentric|off-?cent(?:re|er))\s+(?:\w+\s+)?(?:streaks|pseudopods|blotch(?:es)?|dots(?:\s+and\s+globules)?|globules|pigmentation)\b",
       r"\bradial streaming\b", r"\bregression\s+(?:structures|areas|zones?)\b", r"\bpeppering\b",
       r"\b(?:shiny white|white shiny)\s+(?:lines|streaks|structures)\b|\bchrysalis\b",
       r"\bpolymorph\w*\s+vessels\b|\batypical\s+(?:vascular|vessels)\w*\b|\bdotted and (?:irregular\s+)?linear\s+(?:irregular\s+)?vessels\b",
       r"\bmilky[- ]red\b", r"\bmulti-?component pattern\b", r"\bangulated lines\b", r"\bparallel ridge pattern\b",
       r"\basymmetric(?:al)? pigmented follicular openings\b", r"\brhomboid(?:al)? structures\b",
       r"\bdermat?oscop\w*\s+(?:\w+\s+){0,3}?(?:suggest\w*|suspicious|concerning|consistent with|typical of|features of|worrying)\s+(?:\w+\s+){0,2}?melanoma\b"),
    _f("ugly_duckling", "ugly-duckling lesion", r"\bugly[- ]duckling\b",
       r"\b(?:looks?|is|seems|appears)\s+(?:\w+\s+){0,2}?(?:different|unlike)\s+(?:\w+\s+){0,2}?(?:from\s+|to\s+|than\s+)?(?:all\s+)?(?:the\s+|her\s+|his\s+|my\s+|their\s+|your\s+)?(?:other|rest|others)\b",
       r"\bunlike\s+(?:all\s+)?(?:the\s+|her\s+|his\s+|my\s+)?(?:others|other moles|rest)\b", r"\bodd one out\b",
       r"\b(?:does ?n[o']?t|doesnt|not)\s+look\s+like\s+(?:any\s+of\s+)?(?:the|her|his|my|their)\s+(?:others|other\s+(?:moles|spots|lesions|freckles))\b",
       r"\bstands?\s+out\s+from\s+(?:the|her|his|my)\s+other\b"),
    _f("melanoma_scar_lump", "new lump near a melanoma scar",
       r"\b(?:lumps?|nodules?|bumps?|swellings?|lesions?|spots?)\b" + _gap(60) + r"\b(?:scar|site|where)\b" + _gap(40) + r"\bmelanoma\b",
       r"\bmelanoma\b" + _gap(60) + r"\b(?:scar|site)\b" + _gap(40) + r"\b(?:lumps?|nodules?|bumps?|swellings?)\b",
       r"\bmelanoma\b" + _gap(80) + r"\b(?:new|enlarged|swollen|hard)\s+(?:\w+\s+)?(?:lumps?|nodules?|glands?|lymph nodes?)\b",
       kind="context"),
    _f("melanoma_mention", "melanoma (any mention)", r"\bmelanoma\b", kind="context"),
    _f("lump_at_scar", "lump at a scar or in the draining nodes",
       r"\b(?:lumps?|nodules?|bumps?|swellings?|lesions?|spots?)\b" + _gap(40) + r"\b(?:scar|excision site|operation site)\b",
       r"\b(?:scar|excision site)\b" + _gap(30) + r"\b(?:lumps?|nodules?|bumps?|swellings?)\b",
       r"\bnew\s+(?:\w+\s+)?(?:lumps?|nodules?|swellings?|glands?)\s+(?:\w+\s+){0,2}?(?:in|under)\s+(?:the\s+|my\s+|his\s+|her\s+)?(?:armpit|axilla|groin|neck)\b"),
    _f("nodule_in_mole", "new nodule within a mole",
       r"\b(?:new|developed)\b" + _gap(30) + r"\b(?:lump|nodule|bump|papule|raised (?:area|bit|part)|dark (?:bit|area))\b" + _gap(25)
       + r"\b(?:within|in|inside|on|at the edge of|in the middle of|arising (?:in|from))\s+(?:it|the mole|the na?evus|the lesion|the freckle|a mole|an existing mole)\b"),
    _f("keratin_crater", "crateriform nodule with keratin plug", r"\bvolcano\w*\b", r"\bcrater\w*\b",
       r"\bkeratin(?:ous)?\s+(?:plug|core|horn)\b", r"\bcutaneous horn\b", r"\bcentral\s+(?:keratin|plug)\b"),
    _f("zoster_rash", "shingles / vesicular rash", r"\bshingles\b", r"\b(?:herpes\s+)?zoster\b", r"\bvesicular\s+(?:rash|eruption|lesions)\b",
       r"\bvesicles\b", r"(?<!blood )\bblister\w*\b"),
    _f("v1_site", "ophthalmic-nerve area (forehead, eye, nose tip)", r"\bV1\b", r"\bophthalmic\s+(?:division|branch|dermatome|nerve)\b",
       r"\bforehead\b", r"\b(?:upper\s+)?eye ?lids?\b",
       r"\b(?:around|near|above|over|into|in)\s+(?:the\s+|my\s+|his\s+|her\s+|their\s+|one\s+)?(?:right\s+|left\s+|r\s+|l\s+)?eyes?\b",
       r"\b(?:tip|side|end|bridge)\s+of\s+(?:the\s+|my\s+|his\s+|her\s+)?nose\b|\bnose tip\b|\bnasal tip\b|\bhutchinson\w*\b",
       r"\beye\s+(?:is\s+|feels\s+)?(?:\w+\s+)?(?:red|sore|painful|uncomfortable|watering|gritty|blurry)\b",
       r"\b(?:red|sore|painful|watering)\s+eye\b", r"\bblurr\w*\s+vision\b"),
    # --- diagnoses named outright ------------------------------------------------------------------
    _f("name_sjs_ten", "SJS/TEN named", r"\bstevens[- ]johnson\b", r"\bsjs\b", r"\btoxic epidermal necrolysis\b",
       r"\bepidermal necrolysis\b", r"\bmycoplasma[- ]induced rash and mucositis\b", r"\bMIRM\b", kind="name",
       shout_unsafe=(r"\bTEN\b",)),
    _f("name_dress", "DRESS named", r"\bDIHS\b", r"\bdrug reaction with eosinophilia\b", r"\bdrug[- ]induced hypersensitivity syndrome\b",
       kind="name", shout_unsafe=(r"\bDRESS\b",)),
    _f("name_nf", "necrotising fasciitis named", r"\bnecroti[sz]ing\s+(?:fasciitis|soft[- ]tissue infection|infection)\b",
       r"\bnec(?:rotising|rotizing)?\s?fasc\b", r"\bfournier\w*\b", r"\bgas gangrene\b", r"\bflesh[- ]eating\b", r"\bNSTI\b", kind="name"),
    _f("name_meningococcal", "meningococcal disease named", r"\bmeningococc\w*\b", r"\bmeningitis\b", kind="name"),
    _f("name_pf", "purpura fulminans named", r"\bpurpura fulminans\b", kind="name"),
    _f("name_anaphylaxis", "anaphylaxis named", r"\banaphyla\w*\b", kind="name"),
    _f("name_ssss", "SSSS named", r"\bSSSS\b", r"\bscalded skin syndrome\b", r"\bRitter\w*\b", kind="name"),
    _f("name_eh", "eczema herpeticum named", r"\beczema herpeticum\b", r"\bkaposi'?s?\s+varicelliform\b", kind="name"),
    _f("name_tss", "toxic shock named", r"\btoxic shock\b", kind="name", shout_unsafe=(r"\bTSS\b",)),
    _f("name_rmsf", "spotted fever named", r"\brocky mountain spotted fever\b", r"\bRMSF\b", r"\bspotted fever\b", r"\brickettsi\w*\b", kind="name"),
    _f("name_sepsis", "sepsis named", r"\bsepsis\b", r"\bseptic(?:aemia|emia)?\b", kind="name"),
    _f("name_orbital", "orbital cellulitis named", r"\b(?:orbital|post-?septal)\s+cellulitis\b", kind="name"),
    _f("name_hzo", "ophthalmic zoster named", r"\b(?:herpes\s+)?zoster ophthalmicus\b", r"\bHZO\b", r"\bophthalmic\s+(?:shingles|zoster)\b",
       kind="name"),
    _f("name_pg", "pyoderma gangrenosum named", r"\bpyoderma gangrenosum\b", kind="name"),
    _f("name_skin_cancer_suspected", "suspected skin cancer named",
       r"(?:\?\s*|\bquery\s+|\bsuspect\w*\s+|\bpossible\s+|\bprobable\s+|\blikely\s+|\bsuspicious\s+(?:of|for)\s+|\bconcern\w*\s+(?:for|about)\s+|\bworrying\s+for\s+|\blooks?\s+like\s+|\b(?:r/o|rule out)\s+|\bexclude\s+)(?:an?\s+)?(?:melanoma|squamous cell carcinoma|SCC|merkel\w*|amelanotic melanoma|lentigo maligna|nodular melanoma|keratoacanthoma)\b",
       kind="name"),
)
FEATURES: dict[str, Feature] = {f.name: f for f in _FEATURE_LIST}

# Findings that only the measurement parsers produce (they have no word patterns of their own).
_MEASURED_LABELS = {
    "fever": "fever", "hypothermia": "low temperature (< 36 °C)", "hypotension": "low blood pressure",
    "sbp_moderate": "systolic BP 91-100", "hr_high": "heart rate > 130", "tachycardia": "fast heart rate",
    "rr_high": "respiratory rate >= 25", "tachypnoea": "fast breathing", "spo2_low": "oxygen saturation < 92%",
    "lactate_high": "lactate >= 4 mmol/L", "lactate_moderate": "lactate 2-4 mmol/L", "crt_prolonged": "prolonged capillary refill",
    "liver": "liver involvement", "diameter_7mm": "diameter >= 7 mm", "growth": "growing / enlarging",
    "checklist_3plus": "weighted 7-point checklist score >= 3", "duration_4w": "present 4 weeks or more",
    "duration_short": "present under 4 weeks", "news_high": "NEWS2 score >= 7", "news_moderate": "NEWS2 score 5-6",
}


def _label(feature: str) -> str:
    return FEATURES[feature].label if feature in FEATURES else _MEASURED_LABELS[feature]


def _lower_literals(pattern: str) -> str:
    """Lower-case the literal letters of a pattern, leaving escapes such as \\W or \\S untouched."""
    out, i = [], 0
    while i < len(pattern):
        if pattern[i] == "\\":
            out.append(pattern[i:i + 2])
            i += 2
        else:
            out.append(pattern[i].lower())
            i += 1
    return "".join(out)


def _fold(text: str) -> str:
    """Lower-case text without moving any character, so that match offsets stay valid for the original."""
    folded = text.lower()
    if len(folded) == len(text):
        return folded
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)  # e.g. "İ" lower-cases to two characters


# Case-insensitive patterns are lower-cased and run on lower-cased text: about twice as fast as re.IGNORECASE.
def _compile(feature: Feature) -> tuple[re.Pattern | None, re.Pattern | None]:
    plain = re.compile("|".join(f"(?:{_lower_literals(p)})" for p in feature.patterns)) if feature.patterns else None
    acronyms = re.compile("|".join(f"(?:{p})" for p in feature.shout_unsafe)) if feature.shout_unsafe else None
    return plain, acronyms


_COMPILED: tuple[tuple[str, re.Pattern | None, re.Pattern | None], ...] = tuple(
    (f.name, *_compile(f)) for f in _FEATURE_LIST
)

# ----------------------------------------------------------------------------------------------
# Measurements: temperatures, vital signs, sizes, durations, checklist scores
# ----------------------------------------------------------------------------------------------

_NUM = r"(\d{1,3}(?:\.\d{1,2})?)"
_TEMP_PREFIXED = re.compile(
    r"(?:\b(?:temp(?:erature|rature|erture)?|fever(?:ish)?|febrile|pyrexi(?:a|al)|tmax)|(?-i:\bT))"
    r"\s*(?:of|is|was|at|to|now|up to|reached|=|:|~|-)?\s*(?:of\s*)?" + _NUM + r"(?:\s*(?:°|º|deg\w*))?(?:\s*(?-i:([CF])))?(?![\w.])",
    re.IGNORECASE)
_TEMP_UNIT = re.compile(r"(?<![\w.])" + _NUM + r"\s*(?:°\s*(?-i:([CF]))?|º\s*(?-i:([CF]))?|degrees?\s*(?:(?-i:([CF]))\b|celsius|centigrade|fahrenheit)?)",
                        re.IGNORECASE)
_TEMP_LETTER = re.compile(r"(?<![\w.])(\d{2,3}(?:\.\d)?)\s?(?-i:([CF]))\b")
_TEMP_BARE = re.compile(r"(?<![\w.\-/])((?:3[4-9]|4[0-2])\.\d)(?![\d.%/])"
                        r"(?!\s*(?:mm|cm|kg|g|mg|mcg|ml|l|%|x|weeks?|days?|years?|mmol|umol|µmol|ng|iu|units?|hours?)\b)",
                        re.IGNORECASE)
_BP = re.compile(r"\b(?:BP|B/P|blood pressure)\s*(?:of|is|was|=|:|now|down to|dropped to)?\s*(\d{2,3})\s*/\s*(\d{2,3})\b"
                 r"|\b(?:SBP|systolic(?:\s+BP)?)\s*(?:of|is|was|=|:|now|<|down to)?\s*(\d{2,3})\b"
                 r"|\b(\d{2,3})\s*/\s*\d{2,3}\s*mm\s?Hg\b", re.IGNORECASE)
_HR = re.compile(r"\b(?:HR|heart rate|pulse(?: rate)?)\s*(?:of|is|was|=|:|now)?\s*(\d{2,3})\b|\b(\d{2,3})\s*(?:bpm|beats per min\w*)",
                 re.IGNORECASE)
_RR = re.compile(r"\b(?:RR|resp(?:iratory)? rate|resps?)\s*(?:of|is|was|=|:)?\s*(\d{1,2})\b", re.IGNORECASE)
_SPO2 = re.compile(r"\b(?:sats?|SpO2|SaO2|O2 sats?|oxygen sat\w*)\s*(?:of|is|was|=|:|now)?\s*(\d{2,3})\s*%?", re.IGNORECASE)
_LACTATE = re.compile(r"\blactate\s*(?:of|is|was|=|:)?\s*(\d+(?:\.\d+)?)", re.IGNORECASE)
_CRT = re.compile(r"\b(?:CRT|cap(?:illary)? refill(?: time)?)\s*(?:of|is|was|=|:|>)?\s*(\d+(?:\.\d+)?)\s*(?:s|secs?|seconds)\b",
                  re.IGNORECASE)
_NEWS = re.compile(r"\bNEWS\s*2?\s*(?:score\s*)?(?:of|is|was|=|:)?\s*(\d{1,2})\b")
_TRANSAMINASE = re.compile(r"\b(?:ALT|AST)\s*(?:of|is|was|=|:)?\s*(\d{2,4})\b")
_SIZE = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*(mm|cm)\b", re.IGNORECASE)
_SIZE_CHANGE = re.compile(r"\bfrom\s+(?:about\s+|around\s+|approx\.?\s+)?(\d+(?:\.\d+)?)\s?(mm|cm)\s+to\s+(?:about\s+|around\s+)?(\d+(?:\.\d+)?)\s?(mm|cm)\b",
                          re.IGNORECASE)
_SIZE_NOW = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s?(mm|cm)\b[^.;\n]{0,60}?\b(?:now|today|currently)\b[^.;\n]{0,20}?(?<![\d.])(\d+(?:\.\d+)?)\s?(mm|cm)\b"
                       r"|(?<![\d.])(\d+(?:\.\d+)?)\s?(mm|cm)\b[^.;\n]{0,60}?(?<![\d.])(\d+(?:\.\d+)?)\s?(mm|cm)\s+(?:now|today)\b",
                       re.IGNORECASE)
_DURATION = re.compile(rf"\b({_NUM_WORD})\s*(?:-\s*)?(days?|weeks?|wks?|months?|mths?|years?|yrs?)\b(?![- ]?old)|\b(\d+)\s*/\s*(52|12)\b"
                       r"|\bsince\s+(?:the\s+)?(?:spring|summer|autumn|fall|winter|last year|january|february|march|april|may|june|july|august|september|october|november|december)\b",
                       re.IGNORECASE)
_CHECKLIST = re.compile(r"(?:7|seven)[- ]?(?:point|pt)\b[^\n]{0,200}?(?:\btotal(?:\s+score)?|\bscore[sd]?|\bscoring|=)\s*(?:of|is|was|:|=)?\s*(\d{1,2})\b"
                        r"|(?:7|seven)[- ]?(?:point|pt)\s*(?:weighted\s+)?(?:check\s?list|cl)?\s*(?:score)?\s*[:=]?\s*(\d{1,2})\b(?!\s*(?:items?|points? each|features|criteria|signs))"
                        r"|\bscor\w*\s+(\d{1,2})\s+(?:on|using)\s+(?:the\s+)?(?:weighted\s+)?(?:7|seven)[- ]?(?:point|pt)\b",
                        re.IGNORECASE)
_WORD_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                 "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "several": 3, "a few": 3, "few": 3, "a couple of": 2,
                 "couple of": 2}
_WEEKS_PER_UNIT = {"d": 1 / 7, "w": 1.0, "m": 4.35, "y": 52.0}


def _celsius(value: float, unit: str | None) -> float | None:
    if unit and unit.upper() == "F" or value > 50:
        value = (value - 32) * 5 / 9
    return value if 30.0 <= value <= 44.0 else None  # anything else is not a body temperature


def _measurements(text: str) -> list[tuple[str, int, int]]:
    """Read numeric findings; returns (feature, start, end) hits."""
    hits: list[tuple[str, int, int]] = []
    temp_spans: list[tuple[int, int]] = []
    for pattern in (_TEMP_PREFIXED, _TEMP_UNIT, _TEMP_LETTER, _TEMP_BARE):
        for m in pattern.finditer(text):
            if any(s <= m.start() < e for s, e in temp_spans):
                continue
            unit = next((g for g in m.groups()[1:] if g), None)
            celsius = _celsius(float(m.group(1)), unit)
            if celsius is None:
                continue
            temp_spans.append(m.span())
            # 37.8 °C: a common clinical fever cut-off, below NICE's 38 °C, so that borderline readings in
            # immunosuppressed patients are not missed; < 36 °C is a NICE NG51 moderate-risk sign.
            if celsius >= 37.8:
                hits.append(("fever", *m.span()))
            elif celsius < 36.0:
                hits.append(("hypothermia", *m.span()))
    for m in _BP.finditer(text):
        systolic = int(m.group(1) or m.group(3) or m.group(4))
        if systolic <= 90:
            hits.append(("hypotension", *m.span()))  # NICE NG51 high risk: systolic <= 90 mmHg
        elif systolic <= 100:
            hits.append(("sbp_moderate", *m.span()))  # NG51 moderate to high risk: 91-100 mmHg
    for m in _HR.finditer(text):
        rate = int(m.group(1) or m.group(2))
        if rate > 130:
            hits.append(("hr_high", *m.span()))  # NG51 high risk: more than 130 per minute
        elif rate > 90:
            hits.append(("tachycardia", *m.span()))  # NG51 moderate to high risk: 91-130
    for m in _RR.finditer(text):
        rate = int(m.group(1))
        if rate >= 25:
            hits.append(("rr_high", *m.span()))
        elif rate >= 21:
            hits.append(("tachypnoea", *m.span()))
    for m in _SPO2.finditer(text):
        if 50 <= int(m.group(1)) < 92:
            hits.append(("spo2_low", *m.span()))
    for m in _LACTATE.finditer(text):
        value = float(m.group(1))
        if value >= 4:
            hits.append(("lactate_high", *m.span()))
        elif value >= 2:
            hits.append(("lactate_moderate", *m.span()))
    for m in _CRT.finditer(text):
        if float(m.group(1)) >= 3:
            hits.append(("crt_prolonged", *m.span()))
    for m in _NEWS.finditer(text):
        score = int(m.group(1))
        if score >= 7:
            hits.append(("news_high", *m.span()))  # NEWS2 7 or more: emergency response threshold
        elif score >= 5:
            hits.append(("news_moderate", *m.span()))  # NEWS2 5-6: urgent response threshold
    for m in _TRANSAMINASE.finditer(text):
        if int(m.group(1)) >= 80:  # more than about twice the usual upper limit (~40 U/L)
            hits.append(("liver", *m.span()))
    for m in _SIZE.finditer(text):
        millimetres = float(m.group(1)) * (10 if m.group(2).lower() == "cm" else 1)
        if 7 <= millimetres <= 300:  # NICE 7-point checklist: largest diameter 7 mm or more
            hits.append(("diameter_7mm", *m.span()))
    for pattern in (_SIZE_CHANGE, _SIZE_NOW):
        for m in pattern.finditer(text):
            values = [g for g in m.groups() if g is not None]
            before = float(values[0]) * (10 if values[1].lower() == "cm" else 1)
            after = float(values[2]) * (10 if values[3].lower() == "cm" else 1)
            if after > before:
                hits.append(("growth", *m.span()))
    for m in _DURATION.finditer(text):
        if m.group(1):
            word = m.group(1).lower()
            count = float(word) if word[0].isdigit() else _WORD_NUMBERS.get(word, 1)
            weeks = count * _WEEKS_PER_UNIT[m.group(2)[0].lower()]
        elif m.group(3):
            weeks = int(m.group(3)) * (1.0 if m.group(4) == "52" else 4.35)
        else:
            weeks = 8.0  # "since the spring", "since last year": months at least
        if weeks >= 4:
            hits.append(("duration_4w", *m.span()))
        else:
            hits.append(("duration_short", *m.span()))
    for m in _CHECKLIST.finditer(text):
        if int(next(g for g in m.groups() if g)) >= 3:
            hits.append(("checklist_3plus", *m.span()))
    return hits


# ----------------------------------------------------------------------------------------------
# Context: sentences, clauses, negation, history, education
# ----------------------------------------------------------------------------------------------

_SENTENCE_BREAK = re.compile(r"(?<=[.!])\s+|(?<=\?)\s+(?=[A-Z\"'(])|\n+")
_NEGATION_BREAK = re.compile(
    r"[;:]|\s[-–—]+\s|\(|\)|\b(?:but|however|although|though|yet|except|apart from|aside from|whereas|while|now|since then|then|which)\b",
    re.IGNORECASE)
_HISTORY_BREAK = re.compile(  # "now" starts a new clause unless it reports that the problem has gone ("now settled")
    r";|\b(?:but|however|although|though|yet|whereas|now(?!\s+(?:fully\s+|completely\s+)?(?:settled|resolved|subsided|recovered))|since then|currently|presently|today|recently)\b", re.IGNORECASE)
_NEGATION_CUE = re.compile(
    r"\b(?:no|not|nil|without|denies|denied|deny|denying|never|none|neither|nor|free of|negative for|ruled out|stopped"
    r"|dont|doesnt|didnt|isnt|wasnt|hasnt|havent|wont|cant|cannot)\b|n't\b",
    re.IGNORECASE)
# Phrases that contain a negation word but do not negate what follows (hedges and ongoing problems).
_PSEUDO_NEGATION = re.compile(
    r"\bnot\s+(?:sure|certain|clear|only|improv\w*|settl\w*|getting better|better|responding to|helped|working)\b"
    r"|\b(?:can't|cannot|can not|couldn't|won't)\s+(?:rule out|exclude|stop|tell|say|be sure)\b|\bnot (?:been )?(?:excluded|ruled out)\b"
    r"|\bno (?:improvement|better|change in (?:treatment|plan))\b|\bnothing helps\b|\bfor no (?:\w+\s+)?reason\b"
    r"|\bno (?:idea|matter|doubt)\b",
    re.IGNORECASE)
_POST_NEGATION = re.compile(r"^\s*(?:(?:is\s+|was\s+|sign\s+)?(?:absent|negative|-ve|not present|denied|ruled out|excluded|nil)\b"
                            r"|[:\-]\s*(?:no|none|nil|neg)\b)",
                            re.IGNORECASE)
_NEGATION_WINDOW_WORDS = 6  # NegEx-style scope: a cue reaches at most this many words ahead
_HISTORY_MARKER = re.compile(
    r"\bin (?:19|20)\d\d\b|\b(?:\d+|a|one|two|three|four|five|six|seven|eight|nine|ten|several|many|some)\s+(?:years?|yrs?|decades?)\s+ago\b"
    r"|\bas an? (?:child|kid|baby|teenager|teen|toddler|student)\b|\bin (?:my|his|her|their) (?:childhood|teens|twenties|youth)\b"
    r"|\bwhen (?:i|he|she|they) (?:was|were) (?:young|little|a child|a baby|\d+)\b"
    r"|\b(?:now\s+)?(?:fully |completely )?(?:recovered|resolved)\b|\bfull recovery\b|\bfollow[- ]?ups?\s+(?:were\s+|have been\s+|all\s+)?clear\b"
    r"|\bclear since\b|\bdischarged\b|\bin remission\b|\bno recurrence\b"
    r"|\bleft\s+(?:\w+\s+)?(?:scarring|scars)\b|\btreated for\b|\bexcised\b|\bat (?:the )?age (?:of )?\d+\b"
    r"|\b(?:years|a while|long) (?:back|ago)\b|\bin the past\b|\bdied\b|\bpassed away\b",
    re.IGNORECASE)
# "Settled" and "subsided" look back: they end the problem named before them in the clause, not what follows.
_SETTLED_MARKER = re.compile(r"\b(?:now\s+|has\s+|have\s+|had\s+|all\s+)*(?:settled|subsided)\b", re.IGNORECASE)
# "History of", "previous", "PMH" qualify only the phrase that follows them (up to the next comma or "and").
_HISTORY_PREFIX = re.compile(
    r"\b(?:history of|hx(?: of)?|h/o|pmh\w*|previous(?:ly)?|prior|past (?:history|episode)s?(?: of)?)\b[^,;.\n]{0,60}",
    re.IGNORECASE)
# ... but "family history", "3-day history" or "short hx" describe the present illness, not the past.
_NOT_PAST_BEFORE_PREFIX = re.compile(
    r"(?:\bfamily|\d|\bshort|\bbrief|\brecent|\bhours?|\bhrs?|\bdays?|\bweeks?|\bwks?|\bmonths?|/12|/52|/7)[\s-]*$", re.IGNORECASE)
_PRESENT_CUE = re.compile(
    r"\b(?:new(?:ly)?|now|today|currently|current|recent(?:ly)?|presents?|presenting|developed|developing|noticed|found|"
    r"appeared|started|this (?:week|morning|month|evening)|since (?:yesterday|last night|this morning))\b", re.IGNORECASE)
# Diagnoses named in a history, risk, prevention or information phrase are not a current problem.
_NAME_NOT_CURRENT = re.compile(
    r"\b(?:known|history|hx|h/o|previous\w*|prior|past|risk\w*|prone|vaccin\w*|jabs?|immuni[sz]\w*|prevent\w*|protect\w*|"
    r"avoid\w*|epi-?pens?|adrenaline pens?|auto-?injectors?|leaflets?|information|awareness|allergies|allergic to|outbreak|"
    r"essay|article|talk|project|assignment|questions?|asking|wonder\w*|curious|read|reading|heard|protocol|guidelines?|poster|"
    r"friend|neighbou?r|colleague|cousin|someone|somebody|last (?:year|month|winter|summer|spring|autumn))\b", re.IGNORECASE)
# A diagnosis named on its own escalates only when framed as a current suspicion or problem.
_NAME_FRAME_BEFORE = re.compile(
    r"(?:\?|\b(?:query|suspect\w*|possible|possibly|probable|probably|likely|think|thinks|thought|could|might|may|maybe|"
    r"looks like|look like|signs of|developing|developed|has|have|got|with|diagnosed|treating|treated as|admitted|"
    r"r/o|rule out|exclude|dd?x|diagnos\w*|impression|c/w|consistent with|in keeping with|having|going into|into))\W*(?:\w+\W+){0,5}\w*$",
    re.IGNORECASE)
# ... or followed by "?", "suspected", or a dash or colon that opens the details, as in a note heading ("TEN - 30% BSA").
_NAME_FRAME_AFTER = re.compile(
    r"^\W{0,3}(?:\?|suspected|likely|query|possible)"
    r"|^\s*[-–—:]\s+(?!(?:what|how|why|when|which|signs|symptoms|overview|facts|guide|causes|treatment|management|info\w*|"
    r"definition|key points|summary|notes?|recognition|red flags)\b)", re.IGNORECASE)

# A sentence asks or requests teaching when it ends with "?", opens like a question or request, or names a
# teaching setting. "When I press..." or "Can't breathe" are statements, so bare "when" and contractions do not count.
_QUESTION_START = re.compile(
    r"^\W*(?:[\w ]{0,30}[:\-–]\s*)?(?:(?:what|why|how|which|explain|describe|define|list|outline|compare|contrast|"
    r"tell me|give me|quiz me|summari[sz]e|teach me)\b(?![’'])"
    r"|(?:is|are|can|could|does|do|should|would|will)\s+(?:the|a|an|it|there|you|i|we|this|that|these|those)\b)",
    re.IGNORECASE)
_EDUCATIONAL_CUE = re.compile(
    r"\b(?:teaching|revision|revise|exams|(?:my|an|the|upcoming|final|board|written|osce|mrcp)\s+exam(?!\w|\s+(?:shows?|showed|reveals?|revealed|finding))|"
    r"exam\s+(?:question|revision|prep\w*|practice)|osce|quiz|lecture|tutorial|for (?:my\s+)?students|textbook|in general|essay|article|"
    r"assignment|presentation|poster|blog|"
    r"is characteri[sz]ed by|is defined as|refers to|differential (?:diagnosis\s+)?(?:for|of))\b", re.IGNORECASE)
_PATIENT_ANCHOR = re.compile(
    r"\bmy\b(?!\s+(?:exams?|osces?|finals|boards|viva|students?|trainees?|teaching|notes|lecture|revision|class|talk|presentation|understanding|knowledge|questions?|course|module|essay|thesis|assignment|homework|studies|placement|rotation|colleagues?|tutor|supervisor|consultant)\b)"
    r"|\b(?:our|his|her|he|she|him|he's|she's)\b"
    r"|\bI(?:'ve|'m having|'m getting| have| had| got| noticed| found| feel| felt| woke| can't| cannot| started| keep| developed| am having)\b"
    r"|\bpts?\b|\b(?:the|this|our|ward|index)\s+(?:patient|child|baby|infant|man|woman|boy|girl|lady|gentleman)\b"
    r"|\bthis\s+(?:mole|lesion|rash|spot|lump|ulcer|sore|patch)\b"
    r"|\b\d{1,3}\s?(?:yo|y/o|yrs? old|years? old|-year-old|-month-old|-week-old|-day-old|months? old|weeks? old|days? old)\b"
    r"|(?-i:\b\d{1,3}\s?-?[MF]\b)|\b(?:aged|age)\s+\d{1,3}\b"
    r"|\b(?:son|daughter|baby|toddler|infant|neonate|newborn|husband|wife|partner|dad|mum|mom|father|mother|grandad|grandpa|grandma|granny|brother|sister|kid)\b"
    r"|\b(?:since (?:yesterday|this morning|last night|lunchtime)|today|tonight|this morning|right now|just now)\b"
    r"|(?-i:\b(?:T|BP|HR|SBP|RR)\s?\d)|\btemp\w*\s+(?:is\s+)?\d|\bo/e\b|\bon examination\b",
    re.IGNORECASE)


@dataclass(frozen=True)
class _Hit:
    feature: str
    start: int
    end: int
    sentence: int


def _boundaries(text: str, pattern: re.Pattern) -> list[int]:
    return [m.start() for m in pattern.finditer(text)]


class _Context:
    """Where sentences and clauses start and end in one text, and which sentences are educational."""

    def __init__(self, text: str):
        self.text = text
        breaks = [m.end() for m in _SENTENCE_BREAK.finditer(text)]
        self.sentence_starts = [0] + breaks
        sentence_ends = breaks + [len(text)]
        sentence_breaks = sorted(set(self.sentence_starts[1:]))
        self.negation_breaks = sorted(set(sentence_breaks + _boundaries(text, _NEGATION_BREAK)))
        self.history_breaks = sorted(set(sentence_breaks + _boundaries(text, _HISTORY_BREAK)))
        self.negation_cues = [m.span() for m in _NEGATION_CUE.finditer(text)]
        self.pseudo = [m.span() for m in _PSEUDO_NEGATION.finditer(text)]
        self.history_markers = [m.span() for m in _HISTORY_MARKER.finditer(text)]
        self.settled_markers = [m.span() for m in _SETTLED_MARKER.finditer(text)]
        self.history_phrases = [m.span() for m in _HISTORY_PREFIX.finditer(text)
                                if not _NOT_PAST_BEFORE_PREFIX.search(text[max(0, m.start() - 12):m.start()])]
        self.present_cues = [m.start() for m in _PRESENT_CUE.finditer(text)]
        self.educational = [self._is_educational(s, e) for s, e in zip(self.sentence_starts, sentence_ends)]

    def sentence_of(self, position: int) -> int:
        return bisect.bisect_right(self.sentence_starts, position) - 1

    def _is_educational(self, start: int, end: int) -> bool:
        sentence = self.text[start:end].strip()
        asks = sentence.endswith("?") or bool(_QUESTION_START.search(sentence)) or bool(_EDUCATIONAL_CUE.search(sentence))
        return asks and not _PATIENT_ANCHOR.search(sentence)

    @staticmethod
    def _clause(breaks: list[int], position: int, end_limit: int) -> tuple[int, int]:
        i = bisect.bisect_right(breaks, position)
        return (breaks[i - 1] if i else 0), (breaks[i] if i < len(breaks) else end_limit)

    def negated(self, start: int, end: int, covered: list[tuple[int, int]]) -> bool:
        clause_start, clause_end = self._clause(self.negation_breaks, start, len(self.text))
        for cue_start, cue_end in self.negation_cues:
            if cue_end > start or cue_start < clause_start:
                continue
            if any(s <= cue_start < e for s, e in self.pseudo) or any(
                    s <= cue_start < e and len(self.text[s:cue_start].split()) <= 2 for s, e in covered):
                continue  # the cue opens a finding ("hasn't healed", "no injury") or a hedge ("not sure")
            if len(self.text[cue_end:start].split()) <= _NEGATION_WINDOW_WORDS:
                return True
        return bool(_POST_NEGATION.match(self.text[end:min(clause_end, end + 40)]))

    def past(self, start: int, end: int) -> bool:
        if any(s < start < e for s, e in self.history_phrases):  # a marker opening the finding itself does not count
            return True
        clause_start, clause_end = self._clause(self.history_breaks, start, len(self.text))
        for marker_start, marker_end in self.history_markers:
            if not (clause_start <= marker_start < clause_end):
                continue
            lo, hi = (marker_end, start) if marker_end <= start else (end, marker_start)
            # "now resolved" after the finding reports the present state itself, whatever time words precede it
            now_resolved = marker_start >= end and self.text[marker_start:marker_end].lower().startswith("now")
            if now_resolved or not any(lo <= p < hi for p in self.present_cues):
                return True
        for marker_start, marker_end in self.settled_markers:
            if clause_start <= marker_start < clause_end and marker_start >= end and (
                    self.text[marker_start:marker_end].lower().startswith("now")
                    or not any(end <= p < marker_start for p in self.present_cues)):
                return True
        return False

    def name_not_current(self, start: int, end: int) -> bool:
        clause_start, clause_end = self._clause(self.history_breaks, start, len(self.text))
        if _NAME_NOT_CURRENT.search(self.text, clause_start, clause_end):
            return True
        # The frame may sit inside the match itself ("?SCC", "suspected melanoma").
        framed = _NAME_FRAME_BEFORE.search(self.text[clause_start:end]) or _NAME_FRAME_AFTER.match(self.text[end:clause_end])
        # A diagnosis standing alone as a note's heading or line ("HZO.", "NF -") is the working diagnosis.
        # A one-line message that is only the name is a topic to look up, not a note.
        heading = (not re.search(r"\w", self.text[clause_start:start]) and not re.search(r"\w", self.text[end:clause_end])
                   and bool(re.search(r"\w", self.text[:clause_start] + self.text[clause_end:])))
        return not (framed or heading)


def _shouting(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 12 and sum(c.isupper() for c in letters) / len(letters) > 0.7


def _raw_hits(text: str) -> list[tuple[str, int, int]]:
    shouting = _shouting(text)
    folded = _fold(text)
    hits: list[tuple[str, int, int]] = []
    for name, plain, acronyms in _COMPILED:
        if plain is not None:
            hits.extend((name, *m.span()) for m in plain.finditer(folded) if m.end() > m.start())
        if acronyms is not None and not shouting:
            hits.extend((name, *m.span()) for m in acronyms.finditer(text))
    hits.extend(_measurements(text))
    return hits


# ----------------------------------------------------------------------------------------------
# Rules: combinations of features that make a red flag
# ----------------------------------------------------------------------------------------------


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
          _need("necrosis", "rapid_spread", "rapid_enlargement")),
    _rule("rmsf", "fever and petechial or acral rash after a tick bite", _E, _need("tick"), _need("fever"),
          _need("purpura", "acral_rash")),
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
    _rule("infection_sepsis", "skin infection with a high-risk sepsis sign", _E, _need("soft_tissue_infection"), _need(*_HIGH_RISK)),
    _rule("infection_sepsis", "skin infection with two or more moderate-risk sepsis signs", _E, _need("soft_tissue_infection"),
          _need(*_MODERATE_RISK, at_least=2)),
    _rule("sepsis_shock", "rash, fever or skin injury with a high-risk sepsis sign", _E, _need(*_SKIN_CONTEXT), _need(*_HIGH_RISK)),
    _rule("sepsis_shock", "sepsis suspected", _E, _need("name_sepsis")),
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
    _rule("burns", "blistering burn in a young child or frail older person", _E, _need("burn"), _need("blisters"),
          _need("vulnerable_age")),
    _rule("orbital_cellulitis", "swollen eyelids with painful eye movement, double vision or reduced vision", _E,
          _need("periorbital_swelling"), _need("orbital_signs")),
    _rule("orbital_cellulitis", "orbital cellulitis suspected", _E, _need("name_orbital")),
    _rule("periorbital_cellulitis", "swollen eyelids with fever", _U, _need("periorbital_swelling"), _need("fever")),
    # urgent: zoster, immunosuppression, ulcers
    _rule("hzo", "shingles or blisters in the ophthalmic-nerve area", _U, _need("zoster_rash"), _need("v1_site"), scope="near"),
    _rule("hzo", "ophthalmic zoster suspected", _U, _need("name_hzo")),
    _rule("immunosuppressed_fever_rash", "fever and rash while immunosuppressed", _U, _need("immunosuppressed"), _need("fever"),
          _need(*_ANY_RASH)),
    _rule("pyoderma_gangrenosum", "ulcer with an undermined violaceous edge", _U, _need("ulcer_sore"), _need("undermined_edge")),
    _rule("pyoderma_gangrenosum", "rapidly enlarging ulcer", _U, _need("ulcer_sore"), _need("rapid_enlargement", "growth"),
          scope="near"),
    _rule("pyoderma_gangrenosum", "pyoderma gangrenosum suspected", _U, _need("name_pg")),
    # urgent: suspected skin cancer (NICE NG12 and the melanoma warning rules)
    _rule("skin_cancer", "changing lesion (size, shape, colour or elevation)", _U, _need("lesion"),
          _need("growth", "colour_change", "shape_change", "change_generic", "elevation_change"), scope="near", sources=(SEVEN_POINT,)),
    _rule("skin_cancer", "bleeding or oozing lesion", _U, _need("lesion"), _need("bleeding"), scope="near", sources=(SEVEN_POINT,)),
    _rule("skin_cancer", "lesion with two or more melanoma warning features (asymmetry, border, colours, >= 7 mm, new)", _U,
          _need("lesion"), _need("asymmetry", "irregular_border", "multicolour", "diameter_7mm", "new_lesion", at_least=2),
          scope="near", sources=(SEVEN_POINT,)),
    _rule("skin_cancer", "weighted 7-point checklist score of 3 or more", _U, _need("checklist_3plus"), sources=(SEVEN_POINT,)),
    _rule("skin_cancer", "dermoscopic features of melanoma", _U, _need("dermoscopy_melanoma"), sources=(DERMOSCOPY,)),
    _rule("skin_cancer", "ugly-duckling lesion", _U, _need("ugly_duckling"), sources=(UGLY_DUCKLING,)),
    _rule("skin_cancer", "elevated, firm and growing nodule", _U, _need("efg"), sources=(EFG,)),
    _rule("skin_cancer", "new or changing pigmented nail band", _U, _need("nail_band"), _need("nail_change"), scope="near",
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
)


def _windows(hits_by_sentence: dict[int, list[_Hit]], scope: str) -> Iterable[list[_Hit]]:
    if scope == "text":
        yield [h for hs in hits_by_sentence.values() for h in hs]
        return
    for i in sorted(hits_by_sentence):
        yield hits_by_sentence[i] + (hits_by_sentence.get(i + 1, []) if scope == "near" else [])


def _apply(rule: Rule, window: list[_Hit]) -> list[_Hit] | None:
    if rule.unless and any(h.feature in rule.unless for h in window):
        return None
    used: list[_Hit] = []
    for need in rule.needs:
        matched = [h for h in window if h.feature in need.features]
        if len({h.feature for h in matched}) < need.at_least:
            return None
        used.extend(matched)
    return used


def _merge_spans(hits: Iterable[_Hit]) -> tuple[tuple[int, int], ...]:
    merged: list[list[int]] = []
    for start, end in sorted((h.start, h.end) for h in hits):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((s, e) for s, e in merged)


# ----------------------------------------------------------------------------------------------
# Public API
# ----------------------------------------------------------------------------------------------


def assess(text: str) -> Assessment:
    """Triage one free-text message or note. Raises `TriageInputError` for empty or non-text input."""
    if not isinstance(text, str):
        raise TriageInputError(f"expected text, got {type(text).__name__}")
    if not text.strip():
        raise TriageInputError("the text is empty: nothing to triage")
    if len(text) > MAX_TEXT_CHARS:
        raise TriageInputError(f"the text has {len(text)} characters; the limit is {MAX_TEXT_CHARS}: split it into parts")

    context = _Context(text)
    raw = _raw_hits(text)
    covered = [(s, e) for _, s, e in raw]
    kept: list[_Hit] = []
    set_aside: list[SetAside] = []
    aside_spans: set[tuple[int, int]] = set()
    for feature, start, end in raw:
        kind = FEATURES[feature].kind if feature in FEATURES else "presenting"
        sentence = context.sentence_of(start)
        reason = None
        if context.educational[sentence]:
            reason = "educational question, no patient described"
        elif context.negated(start, end, covered):
            reason = "negated"
        elif kind == "presenting" and context.past(start, end):
            reason = "resolved or past history"
        elif kind == "name" and (context.past(start, end) or context.name_not_current(start, end)):
            reason = "named, but not as a current problem"
        if reason is None:
            kept.append(_Hit(feature, start, end, sentence))
        elif kind != "context" and (start, end) not in aside_spans:  # one entry per span, even if two features matched it
            aside_spans.add((start, end))
            set_aside.append(SetAside(_label(feature), (start, end), text[start:end], reason))

    hits_by_sentence: dict[int, list[_Hit]] = {}
    for hit in kept:
        hits_by_sentence.setdefault(hit.sentence, []).append(hit)

    findings: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    for rule in RULES:
        for window in _windows(hits_by_sentence, rule.scope):
            used = _apply(rule, window)
            if used is None:
                continue
            key = (rule.condition, rule.finding)
            if key not in seen:
                seen.add(key)
                spans = _merge_spans(used)
                condition = CONDITIONS[rule.condition]
                findings.append(Finding(
                    finding=rule.finding, condition=condition.name, level=rule.level, spans=spans,
                    evidence=tuple(text[s:e] for s, e in spans), condition_key=rule.condition,
                    detail="; ".join(sorted({_label(h.feature) for h in used})), sources=rule.sources))
            break
    return assessment_from_findings(findings, set_aside)


# A milder finding is dropped when the same condition, or the condition it can progress to, is present at a higher
# level: "erythroderma" beside "erythroderma with systemic upset", lip swelling beside airway compromise.
_PROGRESSES_TO = {"angioedema": "anaphylaxis", "periorbital_cellulitis": "orbital_cellulitis"}


def _superseded(finding: Finding, others: list[Finding]) -> bool:
    return any(level_rank(o.level) > level_rank(finding.level)
               and o.condition_key in (finding.condition_key, _PROGRESSES_TO.get(finding.condition_key))
               for o in others)


def assessment_from_findings(findings: Iterable[Finding], set_aside: Iterable[SetAside] = ()) -> Assessment:
    """Build an Assessment (level, advice, sources) from findings, most severe first."""
    findings = list(findings)
    ordered = sorted((f for f in findings if not _superseded(f, findings)), key=lambda f: -level_rank(f.level))
    level = ordered[0].level if ordered else "routine"
    advice = [LEVEL_ADVICE[level]]
    sources: list[str] = []
    for f in ordered:
        condition = CONDITIONS.get(f.condition_key)
        if condition is not None:
            if condition.advice not in advice:
                advice.append(condition.advice)
            sources.extend(s for s in condition.sources if s not in sources)
        sources.extend(s for s in f.sources if s not in sources)
    return Assessment(level, tuple(ordered), tuple(advice), tuple(sources), tuple(set_aside))


def combine(*parts: Assessment | Finding | None) -> Assessment:
    """Merge assessments and stand-alone findings (checklist, classifier); the level is the highest. None is skipped."""
    findings: list[Finding] = []
    set_aside: list[SetAside] = []
    for part in parts:
        if isinstance(part, Assessment):
            findings.extend(part.findings)
            set_aside.extend(part.set_aside)
        elif isinstance(part, Finding):
            findings.append(part)
        elif part is not None:
            raise TypeError(f"combine() takes Assessment, Finding or None, not {type(part).__name__}")
    return assessment_from_findings(findings, set_aside)


def classifier_finding(probabilities: Mapping[str, float], thresholds: Mapping[str, float],
                       sensitivities: Mapping[str, float] | None = None) -> Finding | None:
    """Urgent finding when a malignant class (mel, bcc, akiec) reaches its escalation threshold, else None.

    `thresholds` are the per-class escalation thresholds from the model checkpoint; `sensitivities` the
    validation sensitivity measured at each threshold. The finding names the class with the largest
    probability among those at or above threshold; `detail` lists every class that crossed.
    """
    unknown = sorted(set(probabilities) - set(CLASS_NAMES))
    if unknown:
        raise ValueError(f"unknown class(es) in probabilities: {', '.join(unknown)}")
    not_malignant = sorted(set(thresholds) - MALIGNANT)
    if not_malignant:
        raise ValueError(f"thresholds are only for the malignant classes {sorted(MALIGNANT)}; got {', '.join(not_malignant)}")
    for name, value in [*probabilities.items(), *thresholds.items()]:
        if not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
            raise ValueError(f"{name}: {value!r} is not a probability between 0 and 1")
    sensitivities = sensitivities or {}
    crossed = sorted((c for c, t in thresholds.items() if float(probabilities.get(c, 0.0)) >= float(t)),
                     key=lambda c: -float(probabilities[c]))
    if not crossed:
        return None

    def describe(c: str) -> str:
        sens = sensitivities.get(c)
        sens_text = f", validation sensitivity {float(sens):.2f} at this threshold" if sens is not None else ", validation sensitivity not provided"
        return f"{c} ({CLASS_NAMES[c]}) probability {float(probabilities[c]):.2f} >= threshold {float(thresholds[c]):.2f}{sens_text}"

    top = crossed[0]
    return Finding(
        finding=f"classifier: {CLASS_NAMES[top]} probability at or above its escalation threshold",
        condition=CONDITIONS["skin_cancer"].name, level="urgent", condition_key="skin_cancer",
        detail="; ".join(describe(c) for c in crossed))
