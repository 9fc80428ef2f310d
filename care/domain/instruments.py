"""The standard questionnaires as data: PHQ-9, GAD-7 and PCL-5.

Texts, answer options and LOINC codes are typed from the published instruments and LOINC
(docs/clinical.md §1 names the sources); a test compares them with an independent
fixture. Pure Python: no Django models.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class AnswerOption:
    value: int
    label: str
    loinc: str | None = None


@dataclass(frozen=True)
class Item:
    number: int
    text: str
    loinc: str | None = None
    cluster: str | None = None


@dataclass(frozen=True)
class Band:
    low: int
    high: int
    code: str
    label: str
    # Plain words for the patient's result page.
    description: str


@dataclass(frozen=True)
class Instrument:
    code: str
    name: str
    title: str
    instructions: str
    stem: str
    recall: str
    items: tuple[Item, ...]
    options: tuple[AnswerOption, ...]
    panel_loinc: str
    total_loinc: str
    bands: tuple[Band, ...]
    attribution: str
    # Points of change that matter clinically (DESIGN section 4).
    important_change: int
    # An unscored follow-up question (PHQ-9 / GAD-7 "how difficult").
    difficulty: Item | None = None
    difficulty_options: tuple[AnswerOption, ...] = ()
    # Item numbers whose answer >= 1 means thoughts of death or self-harm.
    self_harm_items: tuple[int, ...] = field(default=())

    @property
    def max_total(self) -> int:
        return len(self.items) * max(option.value for option in self.options)

    def item(self, number: int) -> Item:
        return self.items[number - 1]

    def option_label(self, value: int) -> str:
        return next(o.label for o in self.options if o.value == value)


LOINC_NOTICE = (
    "This content from LOINC® is copyright © 1995 Regenstrief Institute, Inc. and the LOINC "
    "Committee, and available at no cost under the license at https://loinc.org/license/"
)

PHQ_ATTRIBUTION = (
    "Developed by Drs. Robert L. Spitzer, Janet B.W. Williams, Kurt Kroenke and colleagues, "
    "with an educational grant from Pfizer Inc. No permission required to reproduce, "
    "translate, display or distribute."
)

FREQUENCY_OPTIONS = (
    AnswerOption(0, "Not at all", "LA6568-5"),
    AnswerOption(1, "Several days", "LA6569-3"),
    AnswerOption(2, "More than half the days", "LA6570-1"),
    AnswerOption(3, "Nearly every day", "LA6571-9"),
)

DIFFICULTY = Item(
    10,
    "If you checked off any problems, how difficult have these problems made it for you to "
    "do your work, take care of things at home, or get along with other people?",
    "69722-7",
)
# LOINC LL359-1: the last two codes are not in ascending order, on purpose.
DIFFICULTY_OPTIONS = (
    AnswerOption(0, "Not difficult at all", "LA6572-7"),
    AnswerOption(1, "Somewhat difficult", "LA6573-5"),
    AnswerOption(2, "Very difficult", "LA6575-0"),
    AnswerOption(3, "Extremely difficult", "LA6574-3"),
)

PHQ9 = Instrument(
    code="phq9",
    name="PHQ-9",
    title="Patient Health Questionnaire (PHQ-9)",
    instructions="",
    stem="Over the last 2 weeks, how often have you been bothered by any of the following "
    "problems?",
    recall="the last 2 weeks",
    items=(
        Item(1, "Little interest or pleasure in doing things", "44250-9"),
        Item(2, "Feeling down, depressed, or hopeless", "44255-8"),
        Item(3, "Trouble falling or staying asleep, or sleeping too much", "44259-0"),
        Item(4, "Feeling tired or having little energy", "44254-1"),
        Item(5, "Poor appetite or overeating", "44251-7"),
        Item(
            6,
            "Feeling bad about yourself — or that you are a failure or have let yourself or "
            "your family down",
            "44258-2",
        ),
        Item(
            7,
            "Trouble concentrating on things, such as reading the newspaper or watching television",
            "44252-5",
        ),
        Item(
            8,
            "Moving or speaking so slowly that other people could have noticed? Or the "
            "opposite — being so fidgety or restless that you have been moving around a lot "
            "more than usual",
            "44253-3",
        ),
        Item(
            9,
            "Thoughts that you would be better off dead or of hurting yourself in some way",
            "44260-8",
        ),
    ),
    options=FREQUENCY_OPTIONS,
    panel_loinc="44249-1",
    total_loinc="44261-6",
    bands=(
        Band(0, 4, "minimal", "Minimal", "Your answers suggest minimal or no depression."),
        Band(5, 9, "mild", "Mild", "Your answers suggest mild depression."),
        Band(10, 14, "moderate", "Moderate", "Your answers suggest moderate depression."),
        Band(
            15,
            19,
            "moderately_severe",
            "Moderately severe",
            "Your answers suggest moderately severe depression.",
        ),
        Band(20, 27, "severe", "Severe", "Your answers suggest severe depression."),
    ),
    attribution=PHQ_ATTRIBUTION,
    important_change=5,
    difficulty=DIFFICULTY,
    difficulty_options=DIFFICULTY_OPTIONS,
    self_harm_items=(9,),
)

GAD7 = Instrument(
    code="gad7",
    name="GAD-7",
    title="Generalized Anxiety Disorder scale (GAD-7)",
    instructions="",
    stem="Over the last 2 weeks, how often have you been bothered by the following problems?",
    recall="the last 2 weeks",
    items=(
        Item(1, "Feeling nervous, anxious, or on edge", "69725-0"),
        Item(2, "Not being able to stop or control worrying", "68509-9"),
        Item(3, "Worrying too much about different things", "69733-4"),
        Item(4, "Trouble relaxing", "69734-2"),
        Item(5, "Being so restless that it is hard to sit still", "69735-9"),
        Item(6, "Becoming easily annoyed or irritable", "69689-8"),
        Item(7, "Feeling afraid, as if something awful might happen", "69736-7"),
    ),
    options=FREQUENCY_OPTIONS,
    panel_loinc="69737-5",
    total_loinc="70274-6",
    bands=(
        Band(0, 4, "minimal", "Minimal", "Your answers suggest minimal anxiety."),
        Band(5, 9, "mild", "Mild", "Your answers suggest mild anxiety."),
        Band(10, 14, "moderate", "Moderate", "Your answers suggest moderate anxiety."),
        Band(15, 21, "severe", "Severe", "Your answers suggest severe anxiety."),
    ),
    attribution=PHQ_ATTRIBUTION,
    important_change=4,
    difficulty=DIFFICULTY,
    difficulty_options=DIFFICULTY_OPTIONS,
)

STRESSFUL = "the stressful experience"
PCL5 = Instrument(
    code="pcl5",
    name="PCL-5",
    title="PTSD Checklist for DSM-5 (PCL-5)",
    instructions="Below is a list of problems that people sometimes have in response to a very "
    "stressful experience. Please read each problem carefully and then choose one of the "
    "answers to indicate how much you have been bothered by that problem in the past month.",
    stem="In the past month, how much were you bothered by:",
    recall="the past month",
    items=(
        Item(1, f"Repeated, disturbing, and unwanted memories of {STRESSFUL}?", cluster="B"),
        Item(2, f"Repeated, disturbing dreams of {STRESSFUL}?", cluster="B"),
        Item(
            3,
            f"Suddenly feeling or acting as if {STRESSFUL} were actually happening again (as if "
            "you were actually back there reliving it)?",
            cluster="B",
        ),
        Item(4, f"Feeling very upset when something reminded you of {STRESSFUL}?", cluster="B"),
        Item(
            5,
            f"Having strong physical reactions when something reminded you of {STRESSFUL} (for "
            "example, heart pounding, trouble breathing, sweating)?",
            cluster="B",
        ),
        Item(6, f"Avoiding memories, thoughts, or feelings related to {STRESSFUL}?", cluster="C"),
        Item(
            7,
            f"Avoiding external reminders of {STRESSFUL} (for example, people, places, "
            "conversations, activities, objects, or situations)?",
            cluster="C",
        ),
        Item(8, f"Trouble remembering important parts of {STRESSFUL}?", cluster="D"),
        Item(
            9,
            "Having strong negative beliefs about yourself, other people, or the world (for "
            "example, having thoughts such as: I am bad, there is something seriously wrong "
            "with me, no one can be trusted, the world is completely dangerous)?",
            cluster="D",
        ),
        Item(
            10,
            f"Blaming yourself or someone else for {STRESSFUL} or what happened after it?",
            cluster="D",
        ),
        Item(
            11,
            "Having strong negative feelings such as fear, horror, anger, guilt, or shame?",
            cluster="D",
        ),
        Item(12, "Loss of interest in activities that you used to enjoy?", cluster="D"),
        Item(13, "Feeling distant or cut off from other people?", cluster="D"),
        Item(
            14,
            "Trouble experiencing positive feelings (for example, being unable to feel "
            "happiness or have loving feelings for people close to you)?",
            cluster="D",
        ),
        Item(15, "Irritable behavior, angry outbursts, or acting aggressively?", cluster="E"),
        Item(16, "Taking too many risks or doing things that could cause you harm?", cluster="E"),
        Item(17, 'Being "superalert" or watchful or on guard?', cluster="E"),
        Item(18, "Feeling jumpy or easily startled?", cluster="E"),
        Item(19, "Having difficulty concentrating?", cluster="E"),
        Item(20, "Trouble falling or staying asleep?", cluster="E"),
    ),
    options=(
        AnswerOption(0, "Not at all"),
        AnswerOption(1, "A little bit"),
        AnswerOption(2, "Moderately"),
        AnswerOption(3, "Quite a bit"),
        AnswerOption(4, "Extremely"),
    ),
    panel_loinc="101697-1",
    total_loinc="101698-9",
    # PCL-5 has no official severity bands: below / at or above the clinic's probable-PTSD
    # cut-off (VA: 31-33). These are the bands for the default cut-off of 33.
    bands=(),
    attribution="PTSD Checklist for DSM-5 (PCL-5), developed by the VA National Center for "
    "PTSD. A U.S. Government work in the public domain.",
    important_change=10,
)

INSTRUMENTS: dict[str, Instrument] = {i.code: i for i in (PHQ9, GAD7, PCL5)}

# Which questionnaires a patient is offered, by the conditions being treated.
INSTRUMENTS_BY_CONDITION = {"depression": "phq9", "anxiety": "gad7", "ptsd": "pcl5"}

PCL5_DEFAULT_CUTOFF = 33


def pcl5_bands(cutoff: int = PCL5_DEFAULT_CUTOFF) -> tuple[Band, ...]:
    """PCL-5 bands around a clinic-set probable-PTSD cut-off."""
    return (
        Band(
            0,
            cutoff - 1,
            "below_cutoff",
            "Below the PTSD threshold",
            "Your answers are below the level that suggests probable PTSD.",
        ),
        Band(
            cutoff,
            80,
            "probable_ptsd",
            "Probable PTSD",
            "Your answers are at a level that suggests probable PTSD.",
        ),
    )
