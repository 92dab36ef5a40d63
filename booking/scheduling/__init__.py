"""When consults can happen: weekly hours and time off, the free times a patient sees, the
check of one chosen time, holds while a form is filled in, and the schedule version that keeps
every web process's cached free times right."""
