"""What the clinic asks and what the answers mean: the booking form's and the questionnaire's
questions, their answer lists, dates of birth, the red-flag checklist and the urgent call-back
loop, the pre-visit question list, and the consultant's summary."""
