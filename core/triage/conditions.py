"""Conditions the filter can escalate: what to do now, and the guidelines that advice comes from."""
from __future__ import annotations

from dataclasses import dataclass

CG151 = "National Institute for Health and Care Excellence. Neutropenic sepsis: prevention and management in people with cancer (CG151). 2012."
WMS_FROSTBITE = ("McIntosh SE, Freer L, Grissom CK, et al. Wilderness Medical Society clinical practice guidelines for the "
                 "prevention and treatment of frostbite: 2019 update. Wilderness Environ Med. 2019;30(4S):S19-S32.")
NHS_SNAKE_BITES = "NHS. Snake bites. nhs.uk/conditions/snake-bites."
KIMBERLIN_NEONATAL_HSV = "Kimberlin DW. Neonatal herpes simplex infection. Clin Microbiol Rev. 2004;17(1):1-13."
NHS_BLEEDING = "NHS. Cuts and grazes: when to go to A&E. nhs.uk/conditions/cuts-and-grazes."
OWEN_SEBACEOUS = ("Owen JL, Kibbi N, Worley B, et al. Sebaceous carcinoma: evidence-based clinical practice guidelines. "
                  "Lancet Oncol. 2019;20(12):e699-714.")
KIBBI_EMPD = ("Kibbi N, Owen JL, Worley B, et al. Evidence-based clinical practice guidelines for extramammary Paget "
              "disease. JAMA Oncol. 2022;8(4):618-28.")
LEBBE_KAPOSI = ("Lebbe C, Garbe C, Stratigos AJ, et al. Diagnosis and treatment of Kaposi's sarcoma: European "
                "consensus-based interdisciplinary guideline (EDF/EADO/EORTC). Eur J Cancer. 2019;114:117-27.")
WMS_LIGHTNING = ("Davis C, Engeln A, Johnson EL, et al. Wilderness Medical Society practice guidelines for the prevention "
                 "and treatment of lightning injuries: 2014 update. Wilderness Environ Med. 2014;25(4 Suppl):S86-95.")
NHS_HEATSTROKE = "NHS. Heat exhaustion and heatstroke. nhs.uk/conditions/heat-exhaustion-heatstroke."
NIGWEKAR_CALCIPHYLAXIS = ("Nigwekar SU, Thadhani R, Brandenburg VM. Calciphylaxis. N Engl J Med. "
                          "2018;378(18):1704-14.")
NG184 = ("National Institute for Health and Care Excellence. Human and animal bites: antimicrobial prescribing (NG184). "
         "2020.")
PANG_FLEXOR_TENOSYNOVITIS = ("Pang HN, Teoh LC, Yam AKT, et al. Factors affecting the prognosis of pyogenic flexor "
                             "tenosynovitis. J Bone Joint Surg Am. 2007;89(8):1742-8.")
CHAE_FLAP_MONITORING = ("Chae MP, Rozen WM, Whitaker IS, et al. Current evidence for postoperative monitoring of "
                        "microvascular free flaps: a systematic review. Ann Plast Surg. 2015;74(5):621-32.")
RCOG_CHICKENPOX = ("Royal College of Obstetricians and Gynaecologists. Chickenpox in Pregnancy (Green-top Guideline No. "
                   "13). 2015.")
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
CKS_DENTAL_ABSCESS = "National Institute for Health and Care Excellence. Clinical Knowledge Summaries: Dental abscess. cks.nice.org.uk."
ESVS_ALI = ("Björck M, Earnshaw JJ, Acosta S, et al. European Society for Vascular Surgery (ESVS) 2020 clinical practice "
            "guidelines on the management of acute limb ischaemia. Eur J Vasc Endovasc Surg. 2020;59(2):173-218.")
BOAST_COMPARTMENT = ("British Orthopaedic Association. BOAST: diagnosis and management of compartment syndrome of the "
                     "limbs. 2016.")
AHA_KAWASAKI = ("McCrindle BW, Rowley AH, Newburger JW, et al. Diagnosis, treatment, and long-term management of Kawasaki "
                "disease: a scientific statement for health professionals from the American Heart Association. "
                "Circulation. 2017;135(17):e927-99.")
BIA_TRAVEL_FEVER = ("Johnston V, Stockley JM, Dockrell D, et al. Fever in returned travellers presenting in the United "
                    "Kingdom: recommendations for investigation and initial management. J Infect. 2009;59(1):1-18.")
WHO_DENGUE = "World Health Organization. Dengue: guidelines for diagnosis, treatment, prevention and control. Geneva: WHO; 2009."
UKHSA_IGAS = ("UK Health Security Agency. UK guidelines for the management of contacts of invasive group A streptococcus "
              "(iGAS) infection in community settings. 2023.")
SHARE_IGAV = ("Ozen S, Marks SD, Brogan P, et al. European consensus-based recommendations for diagnosis and treatment of "
              "immunoglobulin A vasculitis - the SHARE initiative. Rheumatology (Oxford). 2019;58(9):1607-16.")
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
    Condition("neutropenic_sepsis", "Suspected neutropenic sepsis (fever during chemotherapy or with neutropenia)",
              "Emergency care now: a temperature of 38 °C or more, or any sign of infection, in someone having "
              "chemotherapy or known to be neutropenic needs antibiotics within an hour of arrival; call the "
              "oncology or haematology hotline if one was given.", (CG151, NG51)),
    Condition("frostbite", "Deep frostbite",
              "Emergency care now: rewarm only when refreezing cannot happen; do not rub the skin; blisters, numbness "
              "or dark skin after cold exposure mean deep injury that needs hospital assessment.", (WMS_FROSTBITE,)),
    Condition("lightning", "Lightning strike",
              "Call the emergency number now: everyone struck by lightning needs hospital assessment, even if they "
              "seem well, because heart rhythm problems, deep burns and nerve injury can follow; the person carries no "
              "charge and is safe to touch; start CPR if they are not breathing.", (WMS_LIGHTNING,)),
    Condition("heatstroke", "Heatstroke",
              "Call the emergency number now: someone hot after heat or exertion who is confused, has a fit, collapses "
              "or has stopped sweating while still feeling too hot has heatstroke; move them somewhere cool, cool "
              "the skin with water and fanning, and give sips of water if they are alert.", (NHS_HEATSTROKE,)),
    Condition("calciphylaxis", "Suspected calciphylaxis (calcific uraemic arteriolopathy)",
              "Same-day emergency assessment: very painful mottled, purple or dark patches or ulcers in someone on "
              "dialysis or with advanced kidney disease can be calciphylaxis, in which small vessels calcify and the "
              "skin dies, and infection of the wounds is a leading cause of death. Contact the renal team today; do "
              "not debride or biopsy in primary care.", (NIGWEKAR_CALCIPHYLAXIS,)),
    Condition("bite_infection", "Infected bite or flexor sheath infection of the hand",
              "Same-day emergency assessment (A&E): an animal or human bite with fever, red streaks up the limb or fast-"
              "spreading redness, or a finger that is swollen along its length, held bent and very painful to "
              "straighten, needs intravenous antibiotics and a hand surgeon's review today; raise the hand and do not "
              "wait for the next GP appointment.", (NG184, PANG_FLEXOR_TENOSYNOVITIS)),
    Condition("flap_compromise", "Failing reconstructive flap after surgery",
              "Call the surgical team now: a flap that turns purple, blue, pale or cold, bleeds dark blood quickly on a "
              "pinprick or loses its doppler signal is losing its blood supply, and it can be saved only by a return to "
              "theatre within hours.", (CHAE_FLAP_MONITORING,)),
    Condition("varicella_complication", "Chickenpox with breathing difficulty or in a high-risk person",
              "Emergency care now: chickenpox with a cough, breathlessness or chest pain can be chickenpox pneumonia, "
              "which is most dangerous in pregnancy, in adults and in people with a weak immune system; shingles "
              "spreading all over the body in someone on immunosuppression is disseminated infection. Both need "
              "hospital assessment and intravenous antiviral treatment today.", (RCOG_CHICKENPOX, CKS_SHINGLES)),
    Condition("haemorrhage", "Bleeding that will not stop",
              "Emergency care now: keep firm pressure on the wound with a clean pad and raise it; bleeding that does "
              "not stop with 10 minutes of firm pressure, or in someone on a blood thinner, needs A&E.", (NHS_BLEEDING,)),
    Condition("skin_cancer", "Suspected skin cancer (melanoma or squamous cell carcinoma)",
              "Refer on the suspected-cancer pathway (NICE NG12); photograph and measure the lesion, do not remove "
              "it in primary care, and tell the patient why the referral is urgent.", (NG12,)),
    Condition("pustular", "Generalised pustular eruption with fever (pustular psoriasis or AGEP)",
              "Widespread pustules with fever can cause fluid, temperature and electrolyte failure: same-day emergency "
              "assessment; stop a recently started drug; do not start or stop systemic steroids without specialist "
              "advice.", (GPP_CONSENSUS, AGEP_REVIEW)),
    Condition("envenomation", "Snake bite",
              "Emergency care now (999 or A&E): every snake bite needs hospital assessment, even when it looks minor; "
              "keep the bitten limb still and below the heart, remove rings and watches, do not cut or suck the wound "
              "or apply a tourniquet.", (NHS_SNAKE_BITES,)),
    Condition("neonatal_hsv", "Blisters in a young baby (possible neonatal herpes)",
              "Emergency care now: blisters or vesicles in a baby in the first weeks of life can be herpes simplex "
              "infection, which can spread to the brain and organs before the baby looks very ill; same-hour "
              "assessment for antiviral treatment.", (KIMBERLIN_NEONATAL_HSV,)),
    Condition("infant_fever", "Fever in a baby under 3 months",
              "Any baby under 3 months with a temperature of 38 °C or more is at high risk of serious illness: "
              "same-day emergency assessment.", (NG143,)),
    Condition("deep_neck_infection", "Suspected deep neck or floor-of-mouth infection (e.g. Ludwig's angina, spreading dental abscess)",
              "Emergency care now: swelling under the jaw or in the neck with drooling, trouble swallowing or opening the "
              "mouth, or a changed voice can close the airway. Keep the person upright; do not examine the throat.",
              (CKS_DENTAL_ABSCESS,)),
    Condition("limb_ischaemia", "Suspected acute limb ischaemia",
              "Emergency vascular assessment now: a suddenly cold, pale or mottled, painful limb without pulses loses "
              "muscle and nerve within hours.", (ESVS_ALI,)),
    Condition("compartment_syndrome", "Suspected compartment syndrome",
              "Emergency orthopaedic assessment now: split or remove a tight cast or dressing to skin, keep the limb at "
              "heart level, and do not wait for numbness or loss of pulses.", (BOAST_COMPARTMENT,)),
    Condition("kawasaki", "Suspected Kawasaki disease",
              "Same-day emergency paediatric assessment: fever for 5 days or more with red eyes, red cracked lips, "
              "rash, swollen hands or feet or a neck node needs treatment within days to protect the coronary arteries.",
              (AHA_KAWASAKI,)),
    Condition("febrile_child", "Feverish child with a high-risk (red) feature",
              "Emergency assessment now: a child with fever who is hard to wake, floppy, pale or mottled, grunting or "
              "breathing very fast, or has a non-blanching rash is at high risk of serious illness.", (NG143, NG51)),
    Condition("travel_fever", "Fever (with rash or bleeding) in a returning traveller",
              "Emergency assessment now, telling the hospital about the travel first: malaria, dengue with warning "
              "signs, rickettsial infection and viral haemorrhagic fevers need same-day tests and isolation advice.",
              (BIA_TRAVEL_FEVER, WHO_DENGUE)),
    Condition("invasive_gas", "Suspected invasive group A streptococcal infection",
              "Emergency care now: after chickenpox or flu, a child or adult who becomes very unwell with a spreading, "
              "very painful red area, a new rash or fast breathing may have invasive streptococcal infection.",
              (UKHSA_IGAS, NG51)),
    Condition("cellulitis_not_improving", "Cellulitis spreading or not improving on oral antibiotics (no sepsis signs)",
              "Same-day clinical review: NICE NG141 advises reassessment when cellulitis spreads or has not improved "
              "after 2 to 3 days of antibiotics; emergency care at any sign of sepsis.", (NG141,)),
    Condition("iga_vasculitis", "IgA vasculitis (Henoch-Schonlein purpura) with abdominal or kidney involvement",
              "Same-day assessment: check blood pressure and urine; severe abdominal pain, blood or protein in the urine "
              "or high blood pressure need urgent specialist care.", (SHARE_IGAV,)),
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


