"""The small core every feature stands on: the models and their statuses, time, durations,
encryption, manage-link tokens, the audit trail, taking due rows for a worker, and the words
staff read for what happened."""
