"""What the service says to people, and how it gets there: the emails and calendar files,
the outbox the worker sends from, the reminders, and the local mail sink."""
