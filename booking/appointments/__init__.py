"""Consults from booking to the end: the booking's one transaction, moves, cancellations and
reassignments, corrected contact details, video links, the front desk's views and search, the
staff list and its export, and the waitlist for when no time suits."""
