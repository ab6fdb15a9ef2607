"""What matching tells people: the messages a coordinator or participant can act on (tests
assert on these) and the words for a broken rule. Emails go out through notifications.notify."""

from __future__ import annotations

MATCHING_NOT_OPEN = "Start matching on the cohort first: it is the cohort's next step."
RUN_IN_PROGRESS = "A matching run is already under way for this cohort; wait for it to finish."
RUN_NOT_FINISHED = "This run has not finished successfully."
RUN_ALREADY_PUBLISHED = "These matches are already published."
RUN_BEING_PUBLISHED = "This run is being published: its pairs can no longer change."
NOTHING_ACCEPTED = "Accept at least one pair before publishing."
SWAP_SAME_MENTOR = "That is already this mentee's mentor."
SWAP_NOT_A_MENTOR = "Choose an approved mentor of this cohort."
SWAP_BREAKS_RULE = "{mentor} cannot mentor {mentee}: {reason}."
MENTOR_FULL = "{mentor} has no place left."
SELF_SERVICE_OFF = "This program does not let mentees choose their mentor."
SELF_SERVICE_CLOSED = "Mentor requests open when the cohort is matching or active."
ALREADY_MATCHED = "You already have a mentor in this cohort."
REQUESTS_OPEN = "You already have requests waiting; withdraw them to choose again."
CHOOSE_ONE_TO_THREE = "Choose one to three mentors, in order of preference."
REQUEST_NOT_OPEN = "This request is no longer waiting for an answer."
NOT_YOUR_REQUEST = "Only the mentor asked can answer this request."
DECLINE_NEEDS_REASON = "Say why, briefly: the mentee will read it."
RELATIONSHIP_ALREADY_ENDED = "This relationship has already ended."
END_NEEDS_REASON = "Give a reason for ending early."
RUN_WORKER_LOST = (
    "This run stopped without finishing: the worker running it was lost (restarted, or out of "
    "memory), so nothing was stored. Start the run again; if it stops again, tell your "
    "administrator."
)

RULE_WORDS = {
    "same_person": "they are the same person",
    "reporting_chain": "they are in the same reporting chain",
    "past_partner": "they have been partners before",
    "excluded": "you excluded this pair",
    "language": "they share no language",
    "time_zone": "their time zones are too far apart",
    "level_direction": "their levels do not suit this kind of program",
}
