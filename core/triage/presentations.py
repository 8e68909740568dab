"""The presentation bank: how each emergency and urgent condition looks when someone describes it.

Written for DermaDesk from the guidelines each condition cites (`core.triage.conditions`), in our own
words: several short descriptions per condition, clinical and lay, each built from the features the
guideline names (course, mechanism, examination, observations) rather than the condition's name, so
that a text describing the presentation in other words can still be recognised by meaning.
The semantic layer (`core.triage.semantic`) compares every sentence of a text with these descriptions.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Presentation:
    condition: str  # key in core.triage.conditions.CONDITIONS
    level: str  # "emergency" or "urgent"
    descriptions: tuple[str, ...]


_E, _U = "emergency", "urgent"

PRESENTATIONS: tuple[Presentation, ...] = (
    # --- emergencies ---------------------------------------------------------------------------
    Presentation("sjs_ten", _E, (
        "blistering rash with skin peeling off in sheets after starting a new medicine",
        "painful red or purple skin with blisters, sore mouth ulcers and stinging red eyes after a new drug",
        "lips crusted and bleeding, eyes sore and sticky, blisters on the skin a week or two after a new tablet",
        "skin coming away when touched, raw areas underneath, ulcers in the mouth and on the genitals",
        "widespread dusky target lesions with mucosal erosions in more than one site",
        "epidermal detachment with mucositis after lamotrigine, carbamazepine, allopurinol or an antibiotic",
    )),
    Presentation("dress", _E, (
        "widespread rash with fever, swollen face and swollen lymph glands weeks after starting a new drug",
        "morbilliform eruption with facial oedema, eosinophilia and abnormal liver tests two to eight weeks into a new medicine",
        "rash all over with high temperature, puffy face and lumps in the neck after months on a seizure or gout medicine",
        "drug rash with fever, lymphadenopathy and raised liver enzymes or kidney injury",
    )),
    Presentation("necrotising_fasciitis", _E, (
        "pain far worse than the redness looks, spreading fast, with dusky purple skin and blisters",
        "skin turning grey, purple or black around a wound with severe pain and feeling very unwell",
        "rapidly spreading painful swelling after a minor cut or bite, with blisters and numbness over the area",
        "crackling under the skin, foul smelling discharge and skin that is dying around an infection",
        "very painful swollen genitals or perineum with fever and skin going dark",
        "pain out of proportion to clinical signs with tense oedema, bullae and systemic toxicity",
    )),
    Presentation("infection_sepsis", _E, (
        "red hot swollen leg with fever, a very fast heart rate and low blood pressure",
        "infected wound or cellulitis and now confused, breathing fast and not passing urine",
        "skin infection with mottled or blue-grey skin, cold hands and feet and feeling like dying",
        "spreading cellulitis with rigors, new confusion and a systolic blood pressure under 90",
        "infected pressure sore or ulcer and the person is now drowsy, clammy and has not passed urine all day",
    )),
    Presentation("meningococcal", _E, (
        "fever with spots or a purple rash that does not fade when a glass is pressed on it",
        "feverish, drowsy child with tiny red or purple pinprick spots that do not blanch",
        "high temperature, headache, stiff neck and a rash that stays when you press it",
        "unwell with fever, cold hands and feet, leg pains and a new rash of small bruise-like spots",
    )),
    Presentation("purpura_fulminans", _E, (
        "purple or black patches spreading quickly over the skin in someone who is very unwell",
        "rapidly enlarging areas of skin haemorrhage and necrosis with fever and shock",
    )),
    Presentation("anaphylaxis", _E, (
        "swelling of the tongue or throat with difficulty breathing or swallowing",
        "after a sting, food or new medicine: hives, wheeze, noisy breathing and feeling faint",
        "lips and tongue swelling so much the person cannot speak properly and the breathing is noisy",
        "allergic reaction with a hoarse voice, tight throat and dizziness or collapse",
        "during or after an operation, injection or scan: sudden flushing, swelling, wheeze and low blood pressure",
        "recurrent face and neck swelling without hives that now affects the voice or swallowing",
    )),
    Presentation("collapse", _E, (
        "collapsed and cannot be woken, not breathing normally",
        "fainted and is now very drowsy and not responding properly",
    )),
    Presentation("eczema_herpeticum", _E, (
        "child with eczema who suddenly has clusters of painful punched-out blisters or sores and is feverish and unwell",
        "eczema flare that has turned into crusted weeping spots spreading fast, with fever",
        "monomorphic punched-out erosions spreading over atopic skin with fever",
    )),
    Presentation("skin_failure", _E, (
        "baby or child with fever whose skin looks scalded, red and tender, and peels off when touched",
        "widespread red painful skin that wrinkles and comes away with light pressure",
    )),
    Presentation("erythroderma", _E, (
        "red inflamed skin over almost the whole body with shivering and feeling very unwell",
        "whole-body redness and scaling with fever or low temperature, swelling of the legs and a fast pulse",
    )),
    Presentation("toxic_shock", _E, (
        "sudden high fever, sunburn-like rash, vomiting and dizziness while using a tampon",
        "after surgery, a burn or a wound: high temperature, widespread red rash, low blood pressure and confusion",
        "diffuse macular erythroderma with fever, hypotension and multi-organ involvement",
    )),
    Presentation("burns", _E, (
        "large or deep burn, or a burn to the face, hands, feet, genitals or all the way round a limb",
        "burn from electricity, chemicals or fire with soot around the mouth or a hoarse voice",
        "high voltage electrical injury with entry and exit wounds",
        "child with a scald covering a large part of the body",
    )),
    Presentation("orbital_cellulitis", _E, (
        "swollen red eyelid with pain moving the eye, double vision or blurred vision",
        "eye pushed forward and bulging with a swollen shut eyelid and fever",
        "eyelid swelling after a cold or sinus infection and the eye will not move properly",
        "proptosis, ophthalmoplegia and reduced visual acuity with periorbital swelling",
    )),
    Presentation("deep_neck_infection", _E, (
        "swelling under the jaw or in the neck with drooling and difficulty swallowing or opening the mouth",
        "tooth abscess with the swelling spreading into the neck, fever and trouble swallowing",
        "sore throat then one-sided neck swelling, muffled voice and cannot open the mouth properly",
        "firm swelling of the floor of the mouth pushing the tongue up, with difficulty breathing",
        "facial swelling from a bad tooth spreading up to close the eye, with fever and rigors",
    )),
    Presentation("limb_ischaemia", _E, (
        "leg or arm suddenly cold, pale or white and very painful with no pulse",
        "sudden onset of a cold, mottled, numb foot with severe pain",
        "hand went cold, white and painful and cannot feel a pulse at the wrist",
        "acutely painful pale pulseless limb with reduced sensation",
    )),
    Presentation("compartment_syndrome", _E, (
        "tight swollen limb after an injury or in a plaster cast with pain far beyond what is expected",
        "pain not helped by strong painkillers, worse when the fingers or toes are moved, with pins and needles",
        "calf or forearm rock hard and shiny after a crush injury with increasing pain and numbness",
    )),
    Presentation("kawasaki", _E, (
        "child with fever for five days or more with red eyes, red cracked lips and a strawberry tongue",
        "young child with persistent fever, rash, swollen red hands and feet and a lump in the neck",
        "prolonged fever with conjunctival injection, oral mucosal changes, extremity oedema and cervical lymphadenopathy",
    )),
    Presentation("febrile_child", _E, (
        "feverish baby who is floppy, hard to wake and has a weak high-pitched cry",
        "child with fever who is grunting, breathing very fast and looks pale or mottled",
        "toddler with fever and a rash who will not wake properly, has no wet nappies and dry mouth",
        "infant with a high temperature, a bulging soft spot on the head and repeated vomiting",
        "feverish child who is not responding to people, not interested in anything and looks ill",
    )),
    Presentation("travel_fever", _E, (
        "fever with a rash and bleeding gums after coming back from a trip abroad",
        "returned from Africa or Asia with high fevers, shaking chills and yellow eyes",
        "fever after travel with severe tummy pain, vomiting, bleeding and tiny red spots on the skin",
        "returning traveller with fever, muscle pain and bruising or bleeding from puncture sites",
        "tick bite or travel to a rural area followed by fever, headache and spots on the palms and soles",
    )),
    Presentation("invasive_gas", _E, (
        "after chickenpox the child has a new high fever and a red, very painful spreading area of skin",
        "after flu, a red painful swelling getting bigger by the hour with fast breathing and looking pale",
        "chickenpox spots that became red, hot, swollen and very painful while the child gets more unwell",
    )),
    # --- urgent ------------------------------------------------------------------------------------
    Presentation("skin_cancer", _U, (
        "a mole that has got bigger, changed shape or changed colour over the last few months",
        "a brown mark that was small in old photographs and is now clearly larger and darker",
        "a mole that bleeds or weeps without being injured",
        "a new dark stripe in a nail that is getting wider, or a dark mark growing under a nail",
        "a firm raised lump that has kept growing over a few weeks or months",
        "a sore or scab that has not healed after four weeks or more",
        "a mole that looks different from all the others",
        "a new mole in someone who has had a melanoma before",
        "a new pigmented patch on the sole, palm, genitals or inside the mouth that is getting bigger",
        "a fast-growing lump in someone who takes anti-rejection medicine after a transplant",
        "lesion measured larger on repeat dermoscopy with new irregular pigmentation",
        "dermoscopy showing an atypical network, blue-white veil, irregular streaks or regression",
        # purple tumours grow over months, not hours: Kaposi sarcoma, angiosarcoma, dermatofibrosarcoma
        "violet or purple-red skin patches that have slowly spread over months and are turning into raised purple lumps",
        "a bruise-like purple patch on the scalp or face of an older person, with no injury, spreading over weeks and bleeding",
        "a firm reddish or purple plaque slowly enlarging over months or years with hard bumps rising out of it",
    )),
    Presentation("hzo", _U, (
        "shingles blisters on the forehead and on the tip or side of the nose",
        "painful blistering rash on one side of the forehead near the eye",
    )),
    Presentation("immunosuppressed_fever_rash", _U, (
        "fever and a new rash in someone taking chemotherapy, steroids or immune-suppressing medicine",
        "rash with a temperature in a transplant patient or a person with a weak immune system",
    )),
    Presentation("pyoderma_gangrenosum", _U, (
        "painful ulcer with a purple undermined edge that is getting bigger quickly",
        "a pustule that turned into a rapidly enlarging very painful ulcer",
    )),
    Presentation("cellulitis_not_improving", _U, (
        "cellulitis still spreading after two or three days of antibiotic tablets but otherwise well",
        "redness has gone past the line drawn by the doctor despite taking antibiotics, no fever",
    )),
    Presentation("iga_vasculitis", _U, (
        "child with a raised purple spotty rash on the legs and bottom, tummy pain and blood in the urine",
        "palpable purpura on the legs with joint pain and cola-coloured urine",
    )),
)


# Routine look-alikes: the same topics when nothing is wrong now (stable, improving, mild, negated, past, or
# about someone else). A sentence escalates by meaning only when it is clearly nearer a presentation above
# than any of these (`core.triage.semantic.MARGIN`).
ROUTINE_LOOKALIKES: tuple[str, ...] = (
    "a mole that has stayed exactly the same size, shape and colour for years",
    "photographs show the mole unchanged since it was first seen",
    "a mole checked by a dermatologist and found to be benign",
    "dermoscopy shows a regular symmetric pattern typical of a benign naevus",
    "a relative or friend had melanoma or another skin cancer in the past and is well now",
    "melanoma removed years ago with all follow-up checks clear",
    "several stuck-on warty brown seborrhoeic keratoses that appeared slowly over years",
    "mild itchy dry eczema flare on the elbows or wrists, otherwise well",
    "eczema that is dry and itchy but not weeping, crusted or blistered, with no fever",
    "insect bite with some local swelling that is already improving",
    "chickenpox spots crusting over in a child who is eating, drinking and playing normally",
    "a cold sore on the lip again in the usual spot, it tingled first, otherwise well",
    "a child with a mild cold and a slight temperature who is alert, feeding and playing",
    "rash that fades completely when a glass is pressed on it in a well child",
    "nappy rash in a baby who is feeding well and has wet nappies",
    "a viral rash in a child who was checked in hospital and sent home well",
    "sunburn that is red and sore but not blistered, feeling well",
    "cellulitis improving on antibiotics with normal temperature and observations",
    "a tick was removed and there is no fever, rash or illness",
    "an allergic reaction in the past that has fully settled",
    "someone else had a serious infection last year and recovered",
    "a general question about what warning signs of a serious rash or illness look like",
    "a question for a school or university project about skin conditions",
    "vitiligo: white patches slowly spreading over months, otherwise well",
    "acne, warts, skin tags or dandruff",
    "a routine follow-up visit with no new problems",
    "the checklist score was below three points",
    "a red leg or arm that is settling on antibiotics: temperature normal, walking about and eating",
    "a child who had a temperature yesterday and today is laughing, drinking and has wet nappies",
    "a rash that was checked and found to be harmless, and the person feels well",
    "darker flat patches left where eczema or another rash has healed",
    # tiny red dots on the face from the pressure of vomiting or coughing: petechiae with a clear cause, in a well person
    "tiny red dots only on the face and around the eyes after hard vomiting or coughing, no fever, feeling well",
    # roseola: the rash comes as the fever goes, and blanches
    "a pink blotchy rash that came out as the high temperature went, fades when pressed, the baby is well and playing",
    "stung by a bee or wasp with swelling only where the sting was, breathing normally, no hives, going down",
    # thin skin of older age or long-term steroids bruises purple after minor knocks (actinic or steroid purpura)
    "an older person's thin skin on the forearms bruises purple after small knocks, fading over weeks, otherwise well",
    # blood under a nail after an injury grows out with the nail; a melanoma stays at the nail's base
    "a black toenail after it was crushed or stubbed, the dark part moving up as the nail grows, clear pink behind it",
)
