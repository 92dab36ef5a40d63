"""The red-flag checklist's meaning: which answers make a booking urgent, and what a patient
with them is told to do. Pure functions of the answers, shared by the form, the pages and the
emails; the words themselves live in the templates."""

from __future__ import annotations

from dataclasses import dataclass

from . import choices

EMERGENCY_FLAGS = {value for value, _ in choices.RED_FLAGS_EMERGENCY}
CANCER_TEAM_FLAGS = {
    value for value, _ in [*choices.RED_FLAGS_CANCER_TEAM, *choices.RED_FLAGS_EARLIER]
}


@dataclass(frozen=True)
class Guidance:
    """What a patient with these red flags is told to do. ``urgent`` without either group is a
    booking made before the checklist, when one yes/no question stood for all of them."""

    urgent: bool
    emergency: bool
    cancer_team: bool  # call the cancer team now, day or night
    self_harm: bool


def guidance_for(codes: list[str], urgent: bool) -> Guidance:
    """One clear instruction per need: "call 112/108 now" already covers the same-day
    symptoms, and self-harm thoughts get the crisis line rather than "call your cancer team"."""
    ticked = set(codes)
    emergency = bool(ticked & EMERGENCY_FLAGS)
    self_harm = "self_harm" in ticked
    same_day = bool(ticked & CANCER_TEAM_FLAGS) or (urgent and not ticked)
    return Guidance(
        urgent=urgent,
        emergency=emergency,
        cancer_team=same_day and not emergency,
        self_harm=self_harm,
    )


# A booking made before the checklist answered one yes/no question about urgent symptoms.
BEFORE_CHECKLIST = {
    True: "Urgent (answered before the checklist)",
    False: "Not urgent (answered before the checklist)",
}


def is_urgent(codes: list[str]) -> bool:
    return bool(set(codes) & (EMERGENCY_FLAGS | CANCER_TEAM_FLAGS | {"self_harm"}))


def severity(guidance: Guidance, ticked: list[str]) -> tuple[int, str]:
    """How soon help is needed, for sorting the call-back list, and its words for staff."""
    if guidance.emergency:
        return 0, "Needs help now"
    if not ticked:
        return 1, BEFORE_CHECKLIST[True]
    needs = [
        words
        for needed, words in (
            (guidance.cancer_team, "Cancer team now"),
            (guidance.self_harm, "Self-harm thoughts"),
        )
        if needed
    ]
    return 1, "; ".join(needs)


def appointment_guidance(appointment) -> Guidance:
    """The guidance for a booking, from its stored (decrypted) checklist answers."""
    intake = appointment.intake
    return guidance_for(intake.red_flag_list if intake else [], appointment.urgent)
