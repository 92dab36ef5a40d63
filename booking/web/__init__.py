"""What both front doors share: form fields and cleaners, the booking form and the steps of
booking (the patient's pages and the desk's), the day-then-time picker, moving from a form,
error pages, security headers and the health check. The domain packages never import this."""
